"""Removing things: a collection or some of its items, and the stored files only they used.

The store forgets the vectors; the image copies and thumbnails go too unless another
collection still shows them (copies are shared by content hash). Deleting waits for any
indexing in this process to finish, so a copy saved for an item not yet stored is never
taken for an orphan.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mmdemo.config import Settings
from mmdemo.ingest.copies import FILES, image_path, thumb_path
from mmdemo.store import Store


def _remove_files(
    settings: Settings, store: Store, doomed: Sequence[tuple[str, dict[str, Any]]]
) -> None:
    """Unlink the copies and thumbnails of ``doomed`` items that no collection holds now."""
    still_used = store.ids_in_use([item_id for item_id, _ in doomed])
    for item_id, meta in doomed:
        if item_id not in still_used:
            image_path(settings, meta).unlink(missing_ok=True)
            thumb_path(settings, item_id).unlink(missing_ok=True)


def delete_collection(settings: Settings, store: Store, collection: str) -> int:
    """Delete a collection with every model's index; returns how many images it held."""
    with FILES.deleting(settings):
        doomed = store.items(collection)
        removed = store.delete_collection(collection)
        _remove_files(settings, store, doomed)
    return removed


def delete_items(settings: Settings, store: Store, collection: str, ids: Sequence[str]) -> int:
    """Delete some items of a collection from every model's index; returns how many existed."""
    wanted = set(ids)
    with FILES.deleting(settings):
        doomed = [(i, meta) for i, meta in store.items(collection) if i in wanted]
        removed = store.delete_items(collection, ids)
        _remove_files(settings, store, doomed)
    return removed
