"""The feature rows of one reranker and layout on disk, one ``.npy`` file per image.

Rows live under a folder named by their layout (``features/<reranker>/<layout>/``, e.g.
``lite0_views_1``: which CNN, how many views averaged). Rows of another layout are dropped
when a reranker first opens its layout's folder, and computed again on first use.
"""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from mmdemo.config import Settings
from mmdemo.store.layout import safe_name
from mmdemo.store.space import write_stored


def features_root(settings: Settings) -> Path:
    """The folder holding every reranker's rows."""
    return settings.data_dir / "features"


_claiming = threading.Lock()  # one layout claim at a time in this process


class FeatureStore:
    """The feature rows of one reranker inside a data directory, all of one ``layout``."""

    def __init__(self, settings: Settings, reranker_key: str, layout: str) -> None:
        reranker = features_root(settings) / safe_name(reranker_key, "reranker")
        self.folder = reranker / safe_name(layout, "layout")
        if not self.folder.is_dir():
            self._claim()

    def _claim(self) -> None:
        """Make this layout the reranker's only one: folders of other layouts are moved
        aside under a name of their own, then removed. Claims in this process take turns
        and look again once it is theirs, so none removes rows another just wrote for the
        new layout; two processes claiming at once at most drop rows to compute again."""
        with _claiming:
            if self.folder.is_dir():
                return
            others = self.folder.parent.iterdir() if self.folder.parent.is_dir() else iter(())
            for other in [path for path in others if path.is_dir()]:
                stale = other.with_name(f"{other.name}.stale-{uuid.uuid4().hex}")
                try:
                    other.rename(stale)
                except OSError:  # another process moved it first
                    continue
                shutil.rmtree(stale, ignore_errors=True)
            self.folder.mkdir(parents=True, exist_ok=True)

    def path(self, item_id: str) -> Path:
        """Where the row of one image lives."""
        return self.folder / item_id[:2] / f"{item_id}.npy"

    def load(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored rows among ``ids``; a missing or unreadable row is simply absent."""
        rows = {}
        for item_id in ids:
            try:
                rows[item_id] = np.load(self.path(item_id), allow_pickle=False)
            except (OSError, ValueError):
                continue
        return rows

    def save(self, ids: Sequence[str], rows: np.ndarray) -> None:
        """Store one float32 row per id (atomically, so readers never see half a row)."""
        for item_id, row in zip(ids, rows, strict=True):
            write_stored(self.path(item_id), _npy_writer(row))


def _npy_writer(row: np.ndarray) -> Callable[[Path], None]:
    data = np.ascontiguousarray(row, dtype=np.float32)

    def write(target: Path) -> None:
        with target.open("wb") as handle:
            np.save(handle, data, allow_pickle=False)

    return write
