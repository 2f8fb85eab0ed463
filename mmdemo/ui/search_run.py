"""One search as a visitor asks it, shared by the Search tab and the public API: run it,
shape its results for the page, and the example queries of a collection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmdemo.errors import InputError
from mmdemo.export import results_table
from mmdemo.ingest.copies import image_path
from mmdemo.search.query import Query
from mmdemo.tenancy import Visitor
from mmdemo.ui.context import AppContext
from mmdemo.ui.search_view import results_html
from mmdemo.ui.shared import reranker_name, summary

if TYPE_CHECKING:
    from mmdemo.search.engine import SearchResults

SearchOutput = tuple[str, str, dict[str, Any] | None, str | None, list[dict[str, Any]]]


@dataclass(frozen=True)
class Found:
    """One search's results and what the page and the API send of them."""

    results: SearchResults
    query: Query
    records: list[dict[str, Any]]
    timings: str
    payload: dict[str, Any]
    csv_path: str


def find(
    ctx: AppContext,
    visitor: Visitor,
    text: str | None,
    image: str | None,
    weight: float,
    negative: str | None,
    negative_weight: float,
    contains: str | None,
    where: str | None,
    caption_weight: float,
    collection: str | None,
    model: str,
    reranker: str | None,
    top_k: float,
    exclude_id: str | None = None,
) -> Found:
    """Search as ``visitor``; the results, their JSON payload and a CSV to download.

    With ``exclude_id`` (find similar), that item is left out of the results.
    """
    from mmdemo.filters import parse_where
    from mmdemo.search.engine import search
    from mmdemo.search.similar import without_item

    if not collection:
        raise InputError("Choose a collection to search.")
    query = Query(
        text,
        image,
        weight,
        negative,
        negative_weight,
        contains or None,
        parse_where(where),
        caption_weight,
    )
    query.validate()
    ctx.require_ready(collection)
    ctx.check_model(model, "embedder")
    ctx.check_model(reranker_name(reranker), "reranker")
    results = search(
        query,
        collection=visitor.read(collection, ctx.store()),
        model=model,
        settings=ctx.settings,
        store=ctx.store(),
        reranker=reranker_name(reranker),
        top_k=int(top_k) + (1 if exclude_id else 0),
    )
    if exclude_id:
        results = without_item(results, exclude_id, int(top_k))
    records = results.to_json()["results"]
    timings, payload = summary(results, records)
    csv_path = ctx.write_csv(results_table(results, query), "search-results.csv")
    return Found(results, query, records, timings, payload, str(csv_path))


def page_outputs(ctx: AppContext, found: Found) -> SearchOutput:
    """A search as the page shows it: the results HTML, a timings line, JSON results, a CSV
    path and the result records (the API skips the HTML)."""
    html = results_html(found.results, found.query, ctx.settings)
    return html, found.timings, found.payload, found.csv_path, found.records


def example_inputs(ctx: AppContext, collection: str | None) -> list[dict[str, Any]]:
    """The example queries of a collection as {label, kind, text, image path} dicts,
    built from its items once per store change."""
    if not collection:
        return []
    return ctx.until_store_changes(("examples", collection), lambda: _examples(ctx, collection))


def _examples(ctx: AppContext, collection: str) -> list[dict[str, Any]]:
    from mmdemo.search.examples import example_queries

    if not ctx.store().models(collection):
        return []
    items = ctx.store().items(collection)
    metadata = dict(items)
    return [
        {
            "label": e.label,
            "kind": e.kind,
            "text": e.text,
            "image": str(image_path(ctx.settings, metadata[e.image_id])) if e.image_id else None,
        }
        for e in example_queries(items)
    ]
