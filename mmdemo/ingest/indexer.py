"""Indexing: a stream of source items -> decoded batches -> embeddings -> the store.

Items are read, decoded and embedded a batch at a time, so memory stays flat however
large the collection. The item id is the content hash: an image already stored for a
model is never embedded again, so re-running an ingest only does the new work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.crashpoint import crash_point
from mmdemo.errors import ImageRejected
from mmdemo.ingest.ahead import run_ahead
from mmdemo.ingest.batches import BATCH_SIZE, Batch, Item, Pending, decoded_batches, prepared
from mmdemo.ingest.caption_vectors import RunCaptions
from mmdemo.ingest.captions import Captions, read_captions
from mmdemo.ingest.copies import image_path, save_copies
from mmdemo.ingest.embedders import Embedders
from mmdemo.ingest.embedding import embed_at_index
from mmdemo.ingest.entries import UNLIMITED, Allowance, Rejection, SourceItem
from mmdemo.ingest.hf_datasets import DEFAULT_DATASET, DatasetOptions
from mmdemo.ingest.images import (
    content_hash,
    decode_image,
    fit_for_models,
    load_image,
    screen_image,
)
from mmdemo.ingest.metadata import csv_row, describe
from mmdemo.ingest.same_bytes import SameBytes
from mmdemo.ingest.sources import count_sources, iter_sources
from mmdemo.names import validate_collection_name, visible_name
from mmdemo.store import Store
from mmdemo.store.space import require_room

Progress = Callable[[int, int], None]
#: One decoded item's own metadata (:func:`mmdemo.ingest.metadata.describe`, bound).
Describe = Callable[[SourceItem, Any], dict[str, Any]]
#: Metadata keys the indexer owns; a captions CSV column of the same name cannot replace them.
CORE_KEYS = (
    "file_name",
    "origin",
    "source",
    "caption",
    "width",
    "height",
    "added_at",
    "image_file",
)


@dataclass
class IndexReport:
    """What an ingest did: images added, already present, and every rejection with its
    reason; ``warnings``: images indexed with something missing (OCR out of time);
    ``failed_models``: models that could not load (model -> why) while the others indexed."""

    added: int = 0
    present: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[Rejection] = field(default_factory=list)
    failed_models: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``index --json`` shape; ``warnings`` and ``failed_models`` only when some."""
        shape: dict[str, Any] = {
            "added": self.added,
            "present": self.present,
            "rejected": [{"file": r.file, "reason": r.reason} for r in self.rejected],
        }
        if self.warnings:
            shape["warnings"] = [{"file": w.file, "reason": w.reason} for w in self.warnings]
        if self.failed_models:
            failed = self.failed_models.items()
            shape["failed_models"] = [{"model": m, "reason": r} for m, r in failed]
        return shape


def _no_progress(done: int, total: int) -> None:
    """The default progress callback: report nothing."""


def _metadata(
    item: SourceItem, width: int, height: int, image_file: str, extra: dict[str, Any]
) -> dict[str, Any]:
    core = {
        "file_name": visible_name(item.file_name),
        "origin": item.origin,
        "source": item.source,
        "caption": str(extra.get("caption", "")),
        "width": width,
        "height": height,
        "added_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "image_file": image_file,
    }
    return {**{k: v for k, v in extra.items() if k not in CORE_KEYS}, **core}


def _decode_source(
    entry: SourceItem,
    data: bytes,
    item_id: str,
    settings: Settings,
    describe_item: Describe,
    allowance: Allowance,
) -> Item:
    """Decode one new input, write its copy and thumbnail, and bound it for the models.

    ``item_id`` is the content hash of ``data``, taken once when it was read; its own
    metadata (file, source, captions CSV row, OCR) is ``describe_item``'s. The image is
    counted against ``allowance`` before any of this, and uncounted if it fails.
    """
    allowance.take(len(data))
    try:
        decoded = decode_image(data, entry.file_name)
        image_file = save_copies(settings, item_id, decoded, data)
    except BaseException:
        allowance.give_back(len(data))
        raise
    crash_point("after-copy")
    extra = describe_item(entry, decoded)
    meta = _metadata(entry, decoded.width, decoded.height, image_file, extra)
    return Item(item_id, fit_for_models(decoded.image), meta)


def _read_sources(
    entries: Iterable[SourceItem | Rejection],
    settings: Settings,
    describe_item: Describe,
    captions: Captions,
    report: IndexReport,
    allowance: Allowance,
) -> Iterator[Pending | None]:
    """Read and hash each source item; yields None for an unreadable one (for progress).

    More than ``allowance.bound(settings.limits).upload_images`` images in one ingest are
    refused; once ``allowance`` is full, reading stops with one rejection saying why. A file
    with the same bytes as an earlier one but another caption or metadata is reported.
    """
    limit = allowance.bound(settings.limits).upload_images
    candidates = 0
    same_bytes = SameBytes()
    for entry in entries:
        if isinstance(entry, Rejection):
            report.rejected.append(entry)
            yield None
            continue
        full = allowance.full()
        if full is not None:
            reason = f"{full}: this and every later input were not read"
            report.rejected.append(Rejection(entry.origin, reason))
            return
        candidates += 1
        if candidates > limit:
            reason = f"too many images in one upload (more than {limit:,})"
            report.rejected.append(Rejection(entry.origin, reason))
            yield None
            continue
        try:
            data = entry.read()
        except ImageRejected as exc:
            report.rejected.append(Rejection(entry.origin, exc.reason))
            yield None
            continue
        except OSError as exc:
            report.rejected.append(Rejection(entry.origin, f"cannot read file: {exc.strerror}"))
            yield None
            continue
        item_id = content_hash(data)
        if lost := same_bytes.check(item_id, entry, csv_row(captions, entry.file_name, ())):
            report.rejected.append(lost)
            yield None
            continue
        decode = partial(_decode_source, entry, data, item_id, settings, describe_item, allowance)
        yield Pending(item_id, entry.origin, decode, partial(screen_image, data, entry.file_name))


def _with_missing_models(
    pendings: Iterable[Pending | None],
    missing: Callable[[list[str]], dict[str, set[str]]],
    size: int,
) -> Iterator[tuple[Pending | None, frozenset[str]]]:
    """Pair each input with the models that lack it, asking the store a chunk at a time.

    An id seen earlier in this run counts as lacking nothing, so duplicates embed once.
    """
    seen: set[str] = set()
    chunk: list[Pending | None] = []
    for pending in pendings:
        chunk.append(pending)
        if len(chunk) >= size:
            yield from _lookup(chunk, missing, seen)
            chunk = []
    yield from _lookup(chunk, missing, seen)


def _lookup(
    chunk: list[Pending | None],
    missing: Callable[[list[str]], dict[str, set[str]]],
    seen: set[str],
) -> Iterator[tuple[Pending | None, frozenset[str]]]:
    ids = [p.id for p in chunk if p is not None and p.id not in seen]
    lacking = missing(ids) if ids else {}
    for pending in chunk:
        if pending is None or pending.id in seen:
            yield pending, frozenset()
            continue
        seen.add(pending.id)
        yield pending, frozenset(key for key, absent in lacking.items() if pending.id in absent)


@dataclass(frozen=True)
class _Target:
    """Where an ingest stores its items: the collection, its models, the store, settings."""

    collection: str
    embedders: Embedders
    store: Store
    settings: Settings

    def missing(self, ids: list[str]) -> dict[str, set[str]]:
        """Model key -> which of ``ids`` that model has not stored yet."""
        stored = self.store.existing_ids
        return {k: set(ids) - stored(self.collection, k, ids) for k in self.embedders.keys}

    def store_batch(self, batch: Batch, captions: RunCaptions) -> int:
        """Embed and add each batch item to the models that lack it, storing the reranker
        features and caption vectors of the images each model adds; returns how many items
        some model added (an item only a model that could not load lacked is not one)."""
        added: set[str] = set()
        for key in self.embedders.keys:
            todo = batch.lacking(key)
            if not todo:
                continue
            embedder = self.embedders.load()[key]
            ids, metadatas = [item.id for item in todo], [item.metadata for item in todo]
            vectors = embed_at_index(
                self.settings, embedder, ids, batch.inputs[key], runtime=self.store.runtime
            )
            self.store.add(self.collection, key, ids, vectors, metadatas)
            added.update(ids)
            captions.add(embedder, ids, metadatas)
        return len(added)


def _run(
    pendings: Iterable[Pending | None],
    total: int,
    target: _Target,
    report: IndexReport,
    progress: Progress,
) -> IndexReport:
    """Decode and prepare ahead in a background thread while the models embed the previous
    batch."""
    embedders = target.embedders
    captions = RunCaptions(target.store, target.collection, embedders.keys)
    planned = _with_missing_models(pendings, target.missing, BATCH_SIZE)
    done = 0
    progress(0, total)
    decoded = decoded_batches(planned, BATCH_SIZE, report.rejected, embedders.load)
    ready = prepared(decoded, embedders.keys, embedders.load)
    with target.store.runtime.files.indexing(target.settings), run_ahead(ready) as batches:
        for batch in batches:
            added = target.store_batch(batch, captions)
            report.added += added
            report.present += batch.present + len(batch.items) - added
            done += batch.consumed
            progress(min(done, total), total)
            crash_point("after-batch")
    captions.fill(embedders.load)
    if report.added:
        from mmdemo.text.persist import lexical_index

        lexical_index(
            target.store, target.collection
        )  # in step with the new items: searches find it ready
    progress(total, total)
    report.failed_models.update(embedders.failed)
    return report


def index_paths(
    paths: Sequence[str | Path],
    *,
    collection: str,
    models: Sequence[str],
    settings: Settings,
    store: Store,
    captions: str | Path | None = None,
    dataset: DatasetOptions = DEFAULT_DATASET,
    progress: Progress = _no_progress,
    ocr: bool = False,
    allowance: Allowance = UNLIMITED,
) -> IndexReport:
    """Ingest files, folders, zip archives, PDFs and datasets into ``collection``.

    Every rejected file (and every captions row left out) is reported with its reason and
    never stops the others (a captions CSV inside a given folder is not an input, so not
    one of them); ``settings.limits`` bounds the work, and ``allowance`` what is
    stored (a visitor's caps: images past them are refused with the reason); ``dataset``
    says which split and columns of a dataset source to read. Inputs are hashed and looked
    up in the store before any model loads: models load only when some image needs
    embedding, and then before anything is stored. A dataset that cannot be opened raises
    InputError before anything is stored. With ``ocr``, text read from each new image is
    stored as its ``ocr_text`` (:mod:`mmdemo.ingest.ocr`). A model that cannot load, beside
    others that do, is named in ``failed_models`` and the others index.
    """
    collection = validate_collection_name(collection)
    require_room(settings)
    limits = allowance.bound(settings.limits)
    caption_map = read_captions(captions, limits) if captions else Captions()
    embedders = Embedders(models, settings, store.runtime)
    report = IndexReport(rejected=list(caption_map.problems))
    dataset = replace(dataset, limit=allowance.rows(dataset.limit))
    skip = [captions] if captions else []
    total = count_sources(paths, limits, dataset, skip)
    describe_item = partial(
        describe, captions=caption_map, settings=settings, read_text=ocr, warnings=report.warnings
    )
    entries = iter_sources(paths, limits, dataset, skip)
    pendings = _read_sources(entries, settings, describe_item, caption_map, report, allowance)
    return _run(pendings, total, _Target(collection, embedders, store, settings), report, progress)


def _load_stored(settings: Settings, item_id: str, metadata: dict[str, Any]) -> Item:
    return Item(item_id, fit_for_models(load_image(image_path(settings, metadata))), metadata)


def _stored_items(
    stored: Iterable[tuple[str, dict[str, Any]]], settings: Settings
) -> Iterator[Pending]:
    for item_id, metadata in stored:
        origin = str(metadata.get("origin", item_id))
        yield Pending(item_id, origin, partial(_load_stored, settings, item_id, metadata))


def index_existing(
    *,
    collection: str,
    models: Sequence[str],
    settings: Settings,
    store: Store,
    progress: Progress = _no_progress,
) -> IndexReport:
    """Embed a collection's stored images with more models, so they can be compared."""
    collection = validate_collection_name(collection)
    embedders = Embedders(models, settings, store.runtime)
    stored = store.items(collection)
    report = IndexReport()
    pendings = _stored_items(stored, settings)
    target = _Target(collection, embedders, store, settings)
    return _run(pendings, len(stored), target, report, progress)
