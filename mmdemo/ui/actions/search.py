"""Searching: by text and/or image, find similar, example queries, the set-up note."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmdemo.errors import InputError, MMDemoError
from mmdemo.export import results_table
from mmdemo.ingest.copies import image_path
from mmdemo.ingest.images import load_image
from mmdemo.policy.rules import Target
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import SearchRequest, Setup, SimilarRequest
from mmdemo.ui.shared import as_plain_markdown, summary

if TYPE_CHECKING:
    from PIL import Image

    from mmdemo.search.engine import SearchResults
    from mmdemo.search.query import Query


@dataclass(frozen=True)
class Found:
    """One search's results and what the page and the API send of them."""

    results: SearchResults
    query: Query
    records: list[dict[str, Any]]
    timings: str
    payload: dict[str, Any]
    csv_path: str


def search(ctx: AppContext, request: SearchRequest) -> Found:
    """Search as the request's visitor; the results, their JSON payload and a CSV."""
    return run(ctx, request.setup, request.query())


def similar(
    ctx: AppContext, request: SimilarRequest, records: list[dict[str, Any]]
) -> tuple[Image.Image, Found]:
    """Search with the image of one shown result, that item left out; returns its picture
    for the query box (pixels: the page never gets the stored copy's server path)."""
    from mmdemo.search.query import Query

    if request.index >= len(records):
        raise InputError("That result is no longer shown: search again, then pick one.")
    record = records[request.index]
    query = Query(image=record["path"])
    found = run(ctx, request.setup, query, exclude_id=str(record["id"]))
    return load_image(record["path"]), found


def run(ctx: AppContext, setup: Setup, query: Query, exclude_id: str | None = None) -> Found:
    """One search of ``setup``; with ``exclude_id`` (find similar) that item left out."""
    from mmdemo.search.engine import search as run_search
    from mmdemo.search.similar import without_item

    results = run_search(
        query,
        collection=setup.collection.stored,
        model=setup.model,
        settings=ctx.settings.with_backend(setup.backend),
        store=ctx.store(),
        reranker=setup.reranker,
        top_k=setup.top_k + (1 if exclude_id else 0),
    )
    if exclude_id:
        results = without_item(results, exclude_id, setup.top_k)
    records = results.to_json()["results"]
    timings, payload = summary(results, records, ctx.settings)
    csv_path = ctx.write_csv(results_table(results, query), "search-results.csv")
    return Found(results, query, records, timings, payload, str(csv_path))


def examples(ctx: AppContext, target: Target) -> list[dict[str, Any]]:
    """The example queries of a collection as {label, kind, text, image, expected} dicts
    (``image``: the name of its item's stored copy; ``expected``: the file names it was made
    from), built from its items once per store change."""
    stored = target.stored
    return ctx.until_store_changes(("examples", stored), lambda: _examples(ctx, stored))


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
            "image": image_path(ctx.settings, metadata[e.image_id]).name if e.image_id else None,
            "expected": list(e.expected),
        }
        for e in example_queries(items)
    ]


def example_picture(ctx: AppContext, example: dict[str, Any]) -> Image.Image | None:
    """The picture of an example query for the query box, or None for a text example:
    pixels through the one decoder (orientation applied), never the stored copy's server
    path, which the page would show and gradio would have to be allowed to serve."""
    name = example.get("image")
    return load_image(ctx.settings.images_dir / Path(str(name)).name) if name else None


def starting_example(examples: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The example a tab's query starts from: the first text-only one, as {text, expected}
    (what the page keeps beside the query box), or None when there is none."""
    first = next((e for e in examples if e["text"] and not e["image"]), None)
    return None if first is None else {"text": first["text"], "expected": first["expected"]}


def setup_note(ctx: AppContext, target: Target | None, model: str) -> tuple[str, bool]:
    """What the set-up row says about ``model`` for the collection, and whether to offer
    indexing with it."""
    from mmdemo.models.registry import resolve

    if target is None or not model:
        return "", False
    collection = target.name
    try:
        key = resolve(model, "embedder").key
        indexed = ctx.store().models(target.stored)
    except MMDemoError as exc:
        return f"⚠ {as_plain_markdown(str(exc))}", False
    if key in ctx.bootstrap.status().unavailable:
        return (
            f"`{key}` cannot load here: the Hugging Face Hub is unreachable and it is not cached.",
            False,
        )
    if not indexed or key in indexed:
        return "", False
    if ctx.readonly:
        return (
            f"`{collection}` is not indexed with `{key}`, and this read-only demo cannot index "
            f"it: choose a model marked ✓ indexed.",
            False,
        )
    return f"`{collection}` is not indexed with `{key}` yet: index it to search with it.", True
