"""CSV exports: the one writer every table a user downloads or saves goes through.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as
a formula by spreadsheet programs, so a planted caption or file name could run one on the
reader's machine (OWASP "CSV injection"). Such text cells get a leading ``'``, which the
spreadsheet shows as plain text. Numbers stay numbers: a negative score is not text.
Result exports hold no server paths: the file name identifies an image.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pandas as pd

from mmdemo.errors import InputError

if TYPE_CHECKING:
    from mmdemo.search.engine import SearchResults
    from mmdemo.search.query import Query

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: Result columns that name where a file lives on the server: never exported.
SERVER_COLUMNS = ("path",)


def safe_cell(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def read_cell(value: str) -> str:
    """Undo :func:`safe_cell` on text read back from one of our CSVs (e.g. a queries CSV)."""
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _csv_cell(value: Any) -> Any:
    """A value as the CSV writes it: missing values empty, lists joined by commas,
    formula-like text neutralised."""
    if value is None or value is pd.NA or value is pd.NaT:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    if isinstance(value, list | tuple):  # e.g. the words a result matched
        return safe_cell(", ".join(str(part) for part in value))
    return safe_cell(value)


class Rows(NamedTuple):
    """A table as plain column names and rows, for tables that never need pandas."""

    columns: list[str]
    rows: list[list[Any]]


def write_csv(table: pd.DataFrame | Rows, path: str | Path) -> Path:
    """Write ``table`` to ``path`` with every text cell (and header) neutralised.

    Written row by row with the csv module, as pandas' ``to_csv`` writes it (missing values
    empty, ``\\n`` line ends): a results table is a few rows, and the pandas path cost a
    search more than its store lookup.
    """
    if isinstance(table, pd.DataFrame):
        columns, rows = list(table.columns), table.itertuples(index=False, name=None)
    else:
        columns, rows = table.columns, iter(table.rows)
    target = Path(path)
    try:
        with target.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow([safe_cell(str(name)) for name in columns])
            for row in rows:
                writer.writerow([_csv_cell(value) for value in row])
    except OSError as exc:
        raise InputError(f"Cannot write {target.name}: {exc.strerror or exc}.") from exc
    return target


def describe_query(query: Query) -> dict[str, Any]:
    """The query as export columns: its text, image file name (not path) and negative.

    An in-memory image has no name and leaves ``query_image`` empty.
    """
    image = query.image
    return {
        "query_text": query.text or "",
        "query_image": Path(image).name if isinstance(image, (str, Path)) else "",
        "negative": query.negative or "",
    }


def results_table(results: SearchResults, query: Query) -> Rows:
    """A results table to export: query, model and reranker on every row, no server paths."""
    from mmdemo.search.engine import COLUMNS  # loaded already: ``results`` came from it

    context = {
        **describe_query(query),
        "model": results.model,
        "reranker": results.reranker or "none",
    }
    kept = [name for name in COLUMNS if name not in SERVER_COLUMNS]
    rows = [[row[name] for name in kept] + list(context.values()) for row in results.rows]
    return Rows(kept + list(context), rows)
