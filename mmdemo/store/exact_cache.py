"""The store's in-memory copies of collections' vectors for exact search, least recently
used dropped first."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from mmdemo.exact import ExactIndex

#: How many (collection, model) vector copies stay in memory.
EXACT_CACHED = 8

#: What a copy is loaded from: ids, their (n, dim) vectors, and one metadata each.
Rows = tuple[list[str], np.ndarray, list[Mapping[str, Any] | None]]


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

    def get(self, key: str, count: int, load: Callable[[], Rows]) -> ExactIndex:
        """The copy of ``key``, loaded again through ``load`` (ids, vectors and metadata)
        when its count changed."""
        cached = self.drop(key)
        if cached is None or cached.count != count:
            ids, vectors, metadata = load()
            cached = ExactIndex.build(ids, vectors, count, metadata)
        self._keep(key, cached)
        return cached

    def appended(
        self,
        key: str,
        old: ExactIndex | None,
        ids: Sequence[str],
        vectors: np.ndarray,
        metadata: Sequence[Mapping[str, Any] | None],
    ) -> None:
        """Keep ``old`` plus the rows just added (not reloaded; a count that disagrees on the
        next query reloads it)."""
        if old is not None:
            self._keep(key, old.extended(ids, vectors, metadata))

    def _keep(self, key: str, index: ExactIndex) -> None:
        with self._lock:
            self._indexes[key] = index  # most recently used last
            while len(self._indexes) > EXACT_CACHED:
                self._indexes.pop(next(iter(self._indexes)))
