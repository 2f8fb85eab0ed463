"""The Map tab: a collection's embeddings in 2-D, coloured and named by cluster.

Hovering a point shows its thumbnail and caption; clicking selects it for "Find similar";
a text query adds a star among its top-k, which are ringed. The map comes from the cache
of :mod:`mmdemo.evaluate.collection_map`, so opening it again is quick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr

from mmdemo.errors import InputError, NotFoundError
from mmdemo.evaluate.scatter import MAP_CSS, MAP_JS, SELECTED_ELEMENT_ID
from mmdemo.models import registry
from mmdemo.tenancy import Visitor
from mmdemo.ui.context import POOLED, SAMPLE_QUERY, AppContext
from mmdemo.ui.shared import (
    PRIVATE,
    collection_dropdown,
    model_dropdown,
    present,
    shows_errors,
)

if TYPE_CHECKING:
    from mmdemo.evaluate.collection_map import CollectionMap

#: How many of a query's (or a selected point's) nearest items are ringed on the map.
HIGHLIGHTED = 5


@dataclass
class MapTab:
    """The components other parts of the app refresh."""

    collection: gr.Dropdown
    model: gr.Dropdown


def load_map(
    ctx: AppContext, visitor: Visitor, collection: str | None, model: str
) -> CollectionMap:
    """The (cached) map of a collection the visitor may see, under one model."""
    from mmdemo.evaluate.collection_map import collection_map

    if not collection:
        raise InputError("Choose a collection to map.")
    ctx.require_ready(collection)
    key = registry.resolve(model, "embedder").key
    stored = visitor.read(collection, ctx.store())
    if not ctx.store().models(stored):
        raise NotFoundError(f"Collection {collection!r} does not exist.")
    return collection_map(ctx.store(), ctx.settings, stored, key)


def draw(
    ctx: AppContext,
    found: CollectionMap,
    highlight: set[str] | None = None,
    marker: tuple[float, float] | None = None,
) -> str:
    """The map's markup, thumbnails served from the app."""
    from mmdemo.evaluate.scatter import svg
    from mmdemo.ui.shared import served_thumb

    return svg(found, lambda i: served_thumb(ctx.settings, i), highlight or set(), marker)


def summary(found: CollectionMap) -> str:
    """One line about the map under it."""
    return (
        f"{len(found.points)} images · model `{found.model}` · "
        f"{len(found.cluster_names)} clusters (k-means), named by their nearest words · "
        "layout: PCA + t-SNE"
    )


def show_query(
    ctx: AppContext, visitor: Visitor, collection: str | None, model: str, text: str, top_k: int
) -> tuple[str, str]:
    """The map with a text query's marker and its top-k ringed."""
    from mmdemo.evaluate.collection_map import query_overlay

    found = load_map(ctx, visitor, collection, model)
    if not (text or "").strip():
        return draw(ctx, found), summary(found)
    hits, marker = query_overlay(found, ctx.store(), ctx.settings, text, top_k)
    info = f"★ “{text}”: its top {len(hits)} are ringed · " + summary(found)
    return draw(ctx, found, {h.id for h in hits}, marker), info


def similar_to(
    ctx: AppContext, visitor: Visitor, collection: str | None, model: str, item_id: str
) -> tuple[str, list[tuple[str, str]]]:
    """The map with the items most similar to the selected one ringed, and a gallery."""
    from mmdemo.ingest.copies import image_path
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query

    found = load_map(ctx, visitor, collection, model)
    item_id = (item_id or "").strip()
    if found.position(item_id) is None:
        raise InputError("Click a point on the map first, then ask for similar images.")
    metadata = dict(ctx.store().items(found.collection))[item_id]
    results = search(
        Query(image=image_path(ctx.settings, metadata)),
        collection=found.collection,
        model=found.model,
        settings=ctx.settings,
        store=ctx.store(),
        top_k=HIGHLIGHTED,
    )
    gallery, _, _ = present(results, ctx.settings)
    ringed = {str(row["id"]) for row in results.rows}
    return draw(ctx, found, ringed, found.position(item_id)), gallery


def build(ctx: AppContext) -> MapTab:
    """Render the tab inside the current Blocks and register its events."""

    @shows_errors
    def on_show(
        collection: str | None, model: str, text: str, top_k: float, request: gr.Request
    ) -> tuple[str, str]:
        visitor = ctx.visitor(request.session_hash)
        return show_query(ctx, visitor, collection, model, text, int(top_k))

    @shows_errors
    def on_similar(
        collection: str | None, model: str, item_id: str, request: gr.Request
    ) -> tuple[str, list[tuple[str, str]]]:
        visitor = ctx.visitor(request.session_hash)
        return similar_to(ctx, visitor, collection, model, item_id)

    default = ctx.bootstrap.status().default_model
    with gr.Tab("Map", id="map"):
        gr.Markdown(
            "Every image of a collection placed so that similar images sit together, "
            "coloured by cluster. Hover a point to see it; click one to select it."
        )
        with gr.Row():
            collection = collection_dropdown(ctx.demo_name, elem_id="map-coll")
            model = model_dropdown("Embedding model", default, elem_id="map-model")
        with gr.Row():
            text = gr.Textbox(
                value=SAMPLE_QUERY, label="Show a text query on the map (optional)", scale=3
            )
            top_k = gr.Slider(1, 50, value=HIGHLIGHTED, step=1, label="Ring its top-k", scale=1)
        button = gr.Button("Show map", variant="primary", elem_id="map-button")
        info = gr.Markdown(elem_id="map-info")
        drawing = gr.HTML(css_template=MAP_CSS, js_on_load=MAP_JS, elem_id="map-view")
        with gr.Row(equal_height=True):
            selected = gr.Textbox(
                label="Selected image id (click a point)", elem_id=SELECTED_ELEMENT_ID, scale=3
            )
            similar = gr.Button("Find similar", elem_id="map-similar", scale=1)
        gallery = gr.Gallery(
            label="Most similar to the selected image",
            columns=5,
            height="auto",
            object_fit="cover",
            elem_id="map-gallery",
            elem_classes="result-gallery",
        )

    inputs: list[Any] = [collection, model, text, top_k]
    gr.on(
        [button.click, text.submit],
        on_show,
        inputs,
        [drawing, info],
        show_progress="full",
        **PRIVATE,
        **POOLED,
    )
    similar.click(
        on_similar,
        [collection, model, selected],
        [drawing, gallery],
        **PRIVATE,
        **POOLED,
    )
    return MapTab(collection, model)
