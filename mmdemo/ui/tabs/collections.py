"""The Collections tab: upload and index images, list collections, delete one.

Its events are private; the public API (``index``, ``collections``, ``delete``) is in
``ui/api.py`` and calls the same functions.
"""

from dataclasses import dataclass, replace
from typing import Any

import gradio as gr
import pandas as pd
from gradio.events import Dependency

from mmdemo import manage
from mmdemo.errors import InputError
from mmdemo.ingest.hf_datasets import DEFAULT_DATASET, DatasetOptions
from mmdemo.store import CollectionInfo
from mmdemo.tenancy import Visitor
from mmdemo.ui import duplicates_panel
from mmdemo.ui.context import POOLED, AppContext
from mmdemo.ui.shared import PRIVATE, models_dropdown, short_origin, shows_errors

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


def index_uploads(
    ctx: AppContext,
    visitor: Visitor,
    files: list[str] | None,
    folder: list[str] | None,
    captions: str | None,
    collection: str,
    models: list[str] | str | None,
    progress: Any,
    dataset: str = "",
    options: DatasetOptions = DEFAULT_DATASET,
) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    """Index uploaded files, archives, folder files and a dataset (``hf:OWNER/NAME``, or a
    local dataset folder where the operator allows paths) read as ``options`` says;
    returns summary, rejections, report. A visitor's dataset rows are capped at the
    images the visitor may still hold."""
    from mmdemo.ingest.indexer import index_paths

    ctx.require_writable("uploading and indexing")
    uploads = [*(files or []), *(folder or [])]
    source = ctx.check_dataset(dataset)
    if not uploads and source is None:
        raise InputError("Add some images, a zip archive, a folder or a dataset to index.")
    chosen = [models] if isinstance(models, str) else list(models or [])
    for name in chosen:
        ctx.check_model(name, "embedder")
    stored = visitor.create(collection, ctx.store())
    size = visitor.check_upload(uploads, ctx.store())
    left = visitor.images_left(ctx.store())
    if left is not None:
        left = max(0, left - len(uploads))  # the files uploaded beside it count first
        if source is not None and left == 0:
            raise InputError(
                "You hold as many images as a visitor may: delete a collection to index a dataset."
            )
        options = replace(options, limit=min(options.limit or left, left))
    paths = uploads if source is None else [*uploads, source]

    def report_progress(done: int, total: int) -> None:
        progress((done, total), desc="Indexing", unit="files")

    report = index_paths(
        paths,
        collection=stored,
        models=chosen,
        settings=ctx.settings,
        store=ctx.store(),
        captions=captions,
        dataset=options,
        progress=report_progress,
    )
    visitor.uploaded(size)
    rejected = pd.DataFrame(
        [(short_origin(r.file), r.reason) for r in report.rejected], columns=REJECTED_COLUMNS
    )
    summary = _summary(report.added, report.present, len(report.rejected), collection, chosen)
    result = report.to_json()
    result["rejected"] = rejected.to_dict("records")
    return summary, rejected, result


def dataset_options(
    split: str | None, image_column: str | None, caption_column: str | None, limit: float | None
) -> DatasetOptions:
    """How to read a dataset, from the page's or the API's fields: blank or None (a textbox
    the page never rendered, in a closed accordion, sends None) takes the default."""
    return DatasetOptions(
        (split or "").strip() or DEFAULT_DATASET.split,
        (image_column or "").strip() or DEFAULT_DATASET.image_column,
        (caption_column or "").strip() or None,
        int(limit) if limit else None,
    )


def _summary(added: int, present: int, rejected: int, collection: str, models: list[str]) -> str:
    """One line on an indexing run; a run that stored nothing says no collection was made."""
    if added + present == 0:
        return (
            f"**Nothing was indexed:** all {rejected} files were rejected (reasons below), so "
            f"collection `{collection.strip()}` was not created or changed."
        )
    return (
        f"**{added} added** · {present} already present · {rejected} rejected — "
        f"collection `{collection.strip()}`, models {', '.join(f'`{m}`' for m in models)}"
    )


def list_collections(infos: list[CollectionInfo]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Every collection with its image count and per-model counts, as a table and as JSON."""
    rows = [
        (info.name, info.images, ", ".join(f"{m}: {n}" for m, n in info.models.items()))
        for info in infos
    ]
    listing = [{"name": i.name, "images": i.images, "models": i.models} for i in infos]
    return pd.DataFrame(rows, columns=LISTING_COLUMNS), listing


def delete_collection(
    ctx: AppContext, visitor: Visitor, collection: str | None, confirmed: bool
) -> str:
    """Delete a collection after confirmation; never the demo one, never in read-only mode."""
    ctx.require_writable("deleting collections")
    if not collection:
        raise InputError("Choose a collection to delete.")
    ctx.require_deletable(collection)
    if not confirmed:
        raise InputError("Tick the confirmation box first: deleting cannot be undone.")
    stored = visitor.change(collection, ctx.store())
    removed = manage.delete_collection(ctx.settings, ctx.store(), stored)
    return f"Deleted collection `{collection}` ({removed} images)."


def _upload_section(ctx: AppContext) -> tuple[list[Any], gr.Button, list[Any]]:
    """Upload inputs, the index button and the summary outputs."""
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
    return [files, folder, captions, name, models, *dataset], button, [summary, rejected, report]


def _dataset_inputs(ctx: AppContext) -> list[Any]:
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
    return [source, split, image, caption, limit]


def _delete_section() -> tuple[gr.Dropdown, gr.Checkbox, gr.Button, gr.Markdown]:
    with gr.Accordion("Delete a collection", open=False):
        choice = gr.Dropdown([], label="Collection", allow_custom_value=True)
        confirm = gr.Checkbox(
            label="I understand: this deletes the collection and its index for every model."
        )
        button = gr.Button("Delete collection", variant="stop")
        message = gr.Markdown(label="message")
    return choice, confirm, button, message


def build(ctx: AppContext) -> CollectionsTab:
    """Render the tab inside the current Blocks and register its events."""

    @shows_errors
    def on_index(
        files: list[str] | None,
        folder: list[str] | None,
        captions: str | None,
        collection: str,
        models: list[str] | None,
        dataset: str | None,
        split: str | None,
        image_column: str | None,
        caption_column: str | None,
        limit: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's injection idiom)
    ) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        """Index uploaded images and a dataset into a collection with one or more models.

        Args:
            files: image files, zip archives and PDFs
            folder: the files of an uploaded folder
            captions: optional CSV with a file-name column, captions and metadata
            collection: the collection to add to (created if new)
            models: embedding model preset keys, Hub ids or folders
            dataset: optional hf:OWNER/NAME (or local dataset folder, where allowed)
            split, image_column, caption_column, limit: how to read the dataset
        Returns:
            a summary, a table of rejected files with reasons, and
            {"added", "present", "rejected": [{"file", "reason"}]}
        """
        visitor = ctx.visitor(request.session_hash)
        options = dataset_options(split, image_column, caption_column, limit)
        return index_uploads(
            ctx, visitor, files, folder, captions, collection, models, progress, dataset or "",
            options,
        )  # fmt: skip

    @shows_errors
    def on_list(request: gr.Request) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
        """List collections with their image counts per model.

        Returns:
            a table, and [{"name", "images", "models": {model: count}}]
        """
        visitor = ctx.visitor(request.session_hash)
        return list_collections(visitor.visible(ctx.store().collections()))

    @shows_errors
    def on_delete(collection: str | None, confirmed: bool, request: gr.Request) -> str:
        """Delete a collection with all its models' indexes (not the demo collection).

        Args:
            collection: the collection to delete
            confirmed: must be true: deleting cannot be undone
        """
        return delete_collection(ctx, ctx.visitor(request.session_hash), collection, confirmed)

    with gr.Tab("Collections", id="collections"):
        with gr.Column(visible=not ctx.readonly):
            inputs, index_button, outputs = _upload_section(ctx)
        gr.Markdown("### Collections")
        table = gr.Dataframe(
            headers=LISTING_COLUMNS, label="collections_table", interactive=False, show_label=False
        )
        listing = gr.JSON(label="collections", visible=False)
        refresh = gr.Button("Refresh list", size="sm")
        with gr.Column(visible=not ctx.readonly):
            choice, confirm, delete_button, message = _delete_section()
        duplicates = duplicates_panel.build(ctx)

    indexed = index_button.click(
        on_index, inputs, outputs, show_progress="full", **PRIVATE, **POOLED
    ).success(
        # The run is over: show the rejections, and empty the upload boxes for the next one.
        lambda report: (gr.Dataframe(visible=bool(report["rejected"])), None, None),
        outputs[2],
        [outputs[1], inputs[0], inputs[1]],
        **PRIVATE,
    )
    listed = refresh.click(on_list, None, [table, listing], **PRIVATE)
    deleted = delete_button.click(on_delete, [choice, confirm], message, **PRIVATE).success(
        lambda: False, None, confirm, **PRIVATE
    )
    changed = [indexed, listed, deleted, duplicates.deleted]
    return CollectionsTab(changed, table, listing, inputs[4], choice, duplicates.collection)
