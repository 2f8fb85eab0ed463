"""Indexing: a stream of source items -> decoded batches -> embeddings -> the store.

Items are read, decoded and embedded a batch at a time, so memory stays flat however
large the collection. The item id is the content hash: an image already stored for a
model is never embedded again, so re-running an ingest only does the new work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image

from mmdemo.config import Settings
from mmdemo.crashpoint import crash_point
from mmdemo.embed import Embedder
from mmdemo.errors import ImageRejected, InputError
from mmdemo.ingest.captions import Captions, read_captions
from mmdemo.ingest.copies import FILES, image_path, save_copies
from mmdemo.ingest.images import decode_image, fit_for_models, load_image
from mmdemo.ingest.sources import Rejection, SourceItem, count_sources, iter_sources
from mmdemo.models.loading import load_embedder
from mmdemo.records import validate_collection_name
from mmdemo.store import Store

Progress = Callable[[int, int], None]
BATCH_SIZE = 32
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
    """What an ingest did: images added, already present, and every rejection with its reason."""

    added: int = 0
    present: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``index --json`` shape."""
        return {
            "added": self.added,
            "present": self.present,
            "rejected": [{"file": r.file, "reason": r.reason} for r in self.rejected],
        }


@dataclass
class _Item:
    id: str
    image: Image.Image
    metadata: dict[str, Any]


def _no_progress(done: int, total: int) -> None:
    """The default progress callback: report nothing."""


def _metadata(
    item: SourceItem, width: int, height: int, image_file: str, extra: dict[str, Any]
) -> dict[str, Any]:
    core = {
        "file_name": item.file_name,
        "origin": item.origin,
        "source": item.source,
        "caption": str(extra.get("caption", "")),
        "width": width,
        "height": height,
        "added_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "image_file": image_file,
    }
    return {**{k: v for k, v in extra.items() if k not in CORE_KEYS}, **core}


def _decode_sources(
    entries: Iterable[SourceItem | Rejection],
    settings: Settings,
    captions: Captions,
    report: IndexReport,
) -> Iterator[_Item | None]:
    """Decode each source item; yields None for a rejected or duplicate one (for progress).

    A second copy of an image within the same ingest counts as already present.
    """
    seen: set[str] = set()
    limit = settings.limits.upload_images
    candidates = 0
    for entry in entries:
        if isinstance(entry, Rejection):
            report.rejected.append(entry)
            yield None
            continue
        candidates += 1
        if candidates > limit:
            report.rejected.append(
                Rejection(entry.origin, f"too many images in one upload (more than {limit:,})")
            )
            yield None
            continue
        try:
            data = entry.read()
            decoded = decode_image(data, entry.file_name)
        except ImageRejected as exc:
            report.rejected.append(Rejection(entry.origin, exc.reason))
            yield None
            continue
        except OSError as exc:
            report.rejected.append(Rejection(entry.origin, f"cannot read file: {exc.strerror}"))
            yield None
            continue
        if decoded.sha256 in seen:
            report.present += 1
            yield None
            continue
        seen.add(decoded.sha256)
        image_file = save_copies(settings, decoded, data)
        crash_point("after-copy")
        extra = captions.by_name.get(entry.file_name, {})
        meta = _metadata(entry, decoded.width, decoded.height, image_file, extra)
        yield _Item(decoded.sha256, fit_for_models(decoded.image), meta)


def _batches(
    items: Iterable[_Item | None], size: int, tick: Callable[[], None]
) -> Iterator[list[_Item]]:
    batch: list[_Item] = []
    for item in items:
        tick()
        if item is not None:
            batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _store_batch(
    batch: list[_Item], collection: str, embedders: Sequence[Embedder], store: Store
) -> tuple[int, int]:
    """Embed and add what each model lacks; returns (new images, images already present)."""
    ids = [item.id for item in batch]
    new_anywhere: set[str] = set()
    for embedder in embedders:
        existing = store.existing_ids(collection, embedder.key, ids)
        todo = [item for item in batch if item.id not in existing]
        if not todo:
            continue
        vectors = embedder.encode_images([item.image for item in todo])
        store.add(
            collection,
            embedder.key,
            [item.id for item in todo],
            vectors,
            [item.metadata for item in todo],
        )
        new_anywhere.update(item.id for item in todo)
    return len(new_anywhere), len(batch) - len(new_anywhere)


def _run(
    settings: Settings,
    items: Iterable[_Item | None],
    total: int,
    collection: str,
    embedders: Sequence[Embedder],
    store: Store,
    report: IndexReport,
    progress: Progress,
) -> IndexReport:
    done = 0
    progress(0, total)

    def tick() -> None:
        nonlocal done
        done += 1

    with FILES.indexing(settings):
        for batch in _batches(items, BATCH_SIZE, tick):
            added, present = _store_batch(batch, collection, embedders, store)
            report.added += added
            report.present += present
            progress(min(done, total), total)
            crash_point("after-batch")
    progress(total, total)
    return report


def _load_models(models: Sequence[str], settings: Settings) -> list[Embedder]:
    if not models:
        raise InputError("Name at least one embedding model to index with.")
    return [load_embedder(name, settings) for name in models]


def index_paths(
    paths: Sequence[str | Path],
    *,
    collection: str,
    models: Sequence[str],
    settings: Settings,
    store: Store,
    captions: str | Path | None = None,
    progress: Progress = _no_progress,
) -> IndexReport:
    """Ingest files, folders and zip archives into ``collection`` with each model.

    Every rejected file (and every captions row left out) is reported with its reason and
    never stops the others; ``settings.limits`` bounds the work. Models are loaded before
    any file is read, so a model that cannot load fails the call up front.
    """
    collection = validate_collection_name(collection)
    limits = settings.limits
    caption_map = read_captions(captions, limits) if captions else Captions()
    embedders = _load_models(models, settings)
    report = IndexReport(rejected=list(caption_map.problems))
    items = _decode_sources(iter_sources(paths, limits), settings, caption_map, report)
    total = count_sources(paths, limits)
    return _run(settings, items, total, collection, embedders, store, report, progress)


def _stored_items(
    stored: Iterable[tuple[str, dict[str, Any]]], settings: Settings, report: IndexReport
) -> Iterator[_Item | None]:
    for item_id, metadata in stored:
        try:
            image = fit_for_models(load_image(image_path(settings, metadata)))
        except (ImageRejected, OSError) as exc:
            report.rejected.append(Rejection(str(metadata.get("origin", item_id)), str(exc)))
            yield None
            continue
        yield _Item(item_id, image, metadata)


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
    embedders = _load_models(models, settings)
    stored = store.items(collection)
    report = IndexReport()
    items = _stored_items(stored, settings, report)
    return _run(settings, items, len(stored), collection, embedders, store, report, progress)
