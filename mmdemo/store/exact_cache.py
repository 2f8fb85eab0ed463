"""The store's in-memory copies of collections' vectors for exact search, least recently
used dropped first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from mmdemo.exact import ExactIndex

#: How many (collection, model) vector copies stay in memory.
EXACT_CACHED = 8


class ExactCache:
    """Exact indexes by Chroma collection id; safe to use from the app's handler threads."""

    def __init__(self) -> None:
        self._indexes: dict[str, ExactIndex] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every copy (another process changed the store)."""
        with self._lock:
            self._indexes = {}

    def drop(self, key: str) -> ExactIndex | None:
        """Forget one collection's copy (it is being changed); returns it if there was one."""
        with self._lock:
            return self._indexes.pop(key, None)

    def get(
        self, key: str, count: int, load: Callable[[], tuple[list[str], np.ndarray]]
    ) -> ExactIndex:
        """The copy of ``key``, loaded again through ``load`` when its count changed."""
        cached = self.drop(key)
        if cached is None or cached.count != count:
            cached = ExactIndex.build(*load(), count=count)
        self._keep(key, cached)
        return cached

    def appended(
        self, key: str, old: ExactIndex | None, ids: Sequence[str], vectors: np.ndarray
    ) -> None:
        """Keep ``old`` plus the rows just added (not reloaded; a count that disagrees on the
        next query reloads it)."""
        if old is not None:
            self._keep(key, old.extended(ids, vectors))

    def _keep(self, key: str, index: ExactIndex) -> None:
        with self._lock:
            self._indexes[key] = index  # most recently used last
            while len(self._indexes) > EXACT_CACHED:
                self._indexes.pop(next(iter(self._indexes)))
