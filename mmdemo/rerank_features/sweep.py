"""Stored feature rows of images no item holds any more: listed for ``gc``, removed with
their last item."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from mmdemo.config import Settings
from mmdemo.rerank_features.rows import features_root


def unreferenced_rows(settings: Settings, ids: Collection[str]) -> list[Path]:
    """Every reranker's stored rows whose image id is not in ``ids`` (no item holds it)."""
    root = features_root(settings)
    if not root.is_dir():
        return []
    return sorted(path for path in root.glob("*/*/*/*.npy") if path.stem not in ids)


def remove_rows(settings: Settings, ids: Iterable[str]) -> None:
    """Unlink the rows of ``ids`` for every reranker (their images are gone from the store)."""
    root = features_root(settings)
    folders = [path for path in root.glob("*/*") if path.is_dir()]
    for item_id in ids:
        for folder in folders:
            (folder / item_id[:2] / f"{item_id}.npy").unlink(missing_ok=True)
