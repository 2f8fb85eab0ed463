"""The Map tab: a collection's embeddings in 2-D, coloured and named by cluster.

Hovering a point shows its thumbnail and caption; clicking selects it for "Find similar";
a text query adds a star among its top-k, which are ringed; it starts from an example of
the chosen collection (:class:`mmdemo.ui.events.ExampleStart`). The map comes from the
cache of :mod:`mmdemo.evaluate.collection_map`, so opening it again is quick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.evaluate.scatter import MAP_CSS, MAP_JS, SELECTED_ELEMENT_ID
from mmdemo.ui import events
from mmdemo.ui.actions import explore
from mmdemo.ui.context import POOLED, SAMPLE_QUERY, AppContext
from mmdemo.ui.requests import MapRequest, MapSimilarRequest
from mmdemo.ui.shared import (
    PRIVATE,
    Gallery,
    collection_dropdown,
    model_dropdown,
    present,
    shows_errors,
)

if TYPE_CHECKING:
    from mmdemo.evaluate.collection_map import CollectionMap

#: How many of a query's nearest items are ringed on the map, unless the visitor says.
HIGHLIGHTED = explore.HIGHLIGHTED


@dataclass
class MapTab:
    """The components other parts of the app refresh."""

    collection: gr.Dropdown
    model: gr.Dropdown
    #: Puts the chosen collection's example in the query once it is ready (first screen).
    start_when_ready: Callable[[Dependency], None]


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


@dataclass
class _Handlers:
    """The tab's events, each admitting its request through the policy."""

    ctx: AppContext

    @shows_errors
    def on_show(self, request: gr.Request, **named: Any) -> tuple[str, str]:
        """The map with a text query's marker and its top-k ringed."""
        asked = self.ctx.admit(MapRequest, named, request.session_hash)
        mapped = explore.map_query(self.ctx, asked)
        info = " · ".join(part for part in (mapped.lead, summary(mapped.found)) if part)
        return draw(self.ctx, mapped.found, mapped.ringed, mapped.marker), info

    @shows_errors
    def on_similar(self, request: gr.Request, **named: Any) -> tuple[str, Gallery]:
        """The map with the items most similar to the selected one ringed, and a gallery."""
        asked = self.ctx.admit(MapSimilarRequest, named, request.session_hash)
        mapped, results = explore.map_similar(self.ctx, asked)
        gallery, _, _ = present(results, self.ctx.settings)
        return draw(self.ctx, mapped.found, mapped.ringed, mapped.marker), gallery


def build(ctx: AppContext) -> MapTab:
    """Render the tab inside the current Blocks and register its events."""
    on = _Handlers(ctx)
    default = ctx.bootstrap.status().default_model
    with gr.Tab("Map", id="map"):
        gr.Markdown(
            "Every image of a collection placed so that similar images sit together, "
            "coloured by cluster. Hover a point to see it; click one to select it."
        )
        with gr.Row():
            collection = collection_dropdown(ctx.bootstrap.demos, elem_id="map-coll")
            model = model_dropdown("Embedding model", default, elem_id="map-model")
        with gr.Row():
            text = gr.Textbox(
                value=SAMPLE_QUERY,
                label="Show a text query on the map (optional)",
                scale=3,
                elem_id="map-text",
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
        # The example the query started from, with the files it expects: {text, expected}.
        example = gr.State(None)

    shown = {"collection": collection, "model": model}
    gr.on(
        [button.click, text.submit],
        on.on_show,
        None,
        [drawing, info],
        inputs_kwargs={**shown, "text": text, "top_k": top_k},
        show_progress="full",
        **PRIVATE,
        **POOLED,
    )
    similar.click(
        on.on_similar,
        None,
        [drawing, gallery],
        inputs_kwargs={**shown, "item_id": selected},
        **PRIVATE,
        **POOLED,
    )
    return MapTab(collection, model, events.ExampleStart(ctx).bind(collection, text, example))
