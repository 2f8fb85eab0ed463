"""Evaluating: many queries through several set-ups, indexing missing models first."""

from __future__ import annotations

from typing import Any

import pandas as pd

from mmdemo.errors import InputError
from mmdemo.evaluate.runner import EvalQuery, EvalRun
from mmdemo.models import registry
from mmdemo.policy.limits import EVALUATE_MAX_QUERIES
from mmdemo.ui.context import AppContext, Progress
from mmdemo.ui.requests import EvaluateRequest

#: How many disagreeing queries the per-query views list.
SHOWN_QUERIES = 5
CAPTION_LEAK_NOTE = (
    "⚠ The queries are the collection's captions and the rerankers may read captions: "
    "they can match the text to itself, so reranked scores here overstate real quality."
)
CAPTION_SAFE_NOTE = (
    "Queries are the collection's captions; rerankers see only the images, so they "
    "cannot read the answer."
)


def evaluate(ctx: AppContext, request: EvaluateRequest, progress: Progress) -> tuple[EvalRun, str]:
    """Index what is missing, then evaluate the collection; returns the run and the note
    to show with it."""
    from mmdemo.evaluate.runner import run_evaluation

    stored = request.collection.stored
    if not ctx.store().models(stored):
        raise InputError(f"Collection {request.collection.name!r} does not exist.")
    models = list(dict.fromkeys(registry.resolve(m, "embedder").key for m in request.models))
    queries, note = _queries(ctx, request)
    _index_missing(ctx, request, models, progress)

    def report(done: int, total: int) -> None:
        progress((done, total), desc="Evaluating", unit="queries")

    found = run_evaluation(
        collection=stored,
        queries=queries,
        models=models,
        rerankers=list(request.rerankers),
        settings=ctx.settings,
        store=ctx.store(),
        rerank_captions=request.rerank_captions,
        progress=report,
    )
    return found, note


def _queries(ctx: AppContext, request: EvaluateRequest) -> tuple[list[EvalQuery], str]:
    """The queries to run (inline, a CSV, else the collection's captions, the first
    EVALUATE_MAX_QUERIES of them) and a note about captions when they come from those."""
    from mmdemo.evaluate.runner import parse_queries, queries_from_collection, read_queries

    if request.queries is not None:
        frame = pd.DataFrame(list(request.queries), dtype=str)
        if "query_image" in frame.columns:
            raise InputError("/evaluate takes text queries only: drop the 'query_image' column.")
        return parse_queries(frame, "The queries", ctx.settings.data_dir), ""
    if request.queries_csv:
        given = read_queries(request.queries_csv)
        ctx.policy.query_count(len(given))
        return given, ""
    queries = queries_from_collection(ctx.store(), request.collection.stored)
    rerankers = any(r is not None for r in request.rerankers)
    note = CAPTION_LEAK_NOTE if rerankers and request.rerank_captions else CAPTION_SAFE_NOTE
    if len(queries) > EVALUATE_MAX_QUERIES:
        note += f" The first {EVALUATE_MAX_QUERIES} of its {len(queries)} captions are queried."
    return queries[:EVALUATE_MAX_QUERIES], note


def _index_missing(
    ctx: AppContext, request: EvaluateRequest, models: list[str], progress: Progress
) -> None:
    """Index the collection with every chosen model it lacks, reporting progress; only a
    collection the visitor may change."""
    from mmdemo.ingest.indexer import index_existing

    stored = request.collection.stored
    missing = [m for m in models if not ctx.store().has_model(stored, m)]
    if missing:
        ctx.policy.writable("indexing with a new model")
        ctx.policy.collection(request.collection.name, "change", request.visitor)
    for model in missing:

        def report(done: int, total: int, model: str = model) -> None:
            progress((done, total), desc=f"Indexing with {model}", unit="images")

        index_existing(
            collection=stored,
            models=[model],
            settings=ctx.settings,
            store=ctx.store(),
            progress=report,
        )


def report(found: EvalRun, note: str) -> dict[str, Any]:
    """An evaluation as JSON: the table, chart rows and where the first two set-ups
    disagree most."""
    from mmdemo.evaluate.views import chart_data, disagreements

    setups = list(found.outcomes)
    a, b = setups[0], setups[min(1, len(setups) - 1)]
    return {
        "note": note,
        "table": found.table.to_dict("records"),
        "chart": chart_data(found.table).to_dict("records"),
        "setups": setups,
        "disagreements": [
            {
                "query": d.query.text,
                "relevant": sorted(d.query.relevant),
                "a": a,
                "b": b,
                "reciprocal_rank_a": d.score_a,
                "reciprocal_rank_b": d.score_b,
                "top_a": [name for _, name in d.top_a],
                "top_b": [name for _, name in d.top_b],
            }
            for d in (disagreements(found, a, b, SHOWN_QUERIES) if a != b else [])
        ],
    }
