"""The eval runner and the captions -> queries helper (metric arithmetic: test_metrics.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.evaluate.runner import (
    COLUMNS,
    EvalQuery,
    EvalRun,
    QueryOutcome,
    captions_to_queries,
    queries_from_collection,
    read_queries,
    run_evaluation,
    setup_name,
)
from mmdemo.evaluate.views import chart_data, disagreements
from mmdemo.search.engine import search
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT
from mmdemo.search.query import Query
from mmdemo.store import Store

from helpers import COLOURS, write_images


@pytest.fixture
def collection(tmp_path: Path, tiny_clip_dir: Path) -> Path:
    """A captioned colour collection indexed with the tiny CLIP; returns the data dir."""
    folder = write_images(tmp_path / "photos", COLOURS)
    captions = tmp_path / "captions.csv"
    pd.DataFrame(
        {"file_name": list(COLOURS), "caption": [f"{n[:-4]} square" for n in COLOURS]}
    ).to_csv(captions, index=False)
    data = tmp_path / "data"
    args = ["index", str(folder), "--collection", "ev", "--model", str(tiny_clip_dir)]
    assert main([*args, "--captions", str(captions), "--data-dir", str(data)]) == 0
    return data


def test_image_queries_find_their_own_image(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    collection: Path,
    tiny_clip_dir: Path,
    tiny_reranker_dir: Path,
) -> None:
    data = collection
    queries = tmp_path / "queries.csv"
    pd.DataFrame(
        {
            "query_image": [f"photos/{name}" for name in COLOURS],
            "relevant": list(COLOURS),
        }
    ).to_csv(queries, index=False)
    capsys.readouterr()
    args = ["eval", "--collection", "ev", "--queries", str(queries), "--model", str(tiny_clip_dir)]
    assert main([*args, "--rerank", str(tiny_reranker_dir), "--data-dir", str(data), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [list(r) for r in rows] == [COLUMNS, COLUMNS]
    plain, reranked = rows
    assert (plain["reranker"], reranked["reranker"]) == ("none", str(tiny_reranker_dir))
    assert plain["recall@1"] == plain["mrr"] == plain["ndcg@10"] == 1.0
    assert plain["queries"] == reranked["queries"] == len(COLOURS)
    assert plain["ms_per_query"] > 0
    # The reranked row must be the mean over queries of where each own image landed.
    settings = Settings(data_dir=data, device="cpu")
    positions = []
    for name in COLOURS:
        results = search(
            Query(image=tmp_path / "photos" / name),
            collection="ev",
            model=str(tiny_clip_dir),
            settings=settings,
            store=Store(settings),
            reranker=str(tiny_reranker_dir),
            rerank_captions=False,
        )
        positions.append(list(results.table["file_name"]).index(name) + 1)
    assert reranked["mrr"] == pytest.approx(np.mean([1 / p for p in positions]), abs=1e-4)
    assert reranked["recall@1"] == pytest.approx(np.mean([p == 1 for p in positions]), abs=1e-4)
    assert reranked["ndcg@10"] == pytest.approx(
        np.mean([1 / np.log2(p + 1) for p in positions]), abs=1e-4
    )


def test_captions_become_queries_that_score(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    collection: Path,
    tiny_clip_dir: Path,
) -> None:
    data = collection
    out = tmp_path / "q.csv"
    assert captions_to_queries(tmp_path / "captions.csv", out) == len(COLOURS)
    parsed = read_queries(out)
    assert parsed[0].text == "red square" and parsed[0].relevant == frozenset({"red.png"})
    capsys.readouterr()
    saved = tmp_path / "eval.csv"
    args = ["eval", "--collection", "ev", "--queries", str(out), "--data-dir", str(data)]
    assert main([*args, "--out", str(saved)]) == 0
    table = capsys.readouterr().out
    assert "recall@10" in table and str(tiny_clip_dir) in table  # every indexed model by default
    rows = pd.read_csv(saved).to_dict("records")
    assert [(row["model"], row["reranker"]) for row in rows] == [(str(tiny_clip_dir), "none")]


@pytest.mark.parametrize(("flag", "expected"), [([], False), (["--rerank-captions"], True)])
def test_eval_hides_captions_from_rerankers_unless_asked(
    tmp_path: Path,
    collection: Path,
    tiny_reranker_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    flag: list[str],
    expected: bool,
) -> None:
    from mmdemo.evaluate import runner

    seen: list[tuple[bool, float]] = []
    real_search = runner.search

    def spy(*args: Any, **kwargs: Any) -> Any:
        # Queries made of captions see no caption text unless asked: neither the reranker
        # nor the words matched in it.
        seen.append((kwargs["rerank_captions"], args[0].lexical_weight))
        return real_search(*args, **kwargs)

    monkeypatch.setattr(runner, "search", spy)
    out = tmp_path / "q.csv"
    captions_to_queries(tmp_path / "captions.csv", out)
    args = ["eval", "--collection", "ev", "--queries", str(out), "--data-dir", str(collection)]
    assert main([*args, "--rerank", str(tiny_reranker_dir), *flag]) == 0
    assert seen and set(seen) == {(expected, LEXICAL_WEIGHT if expected else 0.0)}


def test_eval_of_unknown_collection_fails_clearly(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    queries = tmp_path / "q.csv"
    queries.write_text("query,relevant\ncat,cat.png\n")
    assert main(["eval", "--collection", "nowhere", "--queries", str(queries)]) == 1
    assert "'nowhere' is not indexed with any model" in capsys.readouterr().err


def test_queries_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    captions = tmp_path / "c.csv"
    captions.write_text("file_name,caption\na.png,a dog\nb.png,\n")
    out = tmp_path / "q.csv"
    assert main(["queries", "--captions", str(captions), "--out", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"queries": 1, "out": str(out)}
    assert out.read_text().splitlines() == ["query,relevant", "a dog,a.png"]
    missing = tmp_path / "no" / "such" / "folder" / "q.csv"
    assert main(["queries", "--captions", str(captions), "--out", str(missing)]) == 1
    assert capsys.readouterr().err.startswith("error: Cannot write q.csv")


def test_queries_csv_neutralises_formula_captions_and_reads_them_back(tmp_path: Path) -> None:
    captions = tmp_path / "c.csv"
    captions.write_text('file_name,caption\na.png,"=HYPERLINK(""http://x"")"\nb.png,-a dog\n')
    out = tmp_path / "q.csv"
    assert main(["queries", "--captions", str(captions), "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    assert lines[1] == '"\'=HYPERLINK(""http://x"")",a.png'
    assert lines[2] == "'-a dog,b.png"
    assert [q.text for q in read_queries(out)] == ['=HYPERLINK("http://x")', "-a dog"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("query\ncat\n", "relevant"),
        ("query,relevant\ncat,\n", "row 2"),
        ("query,relevant\n", "no queries"),
    ],
)
def test_bad_queries_csv(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "q.csv"
    path.write_text(content)
    with pytest.raises(InputError, match=message):
        read_queries(path)


def test_multiple_relevant_and_ids(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text("query,query_image,relevant\ncats,,a.png| b.png |abc123\n,img.png,x.png\n")
    first, second = read_queries(path)
    assert first.relevant == frozenset({"a.png", "b.png", "abc123"}) and first.image is None
    assert second.text is None and second.image == tmp_path / "img.png"


def test_run_evaluation_keeps_per_query_outcomes_and_chart_data(
    collection: Path, tiny_clip_dir: Path, tiny_reranker_dir: Path
) -> None:
    settings = Settings(data_dir=collection, device="cpu")
    store = Store(settings)
    queries = queries_from_collection(store, "ev")
    assert sorted(q.text or "" for q in queries) == sorted(f"{n[:-4]} square" for n in COLOURS)
    calls: list[tuple[int, int]] = []
    run = run_evaluation(
        collection="ev",
        queries=queries,
        models=[str(tiny_clip_dir)],
        rerankers=[None, str(tiny_reranker_dir)],
        settings=settings,
        store=store,
        progress=lambda done, total: calls.append((done, total)),
    )
    total = 2 * len(COLOURS)
    assert calls == [(i, total) for i in range(1, total + 1)]
    plain = setup_name(str(tiny_clip_dir), None)
    assert list(run.outcomes) == [plain, setup_name(str(tiny_clip_dir), str(tiny_reranker_dir))]
    for row, outcomes in zip(run.table.to_dict("records"), run.outcomes.values(), strict=True):
        assert len(outcomes) == len(COLOURS)
        assert all(len(o.top_ids) == 5 for o in outcomes)
        assert row["mrr"] == pytest.approx(np.mean([o.metrics["mrr"] for o in outcomes]), abs=1e-4)
    chart = chart_data(run.table)
    assert list(chart.columns) == ["setup", "metric", "value"] and len(chart) == 2 * 5
    mrr = chart[(chart.setup == plain) & (chart.metric == "mrr")]["value"].item()
    assert mrr == run.table.loc[0, "mrr"]


def test_disagreements_rank_queries_by_reciprocal_rank_gap() -> None:
    def outcome(rr: float, name: str) -> QueryOutcome:
        return QueryOutcome({"mrr": rr}, [f"id-{name}"], [name])

    queries = [EvalQuery(f"q{i}", None, frozenset({f"q{i}.png"})) for i in range(4)]
    run = EvalRun(
        queries,
        pd.DataFrame(),
        {
            "A": [outcome(1.0, "a0"), outcome(0.5, "a1"), outcome(1.0, "a2"), outcome(0.2, "a3")],
            "B": [outcome(1.0, "b0"), outcome(1.0, "b1"), outcome(0.1, "b2"), outcome(0.25, "b3")],
        },
    )
    found = disagreements(run, "A", "B")
    assert [(d.query.text, round(d.gap, 2)) for d in found] == [
        ("q2", 0.9),
        ("q1", -0.5),
        ("q3", -0.05),
    ]
    assert found[0].top_a == [("id-a2", "a2")] and found[0].top_b == [("id-b2", "b2")]
    assert [d.query.text for d in disagreements(run, "A", "B", limit=1)] == ["q2"]
    with pytest.raises(InputError, match="'C'"):
        disagreements(run, "A", "C")


def test_each_set_up_warms_up_untimed_before_its_queries_are_timed(
    collection: Path, tiny_clip_dir: Path, tiny_reranker_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first search of each set-up (model loads, vectors read) is not in ms per query."""
    from mmdemo.evaluate import runner

    real_search = runner.search
    calls: dict[str | None, int] = {}

    def slow_first(*args: Any, **kwargs: Any) -> Any:
        results = real_search(*args, **kwargs)
        key = kwargs["reranker"]
        calls[key] = calls.get(key, 0) + 1
        cost = 4000.0 if calls[key] == 1 else 10.0
        results.timings_ms = {"embed": cost / 2, "search": cost / 2}
        return results

    monkeypatch.setattr(runner, "search", slow_first)
    settings = Settings(data_dir=collection, device="cpu")
    store = Store(settings)
    queries = queries_from_collection(store, "ev")
    run = run_evaluation(
        collection="ev",
        queries=queries,
        models=[str(tiny_clip_dir)],
        rerankers=[None, str(tiny_reranker_dir)],
        settings=settings,
        store=store,
    )
    assert calls == {None: len(queries) + 1, str(tiny_reranker_dir): len(queries) + 1}
    assert list(run.table["ms_per_query"]) == [10.0, 10.0]


def test_the_metrics_table_names_metrics_in_words_and_marks_each_best_value() -> None:
    from mmdemo.evaluate.views import BEST_MARK, BEST_STYLE, metrics_view

    table = pd.DataFrame(
        [
            ["lite", "none", 0.5, 0.8, 0.9, 0.6, 0.7, 10, 12.34],
            ["lite", "lite", 0.6, 0.8, 0.95, 0.65, 0.72, 10, 40.1],
        ],
        columns=COLUMNS,
    )
    styler = metrics_view(table)
    assert list(styler.data.columns) == [
        "Model",
        "Reranker",
        "Recall@1",
        "Recall@5",
        "Recall@10",
        "MRR",
        "nDCG@10",
        "Queries",
        "ms per query",
    ]
    import gradio as gr

    shown = gr.Dataframe(interactive=False).postprocess(styler).metadata
    assert shown is not None
    assert shown["display_value"] == [
        ["lite", "none", "0.500", "★ 0.800", "0.900", "0.600", "0.700", "10", "★ 12.3"],
        ["lite", "lite", "★ 0.600", "★ 0.800", "★ 0.950", "★ 0.650", "★ 0.720", "10", "40.1"],
    ]  # Recall@5 ties: both rows starred; the fastest is the lowest ms per query
    starred = [[cell.startswith(BEST_MARK) for cell in row] for row in shown["display_value"]]
    assert [[style == BEST_STYLE for style in row] for row in shown["styling"]] == starred
    alone = metrics_view(table.head(1)).to_html()
    assert BEST_MARK not in alone and "0.500" in alone


def test_the_default_pair_differs_whenever_two_set_ups_ran() -> None:
    from mmdemo.evaluate.views import default_pair

    assert default_pair(["lite + none", "lite + lite", "x + none"]) == (
        "lite + none",
        "lite + lite",
    )
    assert default_pair(["lite + none"]) == ("lite + none", "lite + none")
    with pytest.raises(InputError):
        default_pair([])
