"""Stored reranker features: each image's per-image reranker inputs, computed once.

A reranker that can split its score into a per-image part and a per-query part (the
offline ``lite`` reranker: view-averaged class log-probabilities and mean pooled CNN
features) keeps the per-image part here, one ``.npy`` row per image under
``<data_dir>/features/<reranker>/<layout>/<id[:2]>/<id>.npy``. Item ids are the sha256 of the
image bytes, so a row is valid for every collection holding that image. Rows are written
when an image is indexed with an embedder the reranker builds on, and on first use for
images indexed before that (see :meth:`mmdemo.rerank.Reranker.score_parts`).

Rows live under a folder named by their layout (``features/<reranker>/<layout>/``, e.g.
``lite0_views_1``: which CNN, how many views averaged). Rows of another layout are dropped
when a reranker first opens its layout's folder, and computed again on first use.
"""

from __future__ import annotations

import contextlib
import shutil
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from mmdemo.config import Settings
from mmdemo.errors import OutOfSpaceError
from mmdemo.ingest.copies import write_atomically
from mmdemo.store.layout import safe_name


def _root(settings: Settings) -> Path:
    return settings.data_dir / "features"


_claiming = threading.Lock()  # one layout claim at a time in this process


class FeatureStore:
    """The feature rows of one reranker inside a data directory, all of one ``layout``."""

    def __init__(self, settings: Settings, reranker_key: str, layout: str) -> None:
        reranker = _root(settings) / safe_name(reranker_key, "reranker")
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
            write_atomically(self.path(item_id), _npy_writer(row))


#: Bytes of feature rows a loaded reranker keeps in memory (about 3,600 lite rows).
ROW_CACHE_BYTES = 32 * 2**20


class RowCache:
    """The feature rows a reranker read or computed lately, by file, up to ``max_bytes``,
    least recently used dropped first.

    A search reads its top candidates' rows, and the same images come back query after
    query: reading 20 ``.npy`` files took about 1.3 ms of a 15 ms reranked search here, and
    costs a round trip each on network storage. A row never changes once written (an id is
    its image's hash), so a kept row stays right; one whose file was removed (its image
    left the store) is only used again if that image comes back, with the same row.
    """

    def __init__(self, max_bytes: int = ROW_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._rows: OrderedDict[Path, np.ndarray] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def load(self, store: FeatureStore, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The rows among ``ids`` kept here or stored in ``store``; others are absent."""
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for item_id in ids:
                path = store.path(item_id)
                if path in self._rows:
                    self._rows.move_to_end(path)
                    found[item_id] = self._rows[path]
        read = store.load([i for i in ids if i not in found])
        self._keep(store, read)
        return found | read

    def save(self, store: FeatureStore, ids: Sequence[str], rows: np.ndarray) -> None:
        """Store one row per id in ``store`` (unless the disk is full) and keep them here."""
        with contextlib.suppress(OutOfSpaceError):
            store.save(ids, rows)
        self._keep(store, dict(zip(ids, rows, strict=True)))

    def clear(self) -> None:
        """Forget every kept row (they are read from their files again)."""
        with self._lock:
            self._rows.clear()
            self._bytes = 0

    def _keep(self, store: FeatureStore, rows: Mapping[str, np.ndarray]) -> None:
        with self._lock:
            for item_id, row in rows.items():
                path = store.path(item_id)
                if path not in self._rows:
                    self._bytes += row.nbytes
                self._rows[path] = row
                self._rows.move_to_end(path)
            while self._bytes > self.max_bytes and self._rows:
                self._bytes -= self._rows.popitem(last=False)[1].nbytes


def unreferenced_rows(settings: Settings, ids: Collection[str]) -> list[Path]:
    """Every reranker's stored rows whose image id is not in ``ids`` (no item holds it)."""
    root = _root(settings)
    if not root.is_dir():
        return []
    return sorted(path for path in root.glob("*/*/*/*.npy") if path.stem not in ids)


def remove_rows(settings: Settings, ids: Iterable[str]) -> None:
    """Unlink the rows of ``ids`` for every reranker (their images are gone from the store)."""
    root = _root(settings)
    folders = [path for path in root.glob("*/*") if path.is_dir()]
    for item_id in ids:
        for folder in folders:
            (folder / item_id[:2] / f"{item_id}.npy").unlink(missing_ok=True)


def _npy_writer(row: np.ndarray) -> Callable[[Path], None]:
    data = np.ascontiguousarray(row, dtype=np.float32)

    def write(target: Path) -> None:
        with target.open("wb") as handle:
            np.save(handle, data, allow_pickle=False)

    return write
