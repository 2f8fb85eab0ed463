"""Collections: index uploads and datasets, index with another model, list, delete."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mmdemo import manage
from mmdemo.errors import InputError
from mmdemo.ingest.hf_datasets import DEFAULT_DATASET, DatasetOptions
from mmdemo.store import CollectionInfo
from mmdemo.ui.context import AppContext, Progress
from mmdemo.ui.requests import DeleteRequest, IndexModelRequest, IndexRequest, ListRequest
from mmdemo.ui.shared import short_origin


@dataclass(frozen=True)
class Indexed:
    """An indexing run: a line for the page, the files refused and the report (JSON)."""

    summary: str
    rejected: list[dict[str, str]]
    report: dict[str, Any]


def index_uploads(ctx: AppContext, request: IndexRequest, progress: Progress) -> Indexed:
    """Index uploaded files, archives, folder files and a dataset into a collection. A
    visitor's dataset rows are capped at the images the visitor may still hold."""
    from mmdemo.ingest.indexer import index_paths

    uploads = [*request.files, *request.folder]
    if not uploads and request.dataset is None:
        raise InputError("Add some images, a zip archive, a folder or a dataset to index.")
    visitor, store = request.visitor, ctx.store()
    size = visitor.check_upload(uploads, store)
    options = _dataset_options(request)
    left = visitor.images_left(store)
    if left is not None:
        left = max(0, left - len(uploads))  # the files uploaded beside it count first
        if request.dataset is not None and left == 0:
            raise InputError(
                "You hold as many images as a visitor may: delete a collection to index a dataset."
            )
        options = replace(options, limit=min(options.limit or left, left))
    paths = uploads if request.dataset is None else [*uploads, request.dataset]

    def report_progress(done: int, total: int) -> None:
        progress((done, total), desc="Indexing", unit="files")

    report = index_paths(
        paths,
        collection=request.collection.stored,
        models=list(request.models),
        settings=ctx.settings,
        store=store,
        captions=request.captions,
        dataset=options,
        progress=report_progress,
    )
    visitor.uploaded(size)
    rejected = [{"file": short_origin(r.file), "reason": r.reason} for r in report.rejected]
    name = request.collection.name.strip()
    line = _summary(report.added, report.present, len(rejected), name, request.models)
    return Indexed(line, rejected, {**report.to_json(), "rejected": rejected})


def _dataset_options(request: IndexRequest) -> DatasetOptions:
    """How to read the dataset: a blank field takes the default."""
    return DatasetOptions(
        request.split.strip() or DEFAULT_DATASET.split,
        request.image_column.strip() or DEFAULT_DATASET.image_column,
        request.caption_column.strip() or None,
        request.limit or None,
    )


def _summary(
    added: int, present: int, rejected: int, collection: str, models: tuple[str, ...]
) -> str:
    """One line on an indexing run; a run that stored nothing says no collection was made."""
    if added + present == 0:
        return (
            f"**Nothing was indexed:** all {rejected} files were rejected (reasons below), so "
            f"collection `{collection}` was not created or changed."
        )
    return (
        f"**{added} added** · {present} already present · {rejected} rejected — "
        f"collection `{collection}`, models {', '.join(f'`{m}`' for m in models)}"
    )


def index_with_model(
    ctx: AppContext, request: IndexModelRequest, progress: Progress
) -> tuple[str, dict[str, Any]]:
    """Embed a collection's stored images with one more model (to compare it); returns a
    line for the page and the report."""
    from mmdemo.ingest.indexer import index_existing

    def report_progress(done: int, total: int) -> None:
        progress((done, total), desc=f"Indexing with {request.model}", unit="images")

    report = index_existing(
        collection=request.collection.stored,
        models=[request.model],
        settings=ctx.settings,
        store=ctx.store(),
        progress=report_progress,
    )
    message = (
        f"Indexed `{request.collection.name}` with `{request.model}`: {report.added} images "
        f"embedded, {len(report.rejected)} could not be read."
    )
    return message, report.to_json()


def collections(ctx: AppContext, request: ListRequest) -> list[CollectionInfo]:
    """Every collection the caller may see, under the names the caller gave."""
    return request.visitor.visible(ctx.store().collections())


def listing(infos: list[CollectionInfo]) -> list[dict[str, Any]]:
    """Collections as JSON: [{"name", "images", "models": {model: count}}]."""
    return [{"name": i.name, "images": i.images, "models": i.models} for i in infos]


def delete(ctx: AppContext, request: DeleteRequest) -> str:
    """Delete a collection with every model's index; returns what was deleted."""
    removed = manage.delete_collection(ctx.settings, ctx.store(), request.collection.stored)
    return f"Deleted collection `{request.collection.name}` ({removed} images)."
