"""The Map tab: a collection's pictures in 2-D, similar ones together, framed and named
by cluster.

Each point is drawn as its thumbnail (:mod:`mmdemo.present.map_canvas`, from one atlas
image served by a signed URL); the map zooms (wheel, pinch, buttons) and resets. Hovering
a picture previews it; clicking one selects it (its thumbnail and file name, never its id:
the page names a point by its number, the server keeps the ids) for "Find similar"; a text
query adds a star among its top-k, which are ringed; it starts from an example of the
chosen collection (:class:`mmdemo.ui.events.ExampleStart`). Choosing another collection or
model clears the map, the selection and "Most similar". The map comes from the cache of
:mod:`mmdemo.evaluate.collection_map`, so opening it again is quick.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.present.map_canvas import MAP_CSS, MAP_JS, SELECTED_ELEMENT_ID
from mmdemo.ui import events
from mmdemo.ui.actions import explore
from mmdemo.ui.actions.explore import Mapped
from mmdemo.ui.context import SAMPLE_QUERY, AppContext
from mmdemo.ui.pools import POOLED
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

#: What the map area says before a map is shown (and after the collection changes).
NO_MAP = '<p class="mm-map-hint">Press “Show map” to place this collection’s pictures.</p>'
#: How many of a query's nearest items are ringed on the map, unless the visitor says.
HIGHLIGHTED = explore.HIGHLIGHTED


@dataclass
class MapTab:
    """The components other parts of the app refresh."""

    collection: gr.Dropdown
    model: gr.Dropdown
    #: Puts the chosen collection's example in the query once it is ready (first screen).
    start_when_ready: Callable[[Dependency], None]


def draw(ctx: AppContext, mapped: Mapped, selected: int | None = None) -> str:
    """The map's markup, its thumbnails drawn from the map's atlas (a signed URL)."""
    from mmdemo.present.map_atlas import build_atlas
    from mmdemo.present.map_canvas import Sheet, map_html
    from mmdemo.ui.media import atlas_url

    atlas = build_atlas(mapped.found, ctx.settings)
    sheet = Sheet(atlas_url(atlas.path), atlas.tile, atlas.columns)
    return map_html(mapped.found, sheet, mapped.ringed, mapped.marker, selected)


def summary(found: CollectionMap) -> str:
    """One line about the map under it."""
    return (
        f"{len(found.points)} images · model `{found.model}` · "
        f"{len(found.cluster_names)} clusters (k-means), named by their words · "
        "layout: PCA + t-SNE"
    )


@dataclass
class _Handlers:
    """The tab's events, each admitting its request through the policy."""

    ctx: AppContext

    @shows_errors
    def on_show(self, request: gr.Request, **named: Any) -> tuple[str, str, list[str], None]:
        """The map with a text query's marker and its top-k ringed; no point selected."""
        asked = self.ctx.admit(MapRequest, named, request.session_hash)
        mapped = explore.map_query(self.ctx, asked)
        info = " · ".join(part for part in (mapped.lead, summary(mapped.found)) if part)
        return draw(self.ctx, mapped), info, [p.id for p in mapped.found.points], None

    @shows_errors
    def on_similar(
        self, shown: list[str] | None, request: gr.Request, **named: Any
    ) -> tuple[str, Gallery]:
        """The map with the items most similar to the selected one ringed, and a gallery."""
        asked = self.ctx.admit(MapSimilarRequest, named, request.session_hash)
        mapped, results = explore.map_similar(self.ctx, asked, shown or [])
        gallery, _, _ = present(results, self.ctx.settings)
        return draw(self.ctx, mapped, asked.point), gallery


def _cleared() -> tuple[str, str, list[str], None, Gallery]:
    """What the tab shows once the collection or model changes: no map, nothing similar."""
    return NO_MAP, "", [], None, []


def build(ctx: AppContext) -> MapTab:
    """Render the tab inside the current Blocks and register its events."""
    on = _Handlers(ctx)
    default = ctx.bootstrap.status().default_model
    with gr.Tab("Map", id="map"):
        gr.Markdown(
            "Every picture of a collection placed so that similar pictures sit together, "
            "framed in its cluster's colour. Zoom with the wheel, a pinch or the buttons; "
            "hover a picture to preview it, click or tap one to select it."
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
        drawing = gr.HTML(NO_MAP, css_template=MAP_CSS, js_on_load=MAP_JS, elem_id="map-view")
        point = gr.Number(None, precision=0, visible="hidden", elem_id=SELECTED_ELEMENT_ID)
        similar = gr.Button("Find similar to the selected picture", elem_id="map-similar")
        gallery = gr.Gallery(
            label="Most similar to the selected picture",
            columns=5,
            height="auto",
            object_fit="cover",
            elem_id="map-gallery",
            elem_classes="result-gallery",
        )
        # The example the query started from, with the files it expects: {text, expected}.
        example = gr.State(None)
        # The item ids of the map shown, in point order: the page names points by number.
        shown_ids = gr.State([])

    shown = {"collection": collection, "model": model}
    gr.on(
        [button.click, text.submit],
        on.on_show,
        None,
        [drawing, info, shown_ids, point],
        inputs_kwargs={**shown, "text": text, "top_k": top_k},
        show_progress="full",
        **PRIVATE,
        **POOLED,
    )
    similar.click(
        on.on_similar,
        [shown_ids],
        [drawing, gallery],
        inputs_kwargs={**shown, "point": point},
        **PRIVATE,
        **POOLED,
    )
    gr.on(
        [collection.change, model.change],
        _cleared,
        None,
        [drawing, info, shown_ids, point, gallery],
        queue=False,
        **PRIVATE,
    )
    return MapTab(collection, model, events.ExampleStart(ctx).bind(collection, text, example))
