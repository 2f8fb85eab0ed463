"""The Search tab: example queries, text and/or image query, the results grid.

Its events are private; the public ``search`` endpoint is in ``ui/api.py``. The first
screen runs the sample query by itself as soon as the photos demo is ready, while the
other demos still index (:func:`SearchTab.run_when_ready`). Each collection shows its own
example queries, made from its captions and metadata. Clicking a result opens it large
(with the item's camera, DICOM and OCR fields where it has them); its "Find similar"
searches with that image, leaving the image itself out. A model the collection is not
indexed with is offered for indexing right here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.compat import event_payload
from mmdemo.errors import InputError, MMDemoError
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT
from mmdemo.ui import events
from mmdemo.ui.actions import search
from mmdemo.ui.context import SAMPLE_QUERY, AppContext
from mmdemo.ui.pools import POOLED, SEARCH_POOLED
from mmdemo.ui.requests import (
    ModelRequest,
    PickRequest,
    SearchRequest,
    SimilarRequest,
)
from mmdemo.ui.search_view import (
    EMPTY_QUERY_HTML,
    EXAMPLES_JS,
    FAILED_HTML,
    GRID_JS,
    WAITING_HTML,
    examples_html,
    failed_html,
    results_html,
)
from mmdemo.ui.shared import (
    PRIVATE,
    Form,
    as_plain_markdown,
    backend_dropdown,
    clears_errors,
    collection_dropdown,
    default_reranker,
    embedder_choices,
    model_dropdown,
    reranker_dropdown,
    shows_errors,
)

SearchOutput = tuple[str, str, dict[str, Any] | None, str | None, list[dict[str, Any]]]
FAILED_OUTPUT: SearchOutput = (FAILED_HTML, "", None, None, [])


@dataclass
class SearchTab:
    """The components other parts of the app refresh, and the first-screen hook."""

    collection: gr.Dropdown
    model: gr.Dropdown
    reranker: gr.Dropdown
    run_when_ready: Callable[[Dependency], None]


def page_outputs(ctx: AppContext, found: search.Found) -> SearchOutput:
    """A search as the page shows it: the results HTML, a timings line, JSON results, a CSV
    path and the result records."""
    html = results_html(found.results, found.query, ctx.settings)
    return html, found.timings, found.payload, found.csv_path, found.records


def _query_inputs() -> Form:
    """The text query (first on the screen), named as :class:`SearchRequest` names it."""
    text = gr.Textbox(
        value=SAMPLE_QUERY,
        label="Text query",
        placeholder="Describe what you are looking for, then press Enter",
        scale=4,
        min_width=280,
        elem_id="search-text",
    )
    return {"text": text}


def _image_input() -> Form:
    """The query image, folded under the query box until a visitor opens it (or a query
    brings an image)."""
    image = gr.Image(
        label="Query image",
        show_label=False,  # the fold's title says it; a label would cover the upload icon
        type="filepath",
        sources=["upload", "clipboard", "webcam"],
        height=200,
        elem_id="search-image",
    )
    return {"image": image}


def _weight(value: float, label: str, info: str, elem_id: str) -> gr.Slider:
    """A 0-1 weight slider in steps of 0.05."""
    return gr.Slider(0, 1, value=value, step=0.05, label=label, info=info, elem_id=elem_id)


def _option_inputs() -> Form:
    """The advanced options, named as :class:`SearchRequest` names them."""
    weight = _weight(0.5, "Text weight", "With text and image: 1 = text only", "search-weight")
    negative = gr.Textbox(label="Negative prompt", placeholder="Steer away from…")
    negative_weight = gr.Slider(0, 1, value=0.5, step=0.05, label="Negative weight")
    contains = gr.Textbox(label="Caption contains", placeholder="Only items whose caption has…")
    where = gr.Textbox(
        label="Metadata filter",
        placeholder="brand=acme and price<10 and color in (red, blue)",
        elem_id="search-where",
    )
    caption_weight = _weight(
        CAPTION_WEIGHT,
        "Caption weight",
        "How much captions count for text queries: 0 = images only",
        "search-caption-weight",
    )
    lexical_weight = _weight(
        LEXICAL_WEIGHT,
        "Exact words weight",
        "How much words found in captions, page text and metadata count: 0 = off. "
        'Words in "quotes" must match',
        "search-lexical-weight",
    )
    backend = backend_dropdown(elem_id="search-backend")
    return {
        "weight": weight,
        "negative": negative,
        "negative_weight": negative_weight,
        "caption_contains": contains,
        "where": where,
        "caption_weight": caption_weight,
        "lexical_weight": lexical_weight,
        "backend": backend,
    }


def _model_inputs(ctx: AppContext) -> Form:
    """Model, reranker and top-k (secondary: folded under the query box)."""
    default = ctx.bootstrap.status().default_model
    model = model_dropdown("Embedding model", default, elem_id="search-model")
    reranker = reranker_dropdown(default_reranker(default), elem_id="search-reranker")
    top_k = gr.Slider(1, 50, value=10, step=1, label="Results (top-k)")
    return {"model": model, "reranker": reranker, "top_k": top_k}


@dataclass
class _Handlers:
    """The tab's events, each admitting its request through the policy."""

    ctx: AppContext

    @shows_errors
    def on_search(self, request: gr.Request, **named: Any) -> SearchOutput:
        """Search a collection by text, by an example image, or both."""
        asked = self.ctx.admit(SearchRequest, named, request.session_hash)
        return page_outputs(self.ctx, search.search(self.ctx, asked))

    @shows_errors
    def on_similar(
        self,
        records: list[dict[str, Any]],
        event: gr.EventData,
        request: gr.Request,
        **named: Any,
    ) -> tuple[Any, ...]:
        """Search with a shown result's image (the one whose "Find similar" was clicked)."""
        named["index"] = event_payload(event).get("index")
        asked = self.ctx.admit(SimilarRequest, named, request.session_hash)
        picture, found = search.similar(self.ctx, asked, records)
        return ("", picture, gr.Accordion(open=True), *page_outputs(self.ctx, found))

    @shows_errors
    def on_example(
        self, examples: list[dict[str, Any]], event: gr.EventData, request: gr.Request
    ) -> tuple[str, Any, gr.Accordion]:
        """The clicked example query, into the query boxes (the image fold opened to show
        an example's image)."""
        named = {"index": event_payload(event).get("index")}
        index = self.ctx.admit(PickRequest, named, request.session_hash).index
        if index >= len(examples):
            raise InputError("That example is no longer shown: pick another one.")
        image = search.example_picture(self.ctx, examples[index])
        shown = gr.Accordion(open=True) if image is not None else gr.skip()
        return examples[index]["text"], image, shown

    def on_collection(self, collection: Any, request: gr.Request) -> tuple[str, list[Any]]:
        """The example row of the chosen collection."""
        examples = events.examples_of(self.ctx, collection, request.session_hash)
        return examples_html(examples), examples

    def on_collection_change(
        self, collection: Any, shown: list[Any], text: Any, image: Any, request: gr.Request
    ) -> tuple[Any, ...]:
        """The new collection's example row; a query that is still the sample or one of the
        old collection's examples becomes the new collection's first example (a query the
        visitor wrote stays), so the search that follows shows this collection at its best."""
        row, examples = self.on_collection(collection, request)
        picked = {(e["text"], e["image"]) for e in shown} | {(SAMPLE_QUERY, None), ("", None)}
        start = search.starting_example(examples)
        if (str(text or "").strip(), image or None) not in picked or start is None:
            return row, examples, gr.skip(), gr.skip()
        return row, examples, start["text"], None

    def on_rerun(self, request: gr.Request, **named: Any) -> SearchOutput:
        """The query again, on the collection just chosen: results never show another
        collection's items. A collection still indexing shows the waiting panel; a query it
        cannot answer, the reason in the results panel (no toast: the visitor only chose)."""
        if not events.collection_ready(self.ctx, named["collection"]):
            return WAITING_HTML, "", None, None, []
        if not str(named.get("text") or "").strip() and not named.get("image"):
            return EMPTY_QUERY_HTML, "", None, None, []
        try:
            asked = self.ctx.admit(SearchRequest, named, request.session_hash)
            return page_outputs(self.ctx, search.search(self.ctx, asked))
        except MMDemoError as exc:
            return failed_html(str(exc)), "", None, None, []

    def on_setup(self, collection: Any, model: Any, request: gr.Request) -> tuple[Any, ...]:
        """The note on the chosen model for the chosen collection, and the model choices."""
        target = events.chosen(self.ctx, collection, request.session_hash)
        try:
            checked = self.ctx.admit(ModelRequest, {"model": model}, None).model if model else ""
            note, offer = search.setup_note(self.ctx, target, checked)
        except MMDemoError as exc:
            note, offer = f"⚠ {as_plain_markdown(str(exc))}", False
        indexed = self.ctx.store().models(target.stored) if target else {}
        unavailable = self.ctx.bootstrap.status().unavailable
        choices = embedder_choices([str(model or ""), *indexed], indexed, unavailable)
        return gr.Markdown(note, visible=bool(note)), gr.Button(visible=offer), gr.Dropdown(choices)

    def on_ready(self, shown: list[Any], request: gr.Request, **named: Any) -> tuple[Any, ...]:
        """Run the sample query as soon as the chosen collection (the photos demo) is ready,
        not after every demo. A status tick already in flight when the first results showed
        runs this again; it must not replace what the visitor searched since with a search
        of half-edited inputs, so any shown results stop it."""
        boot = self.ctx.bootstrap.status()
        if shown or not events.collection_ready(self.ctx, named["collection"]):
            return tuple(gr.skip() for _ in range(7))
        examples_row = self.on_collection(named["collection"], request)
        if boot.phase == "failed":
            return (*examples_row, failed_html(boot.message), "", None, None, [])
        try:
            asked = self.ctx.admit(SearchRequest, named, request.session_hash)
            found = search.search(self.ctx, asked)
        except MMDemoError as exc:
            return (*examples_row, failed_html(str(exc)), "", None, None, [])
        return (*examples_row, *page_outputs(self.ctx, found))


def _query_row(ctx: AppContext) -> tuple[Form, gr.Dropdown, gr.Button]:
    """The query box, the collection and the Search button, on one row."""
    with gr.Row(equal_height=True, elem_id="search-query-row"):
        query = _query_inputs()
        with gr.Column(scale=2, min_width=150, elem_id="search-coll-column"):
            collection = collection_dropdown(ctx.bootstrap.demos, elem_id="search-coll")
        button = gr.Button(
            "Search", variant="primary", scale=1, min_width=100, elem_id="search-button"
        )
    return query, collection, button


def _folds(ctx: AppContext, collection: gr.Dropdown) -> tuple[gr.Accordion, Form, Form]:
    """The query image and the options, folded side by side under the query row: the image
    fold, the query fields they hold, and the set-up (``collection`` with the models)."""
    with gr.Row(elem_id="search-folds"):
        # Each fold in a column of its own: side by side, even on a phone.
        with (
            gr.Column(min_width=140),
            gr.Accordion("Query image", open=False, elem_id="search-image-fold") as fold,
        ):
            folded = _image_input()
        with (
            gr.Column(min_width=140),
            gr.Accordion("More options", open=False, elem_id="search-options"),
        ):
            setup = {"collection": collection, **_model_inputs(ctx)}
            folded |= _option_inputs()
    return fold, folded, setup


def _results_row() -> tuple[gr.HTML, gr.Markdown, gr.DownloadButton]:
    """The results grid, then the timings line beside the CSV download."""
    grid = gr.HTML(WAITING_HTML, js_on_load=GRID_JS, elem_id="search-results")
    with gr.Row(equal_height=True):
        timings = gr.Markdown(label="timings", elem_id="search-timings")
        download = gr.DownloadButton(
            "Download CSV", size="sm", scale=0, min_width=140, elem_id="download-csv"
        )
    return grid, timings, download


def build(ctx: AppContext) -> SearchTab:
    """Render the tab inside the current Blocks and register its events."""
    on = _Handlers(ctx)
    with gr.Tab("Search", id="search"):
        examples_row = gr.HTML("", js_on_load=EXAMPLES_JS, elem_id="search-examples")
        query, collection, button = _query_row(ctx)
        index_note = gr.Markdown(visible=False, elem_id="search-index-note")
        index_button = gr.Button(
            "Index with this model", visible=False, size="sm", elem_id="search-index"
        )
        fold, folded, setup = _folds(ctx, collection)
        query |= folded
        grid, timings, download = _results_row()
        results_json = gr.JSON(label="results_json", visible=False)
        records = gr.State([])
        examples = gr.State([])
        index_report = gr.State(None)

    form = {**query, **setup}
    outputs = [grid, timings, results_json, download, records]
    searched = {"inputs_kwargs": form, **PRIVATE, **SEARCH_POOLED}
    chosen = [setup["collection"], setup["model"]]
    noted = {"inputs": chosen, "outputs": [index_note, index_button, setup["model"]], **PRIVATE}

    def failed() -> SearchOutput:
        return FAILED_OUTPUT

    similar = grid.select(
        on.on_similar,
        records,
        [query["text"], query["image"], fold, *outputs],
        inputs_kwargs=setup,
        **PRIVATE,
        **SEARCH_POOLED,
    )
    example = examples_row.select(
        on.on_example, examples, [query["text"], query["image"], fold], **PRIVATE
    ).success(on.on_search, None, outputs, **searched)
    for event in (
        gr.on([query["text"].submit, button.click], on.on_search, None, outputs, **searched),
        similar,
        example,
    ):
        event.failure(failed, None, outputs, **PRIVATE)
        clears_errors(event)
    clears_errors(
        setup["collection"]
        .change(
            on.on_collection_change,
            [setup["collection"], examples, query["text"], query["image"]],
            [examples_row, examples, query["text"], query["image"]],
            **PRIVATE,
        )
        .then(on.on_rerun, None, outputs, inputs_kwargs=form, **PRIVATE, **SEARCH_POOLED)
    )
    gr.on([setup["collection"].change, setup["model"].change], on.on_setup, **noted)
    index_button.click(
        events.index_with_model(ctx),
        None,
        [index_note, index_report],
        inputs_kwargs={"collection": setup["collection"], "model": setup["model"]},
        **PRIVATE,
        **POOLED,
    ).success(on.on_setup, **noted).success(on.on_search, None, outputs, **searched)

    def run_when_ready(event: Dependency) -> None:
        event.then(
            on.on_ready,
            records,
            [examples_row, examples, *outputs],
            inputs_kwargs=form,
            **PRIVATE,
            **SEARCH_POOLED,
        )

    return SearchTab(setup["collection"], setup["model"], setup["reranker"], run_when_ready)
