"""Removing things: a collection or some of its items, and the stored files only they used.

The store forgets the vectors; the image copies, thumbnails and stored reranker features
go too unless another collection still shows them (all are shared by content hash).
Deleting and sweeping wait for any indexing (in any process sharing the data dir, and the
store's runtime's in this one) to finish, so a copy saved for an item not yet stored is
never taken for an orphan.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mmdemo.atomic import abandoned
from mmdemo.config import Settings
from mmdemo.ingest.copies import THUMB_SUFFIX, image_path, thumb_path
from mmdemo.rerank_features.sweep import remove_rows, unreferenced_rows
from mmdemo.store import Store
from mmdemo.store.layout import DERIVED_CACHES
from mmdemo.text import persist as lexical


def _remove_files(
    settings: Settings, store: Store, doomed: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """Unlink the copies and thumbnails of ``doomed`` items that no collection holds now."""
    still_used = store.ids_in_use([item_id for item_id, _ in doomed])
    gone = [(item_id, meta) for item_id, meta in doomed if item_id not in still_used]
    for item_id, meta in gone:
        image_path(settings, meta).unlink(missing_ok=True)
        thumb_path(settings, item_id).unlink(missing_ok=True)
    remove_rows(settings, [item_id for item_id, _ in gone])


def delete_collection(settings: Settings, store: Store, collection: str) -> int:
    """Delete a collection with every model's index; returns how many images it held."""
    with store.runtime.files.deleting(settings):
        doomed = store.items(collection)
        removed = store.delete_collection(collection)
        _remove_files(settings, store, doomed)
        lexical.forget(store, collection)
    return removed


def delete_items(settings: Settings, store: Store, collection: str, ids: Sequence[str]) -> int:
    """Delete some items of a collection from every model's index; returns how many existed."""
    wanted = set(ids)
    with store.runtime.files.deleting(settings):
        doomed = [(i, meta) for i, meta in store.items(collection) if i in wanted]
        removed = store.delete_items(collection, ids)
        _remove_files(settings, store, doomed)
        if store.models(collection):
            lexical.lexical_index(store, collection)  # rebuilt without the deleted items
    return removed


def _referenced(store: Store) -> tuple[set[str], set[str], set[str]]:
    """The image-copy names, the item ids and the collection names that exist."""
    copies: set[str] = set()
    ids: set[str] = set()
    names: set[str] = set()
    for info in store.collections():
        names.add(info.name)
        for item_id, meta in store.items(info.name):
            ids.add(item_id)
            copies.add(str(meta.get("image_file", "")))
    return copies, ids, names


def _unused(folder: Path, used: Callable[[Path], bool]) -> list[Path]:
    """Files directly in ``folder`` for which ``used`` is false, by name."""
    if not folder.is_dir():
        return []
    return [path for path in sorted(folder.iterdir()) if path.is_file() and not used(path)]


def _orphans(settings: Settings, copies: set[str], ids: set[str], names: set[str]) -> list[Path]:
    """Files under images/ and thumbs/ that no item refers to, left-over ``.part`` files
    there, stored reranker feature rows of images no item holds, lexical indexes of
    collections that no longer exist, and temporaries killed writers left elsewhere."""
    return [
        *_unused(settings.images_dir, lambda path: path.name in copies),
        *_unused(
            settings.thumbs_dir, lambda path: path.suffix == THUMB_SUFFIX and path.stem in ids
        ),
        *unreferenced_rows(settings, ids),
        *lexical.orphans(settings, names),
        *(path for folder in _written_dirs(settings) for path in abandoned(folder)),
    ]


def _written_dirs(settings: Settings) -> list[Path]:
    """The folders of the data dir's other atomically written files (the layout version,
    the derived caches, the change marker), whose abandoned temporaries ``gc`` removes."""
    data = settings.data_dir
    return [data, *(data / name for name in DERIVED_CACHES), settings.locks_dir]


def sweep_orphans(settings: Settings, store: Store, *, apply: bool = False) -> list[Path]:
    """The stored files no item refers to (what a killed ingest leaves behind) and the
    Chroma segment folders of deleted collections.

    With ``apply`` they are removed, and so are collections a killed ingest left empty,
    and the database is compacted; without, this is a dry run. A file that any item of
    any collection refers to is never listed. Waits for ingests in every process first.
    """
    with store.runtime.files.deleting(settings):
        copies, ids, names = _referenced(store)
        orphans = [*_orphans(settings, copies, ids, names), *store.unused_files()]
        if apply:
            for path in orphans:
                if path.is_file():
                    path.unlink(missing_ok=True)
            store.reclaim()  # the folders, under the store's write lock
    return orphans
