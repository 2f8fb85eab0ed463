"""The typed ``/evaluate`` endpoint through gradio_client: JSON shape and clear errors."""

from __future__ import annotations

import csv

import pytest
from gradio_client import Client

from mmdemo.demos import PHOTOS_DIR
from mmdemo.evaluate.runner import COLUMNS

from helpers import WebApp


@pytest.fixture(scope="module")
def client(web_app: WebApp) -> Client:
    return Client(web_app.url, verbose=False)


def test_evaluate_endpoint_returns_table_chart_and_disagreements(client: Client) -> None:
    queries = [
        {"query": "a cup of coffee", "relevant": "coffee.jpg"},
        {"query": "a space rocket", "relevant": "rocket.jpg"},
        {"query": "a tabby cat", "relevant": "chelsea.jpg"},
    ]
    result = client.predict(
        collection="demo-photos",
        models=["lite"],
        rerankers=["none", "lite"],
        queries=queries,
        rerank_captions=False,
        api_name="/evaluate",
    )
    assert set(result) == {"note", "table", "chart", "setups", "disagreements"}
    assert result["note"] == ""  # inline queries are not captions
    assert [list(row) for row in result["table"]] == [COLUMNS, COLUMNS]
    assert [row["queries"] for row in result["table"]] == [3, 3]
    assert result["setups"] == ["lite + none", "lite + lite"]
    assert len(result["chart"]) == 2 * 5
    assert {row["setup"] for row in result["chart"]} == set(result["setups"])
    for row in result["disagreements"]:
        assert row["reciprocal_rank_a"] != row["reciprocal_rank_b"]
        assert len(row["top_a"]) == len(row["top_b"]) == 5


def test_evaluate_endpoint_from_captions_says_so(client: Client) -> None:
    result = client.predict(collection="demo-photos", models=["lite"], api_name="/evaluate")
    assert "captions" in result["note"]
    with (PHOTOS_DIR / "captions.csv").open(encoding="utf-8") as handle:
        captions = {row["caption"] for row in csv.DictReader(handle)}
    assert result["table"][0]["queries"] == len(captions)  # one query per distinct caption
    assert result["disagreements"] == []  # one set-up: nothing to compare


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"collection": "nowhere", "models": ["lite"]}, "'nowhere' does not exist"),
        ({"collection": "demo-photos", "models": []}, "at least one embedding model"),
        (
            {"collection": "demo-photos", "models": ["lite"], "queries": [{"query": "x"}]},
            "'relevant' column",
        ),
    ],
)
def test_evaluate_endpoint_errors_are_plain_sentences(
    client: Client, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(Exception, match=message):
        client.predict(**kwargs, api_name="/evaluate")


def test_bar_chart_groups_bars_by_metric_in_table_order() -> None:
    import pandas as pd

    from mmdemo.ui.tabs.evaluate import bar_chart

    metrics = ["recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"]
    table = pd.DataFrame(
        [
            {"model": "a", "reranker": "none", **dict.fromkeys(metrics, 0.25)},
            {"model": "b", "reranker": "lite", **dict.fromkeys(metrics, 0.75)},
        ]
    )
    chart = bar_chart(table)
    words = ["Recall@1", "Recall@5", "Recall@10", "MRR", "nDCG@10"]  # as the page names them
    assert list(chart["bar"]) == [f"{m} #{i}" for m in words for i in (1, 2)]
    assert set(chart["setup"]) == {"#1 a + none", "#2 b + lite"}
    assert list(chart["value"]) == [0.25, 0.75] * 5
