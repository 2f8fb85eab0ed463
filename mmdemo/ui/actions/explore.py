"""Looking over a collection: its map, what is near a point of it, its near-duplicates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmdemo.errors import InputError, NotFoundError
from mmdemo.models import registry
from mmdemo.policy.rules import Target
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import (
    NOTHING_FOUND,
    DuplicatesDeleteRequest,
    DuplicatesRequest,
    MapRequest,
    MapSimilarRequest,
)

if TYPE_CHECKING:
    from mmdemo.evaluate.collection_map import CollectionMap
    from mmdemo.search.engine import SearchResults

#: How many of a selected point's nearest items are ringed on the map.
HIGHLIGHTED = 5


@dataclass(frozen=True)
class Mapped:
    """A map with what to mark on it: ringed item ids, a star, and a line about it."""

    found: CollectionMap
    ringed: set[str]
    marker: tuple[float, float] | None
    lead: str = ""


def _map(ctx: AppContext, target: Target, model: str) -> CollectionMap:
    """The (cached) map of a collection under one model."""
    from mmdemo.evaluate.collection_map import collection_map

    key = registry.resolve(model, "embedder").key
    if not ctx.store().models(target.stored):
        raise NotFoundError(f"Collection {target.name!r} does not exist.")
    return collection_map(ctx.store(), ctx.settings, target.stored, key)


def map_query(ctx: AppContext, request: MapRequest) -> Mapped:
    """The map; with a text query, its marker and its top-k ringed."""
    from mmdemo.evaluate.collection_map import query_overlay

    found = _map(ctx, request.collection, request.model)
    text = request.text
    if not text.strip():
        return Mapped(found, set(), None)
    hits, marker = query_overlay(found, ctx.store(), ctx.settings, text, request.top_k)
    return Mapped(
        found, {h.id for h in hits}, marker, f"★ “{text}”: its top {len(hits)} are ringed"
    )


def map_similar(
    ctx: AppContext, request: MapSimilarRequest, shown: list[str]
) -> tuple[Mapped, SearchResults]:
    """The map with the items most similar to the selected point ringed, and those items.

    ``shown`` are the item ids of the map the page shows, in point order (kept by the
    server: the page names a point by its number only).
    """
    from mmdemo.ingest.copies import image_path
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query

    point = request.point
    if point is None or point >= len(shown):
        raise InputError("Click a picture on the map first, then ask for similar images.")
    found = _map(ctx, request.collection, request.model)
    item_id = shown[point]
    metadata = dict(ctx.store().items(found.collection)).get(item_id)
    if metadata is None or found.position(item_id) is None:
        raise InputError("That picture is no longer in the collection: show the map again.")
    results = search(
        Query(image=image_path(ctx.settings, metadata)),
        collection=found.collection,
        model=found.model,
        settings=ctx.settings,
        store=ctx.store(),
        top_k=HIGHLIGHTED,
    )
    ringed = {str(row["id"]) for row in results.rows}
    return Mapped(found, ringed, None), results


def duplicates(ctx: AppContext, request: DuplicatesRequest) -> dict[str, Any]:
    """The near-duplicate groups of a collection, as JSON naming it as the caller does."""
    return _groups(ctx, request.collection, request.threshold)


def _groups(ctx: AppContext, target: Target, threshold: float) -> dict[str, Any]:
    from mmdemo.evaluate.duplicates import describe, find_duplicates
    from mmdemo.search.engine import indexed_model

    store = ctx.store()
    model = indexed_model(store, target.stored)
    found = find_duplicates(store, target.stored, model, threshold)
    groups = describe(found, dict(store.items(target.stored)))
    return {"collection": target.name, "model": model, "threshold": threshold, "groups": groups}


def delete_duplicates(
    ctx: AppContext, request: DuplicatesDeleteRequest, found: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Delete all but the first item of each group ``found`` last; returns how many went
    and the groups found afresh."""
    from mmdemo import manage

    if not found.get("groups"):
        raise InputError(NOTHING_FOUND)
    extra = [item["id"] for group in found["groups"] for item in group["items"][1:]]
    stored = request.collection.stored
    removed = manage.delete_items(ctx.settings, ctx.store(), stored, extra)
    return removed, _groups(ctx, request.collection, float(found["threshold"]))
