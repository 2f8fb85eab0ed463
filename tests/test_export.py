"""CSV exports: formula cells neutralised (OWASP CSV injection), no server paths."""

from pathlib import Path

import pandas as pd
import pytest

from mmdemo.export import read_cell, results_table, safe_cell, write_csv
from mmdemo.search.engine import COLUMNS, SearchResults
from mmdemo.search.query import Query


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx"])
def test_formula_starts_get_a_quote_and_read_back(text: str) -> None:
    assert safe_cell(text) == "'" + text
    assert read_cell(safe_cell(text)) == text


@pytest.mark.parametrize("value", ["a dog", "'quoted", "", 3, -0.5, None])
def test_other_cells_are_left_alone(value: object) -> None:
    assert safe_cell(value) == value


def test_write_csv_neutralises_text_but_keeps_numbers(tmp_path: Path) -> None:
    table = pd.DataFrame({"=name": ["=cmd|' /C calc'!A0", "ok"], "score": [-0.25, 0.5]})
    path = write_csv(table, tmp_path / "t.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == ["'=name", "score"]
    assert back["'=name"].tolist() == ["'=cmd|' /C calc'!A0", "ok"]
    assert back["score"].tolist() == [-0.25, 0.5]


def test_results_table_records_the_setup_and_no_paths() -> None:
    row = dict.fromkeys(COLUMNS) | {"rank": 1, "id": "x", "file_name": "-a.png"}
    row |= {"path": "/srv/data/images/x.png", "caption": "@cap", "score": 0.9}
    results = SearchResults([row], {}, "lite", "lite")
    query = Query("a dog", "/tmp/gradio/abc/q.png", negative="cats")
    table = results_table(results, query)
    assert "path" not in table.columns
    record = dict(zip(table.columns, table.rows[0], strict=True))
    assert record["query_text"] == "a dog"
    assert record["query_image"] == "q.png"
    assert (record["negative"], record["model"], record["reranker"]) == ("cats", "lite", "lite")
    assert "/srv" not in str(table) and "/tmp" not in str(table)


def test_results_csv_is_the_results_table_as_pandas_writes_it(tmp_path: Path) -> None:
    rows = [
        dict.fromkeys(COLUMNS) | {"rank": 1, "id": "x", "file_name": "=x.png", "score": 0.5},
        dict.fromkeys(COLUMNS) | {"rank": 2, "id": "y", "caption": "a, b", "score": -0.25},
    ]
    for row, rerank in zip(rows, [(0.9, 2), (0.1, 1)], strict=True):
        row["rerank_score"], row["rank_before_rerank"] = rerank
    results = SearchResults(rows, {}, "lite", "lite")
    path = write_csv(results_table(results, Query("a dog")), tmp_path / "r.csv")
    expected = results.table.drop(columns=["path"]).assign(
        query_text="a dog", query_image="", negative="", model="lite", reranker="lite"
    )
    expected["file_name"] = expected["file_name"].map(safe_cell)
    assert path.read_text(encoding="utf-8") == expected.to_csv(index=False)


def test_write_csv_writes_what_pandas_writes(tmp_path: Path) -> None:
    table = pd.DataFrame(
        {
            "rank": [1, 2, 3],
            "caption": ['a "quoted", comma', "two\nlines", None],
            "score": [0.1, float("nan"), -1e-05],
            "rerank_score": [None, 0.30000000000000004, None],
            "flag": [True, False, True],
        }
    )
    path = write_csv(table, tmp_path / "t.csv")
    assert path.read_text(encoding="utf-8") == table.to_csv(index=False)
