"""The typed ``/evaluate`` API endpoint: the Evaluate tab's work for API clients.

Queries are given inline as rows (``{"query", "relevant"}``) or, by default, made from the
collection's captions. The result is plain JSON: the metrics table, the chart rows and
the queries where the first two set-ups disagree most.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import gradio as gr
import pandas as pd

from mmdemo.errors import InputError
from mmdemo.tenancy import Visitor
from mmdemo.ui.context import POOLED, AppContext
from mmdemo.ui.evaluate_tab import SHOWN_QUERIES, checked_request, run
from mmdemo.ui.shared import NO_RERANKER, shows_errors


def evaluate_api(
    ctx: AppContext,
    visitor: Visitor,
    collection: str,
    models: list[str],
    rerankers: list[str],
    queries: list[dict[str, str]] | None,
    rerank_captions: bool,
) -> dict[str, Any]:
    """The ``/evaluate`` endpoint's work: the table, chart rows and top disagreements."""
    from mmdemo.evaluate.runner import parse_queries
    from mmdemo.evaluate.views import chart_data, disagreements

    request = checked_request(collection, models, rerankers or [NO_RERANKER], None, rerank_captions)
    if queries:
        frame = pd.DataFrame(queries, dtype=str)
        if "query_image" in frame.columns:
            raise InputError("/evaluate takes text queries only: drop the 'query_image' column.")
        rows = parse_queries(frame, "The queries", ctx.settings.data_dir)
        request = dataclasses.replace(request, queries=rows)
    found, note = run(ctx, visitor, request, lambda *args, **kwargs: None)
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


def register_api(ctx: AppContext) -> None:
    """Register the typed ``/evaluate`` endpoint (inside the app's Blocks)."""

    @shows_errors
    def evaluate(
        collection: str,
        models: list[str],
        rerankers: list[str] | None = None,
        queries: list[dict[str, str]] | None = None,
        rerank_captions: bool = False,
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Measure set-ups (embedding model x reranker) over many queries.

        Args:
            collection: the collection to evaluate on
            models: embedding models; ones the collection lacks are indexed first
            rerankers: rerankers to try, "none" for no reranking (default: none only)
            queries: rows {"query": text, "relevant": "a.jpg|b.jpg"}; default: each
                captioned image queried with its own caption
            rerank_captions: let rerankers read captions (leaks the answer for caption queries)
        Returns:
            {"note", "table", "chart", "setups", "disagreements"} (see README)
        """
        visitor = ctx.visitor(request.session_hash if request is not None else None)
        return evaluate_api(
            ctx, visitor, collection, models, rerankers or [], queries, rerank_captions
        )

    gr.api(evaluate, api_name="evaluate", **POOLED)
