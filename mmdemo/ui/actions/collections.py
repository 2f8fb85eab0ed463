"""Collections: index uploads and datasets, index with another model, list, delete."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmdemo.errors import InputError
from mmdemo.ingest.hf_datasets import DEFAULT_DATASET, DatasetOptions
from mmdemo.models.registry import resolve
from mmdemo.store import CollectionInfo
from mmdemo.ui.context import AppContext, Progress
from mmdemo.ui.requests import DeleteRequest, IndexModelRequest, IndexRequest, ListRequest
from mmdemo.ui.shared import as_plain_markdown, short_origin

if TYPE_CHECKING:
    from mmdemo.ingest.indexer import IndexReport


@dataclass(frozen=True)
class Indexed:
    """An indexing run: a line for the page, the files refused and the report (JSON)."""

    summary: str
    rejected: list[dict[str, str]]
    report: dict[str, Any]


def index_uploads(ctx: AppContext, request: IndexRequest, progress: Progress) -> Indexed:
    """Index uploaded files, archives, folder files and a dataset into a collection, with
    OCR when asked. A visitor's images (dataset rows, zip members, PDF pages) stop at the
    visitor's caps, with the reason. Rejections and warnings name files as uploaded (no
    server folder); a model that could not load beside others that did is named in the
    summary and ``failed_models``."""
    from mmdemo.ingest.indexer import index_paths

    uploads = [*request.files, *request.folder]
    if not uploads and request.dataset is None:
        raise InputError("Add some images, a zip archive, a folder or a dataset to index.")
    visitor, store = request.visitor, ctx.store()
    paths = uploads if request.dataset is None else [*uploads, request.dataset]

    def report_progress(done: int, total: int) -> None:
        progress((done, total), desc="Indexing", unit="files")

    with visitor.reserve(store, request.collection.stored, uploads) as allowance:
        report = index_paths(
            paths,
            collection=request.collection.stored,
            models=list(request.models),
            settings=ctx.settings.with_backend(request.backend),
            store=store,
            captions=request.captions,
            dataset=_dataset_options(request),
            progress=report_progress,
            ocr=request.ocr,
            allowance=allowance,
        )
    shown = report.to_json()
    for kind in ("rejected", "warnings"):  # no server temp folder in what the caller gets
        if kind in shown:
            shown[kind] = [{**row, "file": short_origin(row["file"])} for row in shown[kind]]
    line = _summary(report, shown, request.collection.name.strip(), request.models)
    return Indexed(line, shown["rejected"], shown)


def _dataset_options(request: IndexRequest) -> DatasetOptions:
    """How to read the dataset: a blank field takes the default."""
    return DatasetOptions(
        request.split.strip() or DEFAULT_DATASET.split,
        request.image_column.strip() or DEFAULT_DATASET.image_column,
        request.caption_column.strip() or None,
        request.limit or None,
    )


def _summary(
    report: IndexReport, shown: dict[str, Any], collection: str, models: tuple[str, ...]
) -> str:
    """One line on an indexing run, then a line per model left out and per image indexed
    with something missing (OCR out of time); a run that stored nothing says no
    collection was made."""
    rejected = len(report.rejected)
    if report.added + report.present == 0:
        return (
            f"**Nothing was indexed:** all {rejected} files were rejected (reasons below), so "
            f"collection `{collection}` was not created or changed."
        )
    failed = report.failed_models
    used = [m for m in models if resolve(m, "embedder").key not in failed]
    lines = [
        f"**{report.added} added** · {report.present} already present · {rejected} rejected — "
        f"collection `{collection}`, models {', '.join(f'`{m}`' for m in used)}",
        *(f"⚠ Model `{m}` was left out: {as_plain_markdown(why)}" for m, why in failed.items()),
        *(
            f"⚠ {as_plain_markdown(row['file'])}: {as_plain_markdown(row['reason'])}"
            for row in shown.get("warnings", [])
        ),
    ]
    return "  \n".join(lines)


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
        settings=ctx.settings.with_backend(request.backend),
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
    removed = request.visitor.delete(ctx.settings, ctx.store(), request.collection.stored)
    return f"Deleted collection `{request.collection.name}` ({removed} images)."
