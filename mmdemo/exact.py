"""Exact cosine top-k over an in-memory matrix (pure numpy), with the rows' metadata.

Below a size where a full scan takes a few milliseconds, scanning every stored vector is
both faster than Chroma's HNSW graph and always exact; the store keeps one such matrix per
(collection, model) and asks HNSW only above :data:`EXACT_MAX_FLOATS`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Largest ``items x dimensions`` searched exactly: 16M float32 values (64 MB, e.g. 9.6k
#: 1664-d lite vectors or 31k 512-d ones). A scan reads the whole matrix, so its cost is
#: memory bandwidth: about 0.3 ms per million values on 2 idle cores, 5 ms here, inside the
#: 10 ms query budget (bench/README.md, "Speed"); the hits' metadata is held beside it.
EXACT_MAX_FLOATS = 16_000_000


def exact_fits(count: int, dim: int) -> bool:
    """Whether ``count`` vectors of ``dim`` values are searched exactly rather than by HNSW."""
    return count * dim <= EXACT_MAX_FLOATS


@dataclass(frozen=True)
class ExactIndex:
    """Unit-length rows and their ids; ``count`` is the store's count it was loaded at.

    ``metadata`` holds each id's stored metadata when the store loaded it too, so that a
    search's hits need no second read (that read was most of a small collection's query).
    """

    ids: list[str]
    vectors: np.ndarray
    count: int
    metadata: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        ids: Sequence[str],
        vectors: np.ndarray,
        count: int,
        metadata: Sequence[Mapping[str, Any] | None] = (),
    ) -> ExactIndex:
        """Normalise ``vectors`` (as the store's cosine space does) and keep them as float32,
        with ``metadata`` (one per id, or none at all)."""
        matrix = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True) if len(matrix) else 1.0
        by_id = {i: dict(m or {}) for i, m in zip(ids, metadata, strict=True)} if metadata else {}
        return cls(list(ids), matrix / np.maximum(norms, 1e-12), count, by_id)

    def extended(
        self, ids: Sequence[str], vectors: np.ndarray, metadata: Sequence[Mapping[str, Any] | None]
    ) -> ExactIndex:
        """This index plus new rows, counted as the store will count them after the add."""
        added = ExactIndex.build(ids, vectors, 0, metadata)
        matrix = np.concatenate([self.vectors, added.vectors]) if len(ids) else self.vectors
        return ExactIndex(
            [*self.ids, *added.ids], matrix, self.count + len(ids), self.metadata | added.metadata
        )

    def top_k(
        self, query: np.ndarray, k: int, allowed: Collection[str] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best (id, cosine) pairs for ``query``, best first, ties by id.

        ``allowed`` restricts the search to those ids (a caption filter's matches).
        """
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        scores = self.vectors @ (vector / max(float(np.linalg.norm(vector)), 1e-12))
        rows = np.arange(len(self.ids))
        if allowed is not None:
            rows = np.array([i for i, item in enumerate(self.ids) if item in allowed], dtype=int)
        if not len(rows) or k < 1:
            return []
        subset = scores[rows]
        if k < len(rows):
            # Every row tied with the k-th score stays a candidate, so the ids decide the ties.
            cutoff = subset[np.argpartition(-subset, k - 1)[k - 1]]
            keep = np.flatnonzero(subset >= cutoff)
            rows, subset = rows[keep], subset[keep]
        order = sorted(range(len(rows)), key=lambda i: (-subset[i], self.ids[rows[i]]))[:k]
        return [(self.ids[rows[i]], float(subset[i])) for i in order]


def similar_pairs(
    vectors: np.ndarray, floor: float, k: int, block: int = 1024
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each row ``i``, the (up to) ``k`` most similar later rows ``j > i`` with cosine
    at or above ``floor``, and those cosines, best first.

    Every pair at or above ``floor`` is listed once, by its first row (``k`` only bounds a
    floor so low that most pairs pass it). One block of rows at a time is scored against
    itself and the rows after it: half the products of a full scan, and memory stays at
    ``block x n`` scores, never the ``n x n`` matrix.
    """
    matrix = ExactIndex.build([], vectors, 0).vectors
    found_rows: list[np.ndarray] = []
    found_sims: list[np.ndarray] = []
    for start in range(0, len(matrix), block):
        scores = matrix[start : start + block] @ matrix[start:].T
        hit_rows, hit_cols = np.nonzero(scores >= floor)
        later = hit_cols > hit_rows
        hit_rows, hit_cols = hit_rows[later], hit_cols[later]
        bounds = np.concatenate([[0], np.cumsum(np.bincount(hit_rows, minlength=len(scores)))])
        for row in range(len(scores)):
            cols = hit_cols[bounds[row] : bounds[row + 1]]
            sims = scores[row, cols]
            if len(cols) > k:
                keep = np.argpartition(-sims, k - 1)[:k]
                cols, sims = cols[keep], sims[keep]
            order = np.argsort(-sims, kind="stable")
            found_rows.append(cols[order] + start)
            found_sims.append(sims[order])
    return found_rows, found_sims
