"""Removing things: a collection or some of its items, and the stored files only they used.

The store forgets the vectors; the image copies and thumbnails go too unless another
collection still shows them (copies are shared by content hash).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from mmdemo.config import Settings
from mmdemo.ingest.copies import image_path, thumb_path
from mmdemo.store import Store


def _referenced(store: Store) -> set[str]:
    """Every ``image_file`` any collection still holds."""
    return {
        str(meta.get("image_file"))
        for info in store.collections()
        for _, meta in store.items(info.name)
    }


def _remove_files(
    settings: Settings, store: Store, doomed: Iterable[tuple[str, dict[str, Any]]]
) -> None:
    still_used = _referenced(store)
    for item_id, meta in doomed:
        if str(meta.get("image_file")) in still_used:
            continue
        for path in (image_path(settings, meta), thumb_path(settings, item_id)):
            path.unlink(missing_ok=True)


def delete_collection(settings: Settings, store: Store, collection: str) -> int:
    """Delete a collection with every model's index; returns how many images it held."""
    doomed = store.items(collection)
    removed = store.delete_collection(collection)
    _remove_files(settings, store, doomed)
    return removed


def delete_items(settings: Settings, store: Store, collection: str, ids: Sequence[str]) -> int:
    """Delete some items of a collection from every model's index; returns how many existed."""
    wanted = set(ids)
    doomed = [(item_id, meta) for item_id, meta in store.items(collection) if item_id in wanted]
    removed = store.delete_items(collection, ids)
    _remove_files(settings, store, doomed)
    return removed
