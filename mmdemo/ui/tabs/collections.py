"""The Collections tab: upload and index images, list collections, delete one.

Its events are private; the public API (``index``, ``collections``, ``delete``) is in
``ui/api.py`` and calls the same actions (:mod:`mmdemo.ui.actions.collections`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd
from gradio.events import Dependency

from mmdemo.models.registry import display_key
from mmdemo.store import CollectionInfo
from mmdemo.ui.actions import collections
from mmdemo.ui.context import AppContext
from mmdemo.ui.pools import POOLED
from mmdemo.ui.requests import DeleteRequest, IndexRequest, ListRequest
from mmdemo.ui.shared import PRIVATE, Form, models_dropdown, shows_errors
from mmdemo.ui.tabs import duplicates

REJECTED_COLUMNS = ["file", "reason"]
LISTING_COLUMNS = ["collection", "images", "models"]
UPLOAD_HEIGHT = 220


@dataclass
class CollectionsTab:
    """What the app wires across tabs: events that change the collections, lists to refresh."""

    changed: list[Dependency]
    table: gr.Dataframe
    listing: gr.JSON
    models: gr.Dropdown
    delete_choice: gr.Dropdown
    duplicates_choice: gr.Dropdown


def _models_text(models: dict[str, int]) -> str:
    """Each model's item count, a model folder named by its name, never its server path."""
    return ", ".join(f"{display_key(model)}: {count}" for model, count in models.items())


def shown(infos: list[CollectionInfo]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every collection with its image count and per-model counts, as a table and as JSON."""
    rows = [(info.name, info.images, _models_text(info.models)) for info in infos]
    return pd.DataFrame(rows, columns=LISTING_COLUMNS), collections.listing(infos)


def _upload_section(ctx: AppContext) -> tuple[Form, gr.Button, list[Any]]:
    """Upload inputs (named as :class:`IndexRequest` names them), the index button and the
    summary outputs."""
    default = ctx.bootstrap.status().default_model
    gr.Markdown("### Add images")
    with gr.Row():
        files = gr.File(
            label="Images, PDFs or zip archives",
            file_count="multiple",
            height=UPLOAD_HEIGHT,
            elem_id="upload-files",
        )
        folder = gr.File(
            label="…or a whole folder",
            file_count="directory",
            height=UPLOAD_HEIGHT,
            elem_id="upload-folder",
        )
    with gr.Row():
        name = gr.Textbox(
            label="Collection name", placeholder="e.g. holiday-photos", elem_id="collection-name"
        )
        models = models_dropdown(
            default,
            "Index with one or more models, to compare them later",
            elem_id="index-models",
        )
        captions = gr.File(
            label="Captions CSV (optional)", file_types=[".csv"], elem_id="upload-captions"
        )
    ocr = gr.Checkbox(
        False,
        label="Read text in images (OCR)",
        info="Stores and searches text found inside images (signs, scans, screenshots); slower",
        elem_id="index-ocr",
    )
    dataset = _dataset_inputs(ctx)
    button = gr.Button("Index images", variant="primary")
    # Tall enough to hold the progress bar (with counts) while indexing runs.
    summary = gr.Markdown(label="summary", min_height=80, elem_id="index-summary")
    rejected = gr.Dataframe(
        headers=REJECTED_COLUMNS,
        label="Rejected files",
        visible=False,
        interactive=False,
        elem_id="rejected",
    )
    report = gr.JSON(label="report", visible=False)
    form = {"files": files, "folder": folder, "captions": captions, "collection": name}
    return form | {"models": models, "ocr": ocr, **dataset}, button, [summary, rejected, report]


def _dataset_inputs(ctx: AppContext) -> Form:
    """The dataset source and, folded away, its split, columns and row limit."""
    where = " or a local dataset folder" if ctx.settings.allow_local_models else ""
    with gr.Accordion("…or a Hugging Face dataset", open=False):
        source = gr.Textbox(
            label=f"Dataset: hf:OWNER/NAME{where}",
            placeholder="e.g. hf:owner/product-photos",
            elem_id="index-dataset",
        )
        with gr.Row():
            split = gr.Textbox(label="Split", value="train")
            image = gr.Textbox(label="Image column", value="image")
            caption = gr.Textbox(label="Caption column", placeholder="caption, text or description")
            limit = gr.Number(
                label="At most this many rows (0: all)", value=0, precision=0, minimum=0
            )
    return {
        "dataset": source,
        "split": split,
        "image_column": image,
        "caption_column": caption,
        "limit": limit,
    }


def _delete_section() -> tuple[gr.Dropdown, gr.Checkbox, gr.Button, gr.Markdown]:
    with gr.Accordion("Delete a collection", open=False):
        choice = gr.Dropdown([], label="Collection", allow_custom_value=True)
        confirm = gr.Checkbox(
            label="I understand: this deletes the collection and its index for every model."
        )
        button = gr.Button("Delete collection", variant="stop")
        message = gr.Markdown(label="message")
    return choice, confirm, button, message


@dataclass
class _Handlers:
    """The tab's events, each admitting its request through the policy."""

    ctx: AppContext

    @shows_errors
    def on_index(
        self,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's injection idiom)
        **named: Any,
    ) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        """Index uploaded images and a dataset into a collection with one or more models."""
        asked = self.ctx.admit(IndexRequest, named, request.session_hash)
        done = collections.index_uploads(self.ctx, asked, progress)
        return done.summary, pd.DataFrame(done.rejected, columns=REJECTED_COLUMNS), done.report

    @shows_errors
    def on_list(self, request: gr.Request) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """List collections with their image counts per model."""
        asked = self.ctx.admit(ListRequest, {}, request.session_hash)
        return shown(collections.collections(self.ctx, asked))

    @shows_errors
    def on_delete(self, request: gr.Request, **named: Any) -> str:
        """Delete a collection with all its models' indexes (not the demo collection)."""
        asked = self.ctx.admit(DeleteRequest, named, request.session_hash)
        return collections.delete(self.ctx, asked)


def build(ctx: AppContext) -> CollectionsTab:
    """Render the tab inside the current Blocks and register its events."""
    on = _Handlers(ctx)
    with gr.Tab("Collections", id="collections"):
        with gr.Column(visible=not ctx.readonly):
            form, index_button, outputs = _upload_section(ctx)
        gr.Markdown("### Collections")
        table = gr.Dataframe(
            headers=LISTING_COLUMNS, label="collections_table", interactive=False, show_label=False
        )
        listing = gr.JSON(label="collections", visible=False)
        refresh = gr.Button("Refresh list", size="sm")
        with gr.Column(visible=not ctx.readonly):
            choice, confirm, delete_button, message = _delete_section()
        panel = duplicates.build(ctx)

    indexed = index_button.click(
        on.on_index, None, outputs, inputs_kwargs=form, show_progress="full", **PRIVATE, **POOLED
    ).success(
        # The run is over: show the rejections, and empty the upload boxes for the next one.
        lambda report: (gr.Dataframe(visible=bool(report["rejected"])), None, None),
        outputs[2],
        [outputs[1], form["files"], form["folder"]],
        **PRIVATE,
    )
    listed = refresh.click(on.on_list, None, [table, listing], **PRIVATE)
    deleted = delete_button.click(
        on.on_delete,
        None,
        message,
        inputs_kwargs={"collection": choice, "confirm": confirm},
        **PRIVATE,
    ).success(lambda: False, None, confirm, **PRIVATE)
    changed = [indexed, listed, deleted, panel.deleted]
    return CollectionsTab(changed, table, listing, form["models"], choice, panel.collection)
