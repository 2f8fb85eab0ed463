"""The evaluation runner behind ``python -m mmdemo eval``.

Reads a queries CSV (``query`` text and/or ``query_image`` path, ``relevant`` file names or
ids separated by ``|``), runs every query through the same search pipeline the app uses,
once per embedding model x reranker (no reranker included), and reports Recall@1/5/10,
MRR, nDCG@10 and mean query time (after an untimed warm-up query) as one pandas table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from mmdemo.config import Settings
from mmdemo.errors import InputError, NotFoundError
from mmdemo.evaluate.metrics import ndcg_at_k, recall_at_k, reciprocal_rank, summarise
from mmdemo.export import read_cell, write_csv
from mmdemo.ingest.captions import read_captions
from mmdemo.search.engine import SearchResults, search
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT
from mmdemo.search.query import Query
from mmdemo.store import Store

METRIC_COLUMNS = ["recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"]
COLUMNS = ["model", "reranker", *METRIC_COLUMNS, "queries", "ms_per_query"]
#: How many top results the per-query view keeps for each set-up.
TOP_SHOWN = 5
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class EvalQuery:
    """One benchmark query and the file names or ids that answer it."""

    text: str | None
    image: Path | None
    relevant: frozenset[str]


def _cell(row: pd.Series, column: str) -> str:
    value = row.get(column)
    return "" if value is None or pd.isna(value) else read_cell(str(value).strip())


def read_queries(csv_path: str | Path) -> list[EvalQuery]:
    """Parse a queries CSV; image paths are relative to the CSV's folder."""
    path = Path(csv_path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise InputError(f"Cannot read queries CSV {path}: {exc}") from exc
    return parse_queries(frame, f"Queries CSV {path}", path.parent)


def parse_queries(frame: pd.DataFrame, source: str, base: Path) -> list[EvalQuery]:
    """Queries from a table in the queries-CSV format; ``source`` names it in errors and
    image paths are relative to ``base``."""
    if "relevant" not in frame.columns or not {"query", "query_image"} & set(frame.columns):
        raise InputError(
            f"{source} needs a 'relevant' column and a 'query' or 'query_image' column."
        )
    queries = []
    for number, row in frame.reset_index(drop=True).iterrows():
        text, image = _cell(row, "query"), _cell(row, "query_image")
        relevant = frozenset(r.strip() for r in _cell(row, "relevant").split("|") if r.strip())
        if not (text or image) or not relevant:
            raise InputError(
                f"{source}, row {int(str(number)) + 2}: needs a query and relevant items."
            )
        queries.append(EvalQuery(text or None, base / image if image else None, relevant))
    if not queries:
        raise InputError(f"{source} has no queries.")
    return queries


def captions_to_queries(captions_csv: str | Path, out_csv: str | Path) -> int:
    """Turn a captions CSV into a queries CSV where each caption queries its own image.

    Returns the number of queries written; images without a caption are skipped.
    """
    rows = [
        {"query": meta["caption"], "relevant": name}
        for name, meta in read_captions(captions_csv).by_name.items()
        if str(meta.get("caption", "")).strip()
    ]
    write_csv(pd.DataFrame(rows, columns=["query", "relevant"]), out_csv)
    return len(rows)


def queries_from_collection(store: Store, collection: str) -> list[EvalQuery]:
    """Each captioned item of ``collection`` queries for itself with its caption."""
    queries = [
        EvalQuery(str(meta["caption"]).strip(), None, frozenset({item_id}))
        for item_id, meta in store.items(collection)
        if str(meta.get("caption") or "").strip()
    ]
    if not queries:
        raise InputError(f"Collection {collection!r} has no captions to make queries from.")
    return queries


@dataclass(frozen=True)
class QueryOutcome:
    """How one set-up answered one query: its metrics and its top results."""

    metrics: dict[str, float]
    top_ids: list[str]
    top_names: list[str]


@dataclass(frozen=True)
class EvalRun:
    """An evaluation: the metrics table and, per set-up, how each query went."""

    queries: list[EvalQuery]
    table: pd.DataFrame
    outcomes: dict[str, list[QueryOutcome]]


def setup_name(model: str, reranker: str | None) -> str:
    """How a set-up is named in charts and per-query views: ``model + reranker``."""
    return f"{model} + {reranker or 'none'}"


def _score_query(ranked: pd.DataFrame, relevant: frozenset[str]) -> dict[str, float]:
    """Metrics for one result list; an item matches by id or by file name."""
    hits = [
        item_id if item_id in relevant else name
        for item_id, name in zip(ranked["id"], ranked["file_name"], strict=True)
    ]
    return {
        "recall@1": recall_at_k(hits, relevant, 1),
        "recall@5": recall_at_k(hits, relevant, 5),
        "recall@10": recall_at_k(hits, relevant, 10),
        "mrr": reciprocal_rank(hits, relevant),
        "ndcg@10": ndcg_at_k(hits, relevant, 10),
    }


def _no_progress(done: int, total: int) -> None:
    """The default progress callback: report nothing."""


def _run_setup(
    queries: Sequence[EvalQuery],
    model: str,
    reranker: str | None,
    tick: Callable[[], None],
    **search_args: Any,
) -> tuple[dict[str, object], list[QueryOutcome]]:
    """One set-up's row and per-query outcomes. The first query runs once untimed before
    the timed pass: it loads the models and the store's vectors, a one-off cost that
    would otherwise make whichever set-up runs first look several times slower."""
    outcomes, total_ms = [], 0.0
    captions = bool(search_args["rerank_captions"])  # queries made of captions would leak
    weight, words = (CAPTION_WEIGHT, LEXICAL_WEIGHT) if captions else (0.0, 0.0)

    def ask(q: EvalQuery) -> SearchResults:
        query = Query(text=q.text, image=q.image, caption_weight=weight, lexical_weight=words)
        return search(query, model=model, reranker=reranker, **search_args)

    ask(queries[0])
    for q in queries:
        results = ask(q)
        top = results.table.head(TOP_SHOWN)
        outcomes.append(
            QueryOutcome(
                _score_query(results.table, q.relevant),
                [str(i) for i in top["id"]],
                [str(n) for n in top["file_name"]],
            )
        )
        total_ms += sum(results.timings_ms.values())
        tick()
    row = {
        "model": model,
        "reranker": reranker or "none",
        **{k: round(v, 4) for k, v in summarise([o.metrics for o in outcomes]).items()},
        "queries": len(queries),
        "ms_per_query": round(total_ms / len(queries), 2),
    }
    return row, outcomes


def run_evaluation(
    *,
    collection: str,
    queries: Sequence[EvalQuery],
    models: Sequence[str],
    rerankers: Sequence[str | None],
    settings: Settings,
    store: Store,
    top_k: int = 10,
    rerank_captions: bool = False,
    progress: Progress = _no_progress,
) -> EvalRun:
    """Run ``queries`` through every model x reranker (``None``: no reranking).

    ``progress(done, total)`` is called after each query of each set-up. Rerankers and
    hybrid retrieval see only the candidate images unless ``rerank_captions``: benchmark
    queries are often the captions themselves (see :func:`captions_to_queries`), and a
    model that reads them would match text to text and score a perfect, meaningless result.
    """
    if top_k < 10:
        raise InputError("top-k must be at least 10 to report Recall@10 and nDCG@10.")
    if not models:
        raise NotFoundError(f"Collection {collection!r} is not indexed with any model yet.")
    if not queries:
        raise InputError("There are no queries to evaluate.")
    search_args: dict[str, Any] = {
        "collection": collection,
        "settings": settings,
        "store": store,
        "top_k": top_k,
        "rerank_captions": rerank_captions,
    }
    setups = list(dict.fromkeys((m, r) for m in models for r in rerankers))
    total, done = len(setups) * len(queries), 0

    def tick() -> None:
        nonlocal done
        done += 1
        progress(done, total)

    rows, outcomes = [], {}
    for model, reranker in setups:
        row, outcomes[setup_name(model, reranker)] = _run_setup(
            queries, model, reranker, tick, **search_args
        )
        rows.append(row)
    return EvalRun(list(queries), pd.DataFrame(rows, columns=COLUMNS), outcomes)


def evaluate(
    *,
    collection: str,
    queries_csv: str | Path,
    models: Sequence[str],
    rerankers: Sequence[str],
    settings: Settings,
    store: Store,
    top_k: int = 10,
    rerank_captions: bool = False,
) -> pd.DataFrame:
    """One row per model x reranker (plus no reranker) with the retrieval metrics."""
    return run_evaluation(
        collection=collection,
        queries=read_queries(queries_csv),
        models=models,
        rerankers=[None, *rerankers],
        settings=settings,
        store=store,
        top_k=top_k,
        rerank_captions=rerank_captions,
    ).table
