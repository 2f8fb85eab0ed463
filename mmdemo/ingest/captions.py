"""Captions CSVs: captions and metadata per file name, with every bad row reported.

A row with the wrong number of fields is reported and left out rather than shifted into
other columns; a caption over the configured length is reported and left out. Errors name
the file, never the folder it sits in (uploads live in server temp folders).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mmdemo.config import DEFAULT_LIMITS, Limits
from mmdemo.errors import InputError
from mmdemo.ingest.entries import Rejection
from mmdemo.records import MetadataValue

_FILE_NAME_COLUMNS = ("file_name", "filename", "file", "image", "path")
CAPTION_COLUMNS = ("caption", "text", "description")


@dataclass
class Captions:
    """Metadata per file base name, and the rows that were left out ("captions.csv line 4")."""

    by_name: dict[str, dict[str, MetadataValue]] = field(default_factory=dict)
    problems: list[Rejection] = field(default_factory=list)


def find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    """The first of ``candidates`` among ``columns``, matched in any case; None when absent."""
    by_name = {column.strip().lower(): column for column in columns}
    return next((by_name[name] for name in candidates if name in by_name), None)


def plain_value(value: Any) -> MetadataValue | None:
    """A CSV cell as a plain str/int/float/bool (what Chroma stores); None for empty cells."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool | int | float):
        return value
    text = str(value).strip()
    return text or None


def _base_name(value: Any) -> str | None:
    text = plain_value(value)
    if text is None:
        return None
    name = PurePosixPath(str(text).replace("\\", "/")).name
    return name or None


def _read_text(csv_path: Path) -> str:
    try:
        text = csv_path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"Captions file {csv_path.name} does not exist.") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"Captions file {csv_path.name} is not UTF-8 text.") from exc
    except OSError as exc:
        raise InputError(f"Captions file {csv_path.name} cannot be read.") from exc
    if not text.strip():
        raise InputError(f"Captions file {csv_path.name} is empty.")
    return text


def _well_formed(text: str, name: str, problems: list[Rejection]) -> tuple[list[str], str]:
    """The header and the rows whose field count matches it, as CSV text; others reported."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    out = io.StringIO()
    writer = csv.writer(out)
    try:
        header = next(reader)
        writer.writerow(header)
        for row in reader:
            if row and len(row) != len(header):
                problems.append(
                    Rejection(
                        f"{name} line {reader.line_num}",
                        f"malformed captions row ({len(row)} fields, expected {len(header)})",
                    )
                )
            elif row:
                writer.writerow(row)
    except csv.Error as exc:
        raise InputError(
            f"Captions file {name} cannot be read as CSV: {exc} (line {reader.line_num})."
        ) from exc
    return header, out.getvalue()


def _check_columns(columns: list[str], name: str) -> str:
    """The file-name column; refuse a CSV without one or with a reserved column name."""
    file_column = find_column(columns, _FILE_NAME_COLUMNS)
    if file_column is None:
        raise InputError(
            f"Captions file {name} has no file-name column: expected one of "
            f"{', '.join(_FILE_NAME_COLUMNS)} (found {', '.join(columns)})."
        )
    reserved = [c for c in columns if c.lower().startswith("chroma:")]
    if reserved:
        raise InputError(
            f"Captions file {name} has columns with reserved names ({', '.join(reserved)}): "
            "rename them; names starting with 'chroma:' belong to the database."
        )
    return file_column


def _row_metadata(row: dict[str, Any], caption_column: str | None) -> dict[str, MetadataValue]:
    metadata: dict[str, MetadataValue] = {}
    for column, cell in row.items():
        value = plain_value(cell)
        if value is None:
            continue
        if column == caption_column:
            metadata["caption"] = str(value)
        else:
            metadata[column.strip()] = value
    return metadata


def read_captions(csv_path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Captions:
    """Captions and metadata per file base name, from a CSV with a file-name column.

    The file-name column is the first of file_name, filename, file, image, path (any case);
    its values are reduced to base names so "imgs/a.jpg" joins the file "a.jpg". The first
    of caption, text, description becomes the key ``"caption"``; every other column is kept
    under its own name, typed (int, float, bool, str). Empty cells and pandas' index columns
    ("Unnamed: 0") are dropped. Rows with the wrong number of fields or a caption longer
    than ``limits.caption_chars`` are left out and listed in ``problems``. Raises
    :class:`InputError` when the CSV cannot be read, has no file-name column, or has a
    column the database reserves ("chroma:..."), before anything is indexed.
    """
    import pandas as pd

    csv_path = Path(csv_path)
    captions = Captions()
    columns, text = _well_formed(_read_text(csv_path), csv_path.name, captions.problems)
    file_column = _check_columns(columns, csv_path.name)
    # Read file names as text so that "001.jpg"-style names and "007" keep their zeros.
    table = pd.read_csv(io.StringIO(text), dtype={file_column: str}, keep_default_na=True)
    caption_column = find_column(columns, CAPTION_COLUMNS)
    kept = [c for c in columns if c != file_column and not c.startswith("Unnamed: ")]
    for row in table.to_dict("records"):
        name = _base_name(row[file_column])
        if name is None:
            continue
        metadata = _row_metadata({c: row[c] for c in kept}, caption_column)
        length = len(str(metadata.get("caption", "")))
        if length > limits.caption_chars:
            captions.problems.append(
                Rejection(
                    f"{csv_path.name} row for {name}",
                    f"caption too long ({length:,} characters > {limits.caption_chars:,})",
                )
            )
            continue
        captions.by_name[name] = metadata
    return captions
