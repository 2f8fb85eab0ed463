"""The Search tab: example queries, text and/or image query, the results grid.

Its events are private; the public ``search`` endpoint is in ``ui/api.py``. The first
screen runs the sample query by itself once the demo is ready
(:func:`SearchTab.run_when_ready`). Clicking a result opens it large; its "Find similar"
searches with that image, leaving the image itself out. A model the collection is not
indexed with is offered for indexing right here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.errors import MMDemoError
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.ui.context import POOLED, SAMPLE_QUERY, SEARCH_POOLED, AppContext
from mmdemo.ui.search_run import SearchOutput, example_inputs, find, page_outputs
from mmdemo.ui.search_view import (
    EXAMPLES_JS,
    FAILED_HTML,
    GRID_JS,
    WAITING_HTML,
    examples_html,
    failed_html,
)
from mmdemo.ui.shared import (
    PRIVATE,
    default_reranker,
    embedder_choices,
    model_dropdown,
    reranker_dropdown,
    shows_errors,
)

if TYPE_CHECKING:
    pass

FAILED_OUTPUT: SearchOutput = (FAILED_HTML, "", None, None, [])


@dataclass
class SearchTab:
    """The components other parts of the app refresh, and the first-screen hook."""

    collection: gr.Dropdown
    model: gr.Dropdown
    reranker: gr.Dropdown
    run_when_ready: Callable[[Dependency], None]


def setup_note(ctx: AppContext, collection: str | None, model: str) -> tuple[str, bool]:
    """What the set-up row says about ``model`` for ``collection``, and whether to offer
    indexing with it."""
    from mmdemo.models.registry import resolve

    if not collection or not model:
        return "", False
    try:
        key = resolve(model, "embedder").key
        indexed = ctx.store().models(collection)
    except MMDemoError as exc:
        return f"⚠ {exc}", False
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


def _query_inputs() -> list[Any]:
    """Text, image and the advanced options, in the ``search`` endpoint's order."""
    text = gr.Textbox(
        value=SAMPLE_QUERY,
        label="Text query",
        placeholder="Describe what you are looking for, then press Enter",
        elem_id="search-text",
    )
    image = gr.Image(
        label="Query image (upload, paste or webcam)",
        type="filepath",
        sources=["upload", "clipboard", "webcam"],
        height=200,
        elem_id="search-image",
    )
    with gr.Accordion("More options", open=False):
        weight = gr.Slider(
            0,
            1,
            value=0.5,
            step=0.05,
            label="Text weight",
            info="With text and image: 1 = text only",
            elem_id="search-weight",
        )
        negative = gr.Textbox(label="Negative prompt", placeholder="Steer away from…")
        negative_weight = gr.Slider(0, 1, value=0.5, step=0.05, label="Negative weight")
        contains = gr.Textbox(label="Caption contains", placeholder="Only items whose caption has…")
        where = gr.Textbox(
            label="Metadata filter",
            placeholder="brand=acme and price<10 and color in (red, blue)",
            elem_id="search-where",
        )
        caption_weight = gr.Slider(
            0,
            1,
            value=CAPTION_WEIGHT,
            step=0.05,
            label="Caption weight",
            info="How much captions count for text queries: 0 = images only",
            elem_id="search-caption-weight",
        )
    return [text, image, weight, negative, negative_weight, contains, where, caption_weight]


def _setup_inputs(ctx: AppContext) -> list[Any]:
    """Collection, model, reranker and top-k."""
    collection = gr.Dropdown(
        [], value=ctx.demo_name, label="Collection", allow_custom_value=True, elem_id="search-coll"
    )
    default = ctx.bootstrap.status().default_model
    model = model_dropdown("Embedding model", default, elem_id="search-model")
    reranker = reranker_dropdown(default_reranker(default), elem_id="search-reranker")
    top_k = gr.Slider(1, 50, value=10, step=1, label="Results (top-k)")
    return [collection, model, reranker, top_k]


def build(ctx: AppContext) -> SearchTab:
    """Render the tab inside the current Blocks and register its events."""

    @shows_errors
    def on_search(
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
        request: gr.Request,
    ) -> SearchOutput:
        """Search a collection by text, by an example image, or both.

        Args:
            text: what to look for
            image: an example image (optional)
            weight: text vs image when both are given (1 = text only, 0 = image only)
            negative: text to steer away from (optional)
            negative_weight: how strongly to steer away, 0..1
            contains: keep only items whose caption contains this (optional)
            where: metadata filter such as "brand=acme and price<10" (optional)
            caption_weight: share of caption similarity in text queries (0 = images only)
            collection: the collection to search
            model: the embedding model it was indexed with
            reranker: a reranker, or "none"
            top_k: how many results
        Returns:
            the results as HTML, a timings line, {"model", "reranker", "timings_ms",
            "results"}, and the results as a CSV file
        """
        query = (text, image, weight, negative, negative_weight, contains, where, caption_weight)
        visitor = ctx.visitor(request.session_hash)
        return page_outputs(ctx, find(ctx, visitor, *query, collection, model, reranker, top_k))

    @shows_errors
    def on_similar(
        records: list[dict[str, Any]],
        collection: str | None,
        model: str,
        reranker: str | None,
        top_k: float,
        event: gr.EventData,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        record = records[int(event._data["index"])]
        visitor = ctx.visitor(request.session_hash)
        found = find(
            ctx, visitor, "", record["path"], 0.5, "", 0.5, "", "", CAPTION_WEIGHT, collection,
            model, reranker, top_k,
            exclude_id=str(record["id"]),
        )  # fmt: skip
        return ("", record["path"], *page_outputs(ctx, found))

    def on_example(examples: list[dict[str, Any]], event: gr.EventData) -> tuple[str, Any]:
        chosen = examples[int(event._data["index"])]
        return chosen["text"], chosen["image"]

    def stored_name(collection: str | None, request: gr.Request) -> str | None:
        """The stored collection the visitor means (None when none is chosen)."""
        visitor = ctx.visitor(request.session_hash)
        return visitor.read(collection, ctx.store()) if collection else None

    def on_collection(
        collection: str | None, request: gr.Request
    ) -> tuple[str, list[dict[str, Any]]]:
        try:
            examples = example_inputs(ctx, stored_name(collection, request))
        except MMDemoError:
            examples = []
        return examples_html(examples), examples

    def on_setup(collection: str | None, model: str, request: gr.Request) -> tuple[Any, ...]:
        try:
            stored = stored_name(collection, request)
        except MMDemoError:
            stored = None
        note, offer = setup_note(ctx, stored, model)
        indexed = ctx.store().models(stored) if stored else {}
        unavailable = ctx.bootstrap.status().unavailable
        choices = embedder_choices([model, *indexed], indexed, unavailable)
        return gr.Markdown(note, visible=bool(note)), gr.Button(visible=offer), gr.Dropdown(choices)

    @shows_errors
    def on_index_model(
        collection: str | None,
        model: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> str:
        from mmdemo.ui.compare_tab import index_with_model

        visitor = ctx.visitor(request.session_hash)
        return index_with_model(ctx, visitor, collection, model, progress)[0]

    def on_ready(
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
        shown: list[Any],
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """Run the sample query once the demo is ready. A status tick already in flight when
        the first results showed runs this again; it must not replace what the visitor
        searched since with a search of half-edited inputs, so any shown results stop it."""
        boot = ctx.bootstrap.status()
        if shown or not boot.finished:
            return tuple(gr.skip() for _ in range(7))
        examples_row = on_collection(collection, request)
        if boot.phase == "failed":
            return (*examples_row, failed_html(boot.message), "", None, None, [])
        query = (text, image, weight, negative, negative_weight, contains, where, caption_weight)
        setup = (collection, model, reranker, top_k)
        try:
            found = find(ctx, ctx.visitor(request.session_hash), *query, *setup)
        except MMDemoError as exc:
            return (*examples_row, failed_html(str(exc)), "", None, None, [])
        return (*examples_row, *page_outputs(ctx, found))

    with gr.Tab("Search", id="search"):
        examples_row = gr.HTML("", js_on_load=EXAMPLES_JS, elem_id="search-examples")
        with gr.Row():
            with gr.Column(scale=3):
                query = _query_inputs()
            with gr.Column(scale=2):
                setup = _setup_inputs(ctx)
                index_note = gr.Markdown(visible=False, elem_id="search-index-note")
                index_button = gr.Button(
                    "Index with this model", visible=False, size="sm", elem_id="search-index"
                )
                button = gr.Button("Search", variant="primary", elem_id="search-button")
        grid = gr.HTML(WAITING_HTML, js_on_load=GRID_JS, elem_id="search-results")
        with gr.Row(equal_height=True):
            timings = gr.Markdown(label="timings", elem_id="search-timings")
            download = gr.DownloadButton(
                "Download CSV", size="sm", scale=0, min_width=140, elem_id="download-csv"
            )
        results_json = gr.JSON(label="results_json", visible=False)
        records = gr.State([])
        examples = gr.State([])

    inputs = [*query, *setup]
    outputs = [grid, timings, results_json, download, records]
    collection, model, reranker, top_k = setup

    def failed() -> SearchOutput:
        return FAILED_OUTPUT

    gr.on(
        [query[0].submit, button.click], on_search, inputs, outputs, **PRIVATE, **SEARCH_POOLED
    ).failure(failed, None, outputs, **PRIVATE)
    similar_inputs = [records, collection, model, reranker, top_k]
    grid.select(
        on_similar, similar_inputs, [*query[:2], *outputs], **PRIVATE, **SEARCH_POOLED
    ).failure(failed, None, outputs, **PRIVATE)
    examples_row.select(on_example, examples, query[:2], **PRIVATE).success(
        on_search, inputs, outputs, **PRIVATE, **SEARCH_POOLED
    ).failure(failed, None, outputs, **PRIVATE)
    collection.change(on_collection, collection, [examples_row, examples], **PRIVATE)
    gr.on(
        [collection.change, model.change],
        on_setup,
        [collection, model],
        [index_note, index_button, model],
        **PRIVATE,
    )
    index_button.click(
        on_index_model, [collection, model], index_note, **PRIVATE, **POOLED
    ).success(on_setup, [collection, model], [index_note, index_button, model], **PRIVATE).success(
        on_search, inputs, outputs, **PRIVATE, **SEARCH_POOLED
    )

    def run_when_ready(event: Dependency) -> None:
        event.then(
            on_ready,
            [*inputs, records],
            [examples_row, examples, *outputs],
            **PRIVATE,
            **SEARCH_POOLED,
        )

    return SearchTab(collection, model, reranker, run_when_ready)
