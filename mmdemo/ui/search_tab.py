"""The Search tab: text, image or both, optional negative prompt and reranker.

Its events are private; the public ``search`` endpoint is in ``ui/api.py``. Selecting a
result shows it large; "Find similar" puts that image in the query and searches again.
"""

from dataclasses import dataclass
from typing import Any

import gradio as gr

from mmdemo.errors import InputError
from mmdemo.export import results_table
from mmdemo.tenancy import Visitor
from mmdemo.ui.context import POOLED, SAMPLE_QUERY, AppContext
from mmdemo.ui.plain import plain
from mmdemo.ui.shared import (
    PRIVATE,
    default_reranker,
    model_dropdown,
    present,
    reranker_dropdown,
    reranker_name,
    shows_errors,
)

NO_SELECTION = "Select a result to see it here."
SearchOutput = tuple[list[tuple[str, str]], str, dict[str, Any], str, list[dict[str, Any]]]


@dataclass
class SearchTab:
    """The components other parts of the app refresh."""

    collection: gr.Dropdown
    model: gr.Dropdown
    reranker: gr.Dropdown


def run_search(
    ctx: AppContext,
    visitor: Visitor,
    text: str | None,
    image: str | None,
    weight: float,
    negative: str | None,
    negative_weight: float,
    contains: str | None,
    collection: str | None,
    model: str,
    reranker: str | None,
    top_k: float,
) -> SearchOutput:
    """Search and return gallery items, a timings line, JSON results, a CSV path and records."""
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query

    if not collection:
        raise InputError("Choose a collection to search.")
    query = Query(text, image, weight, negative, negative_weight, contains or None)
    query.validate()
    ctx.require_ready(collection)
    ctx.check_model(model, "embedder")
    ctx.check_model(reranker_name(reranker), "reranker")
    stored = visitor.read(collection, ctx.store())
    results = search(
        query,
        collection=stored,
        model=model,
        settings=ctx.settings,
        store=ctx.store(),
        reranker=reranker_name(reranker),
        top_k=int(top_k),
    )
    gallery, timings, payload = present(results, ctx.settings)
    csv_path = ctx.write_csv(results_table(results, query), "search-results.csv")
    return gallery, timings, payload, str(csv_path), results.to_json()["results"]


def describe(record: dict[str, Any]) -> str:
    """HTML metadata of one selected result; its file name and caption show as text."""
    lines = [f"<strong>#{record['rank']} · {plain(record['file_name'])}</strong>"]
    if record.get("caption"):
        lines.append(f"<em>{plain(record['caption'])}</em>")
    lines.append(f"cosine score {record['score']:.4f}")
    if record.get("rerank_score") is not None:
        lines.append(
            f"rerank score {record['rerank_score']:.4f} (was #{record['rank_before_rerank']})"
        )
    lines.append(f"id <code>{plain(str(record['id'])[:16])}…</code>")
    return "<br>".join(lines)


def _clear_selection() -> tuple[Any, ...]:
    return None, NO_SELECTION, None, gr.Button(interactive=False)


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
        )
        negative = gr.Textbox(label="Negative prompt", placeholder="Steer away from…")
        negative_weight = gr.Slider(0, 1, value=0.5, step=0.05, label="Negative weight")
        contains = gr.Textbox(label="Caption contains", placeholder="Only items whose caption has…")
    return [text, image, weight, negative, negative_weight, contains]


def _setup_inputs(ctx: AppContext) -> list[Any]:
    """Collection, model, reranker and top-k."""
    collection = gr.Dropdown(
        [], value=ctx.demo_name, label="Collection", allow_custom_value=True, elem_id="search-coll"
    )
    default = ctx.bootstrap.status().default_model
    model = model_dropdown("Embedding model", default)
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
        caption_contains: str | None,
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
            caption_contains: keep only items whose caption contains this (optional)
            collection: the collection to search
            model: the embedding model it was indexed with
            reranker: a reranker, or "none"
            top_k: how many results
        Returns:
            the gallery, a timings line, {"model", "reranker", "timings_ms", "results"},
            and the results as a CSV file
        """
        return run_search(
            ctx,
            ctx.visitor(request.session_hash),
            text,
            image,
            weight,
            negative,
            negative_weight,
            caption_contains,
            collection,
            model,
            reranker,
            top_k,
        )

    def on_select(records: list[dict[str, Any]], event: gr.SelectData) -> tuple[Any, ...]:
        record = records[event.index]
        return record["path"], describe(record), record, gr.Button(interactive=True)

    def on_similar(record: dict[str, Any] | None) -> tuple[str, str | None]:
        if not record:
            raise gr.Error("Select a result first.", print_exception=False)
        return "", record["path"]

    with gr.Tab("Search", id="search"):
        with gr.Row():
            with gr.Column(scale=3):
                query = _query_inputs()
            with gr.Column(scale=2):
                setup = _setup_inputs(ctx)
                button = gr.Button("Search", variant="primary", elem_id="search-button")
        with gr.Row():
            with gr.Column(scale=3):
                gallery = gr.Gallery(
                    label="Results",
                    columns=5,
                    height="auto",
                    elem_classes="result-gallery",
                    allow_preview=False,
                    object_fit="cover",
                    elem_id="search-gallery",
                )
                with gr.Row(equal_height=True):
                    timings = gr.Markdown(label="timings", elem_id="search-timings")
                    download = gr.DownloadButton(
                        "Download CSV", size="sm", scale=0, min_width=140, elem_id="download-csv"
                    )
            with gr.Column(scale=2):
                large = gr.Image(label="Selected result", interactive=False, height=320)
                details = gr.HTML(NO_SELECTION, elem_id="search-details")
                similar = gr.Button("Find similar", interactive=False, elem_id="find-similar")
        results_json = gr.JSON(label="results_json", visible=False)
        records = gr.State([])
        selected = gr.State(None)

    inputs = [*query, *setup]
    outputs = [gallery, timings, results_json, download, records]
    detail = [large, details, selected, similar]
    gr.on([query[0].submit, button.click], on_search, inputs, outputs, **PRIVATE, **POOLED).success(
        _clear_selection, None, detail, **PRIVATE
    )
    gallery.select(on_select, records, detail, **PRIVATE)
    similar.click(on_similar, selected, [query[0], query[1]], **PRIVATE).success(
        on_search, inputs, outputs, **PRIVATE, **POOLED
    ).success(_clear_selection, None, detail, **PRIVATE)
    return SearchTab(setup[0], setup[1], setup[2])
