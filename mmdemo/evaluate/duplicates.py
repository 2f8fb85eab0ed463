"""Near-duplicate groups: items whose embeddings are more similar than a threshold.

Each item's few nearest neighbours come from an exact blocked scan of the collection's
vectors up to :data:`SCAN_MAX_PRODUCTS`, and from the store's batched HNSW queries above
that; memory never holds an n x n matrix. Pairs
above the threshold are joined into groups (union-find), and so are pairs a little below it
whose perceptual fingerprints match (:mod:`mmdemo.evaluate.fingerprints`): a resized,
heavily re-encoded copy can fall below the threshold with some models, never below
:data:`FINGERPRINT_FLOOR`. Identical bytes are already one item (ids are content hashes), so
an "exact" group holds different files that the model cannot tell apart (re-saved,
metadata-only edits); every other group is "near".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmdemo.errors import InputError
from mmdemo.evaluate.fingerprints import distance, fingerprints
from mmdemo.exact import similar_pairs
from mmdemo.store import Store

#: Whether two item ids hold the same picture by some other test than their similarity.
Alike = Callable[[str, str], bool]

#: Default cosine threshold, set by bench/duplicate_threshold.py over every offline model:
#: the lowest candidate with no pair of distinct photos above it (resized, re-encoded and
#: cropped copies of the demo photos vs distinct photos and Tux Paint stamps).
DEFAULT_THRESHOLD = 0.9
#: Pairs below the threshold but at least this similar are joined when their fingerprints
#: match: the weakest resized + re-encoded copy the bench measured scores 0.70 (lite-b2).
FINGERPRINT_FLOOR = 0.65
#: Fingerprints this close (bits of 63) are the same picture, set by the same bench: midway
#: between its resized / re-encoded copies (at most 4) and distinct images (at least 10).
FINGERPRINT_DISTANCE = 7
#: Similarity at or above which two items count as the same picture.
EXACT_SIMILARITY = 0.9999
#: How many nearest neighbours each item asks the store for.
NEIGHBOURS = 8
#: Largest ``items x items x dimensions`` scanned exactly (half of it is computed): 10k
#: 1664-d lite vectors (bench/insight_scaling.py). Up to here the scan is faster than 10k
#: HNSW lookups at the store's ef_search; above it, the scan's quadratic cost wins.
SCAN_MAX_PRODUCTS = 2e11


@dataclass(frozen=True)
class DuplicateGroup:
    """Items that look alike: the first is the one to keep, each with its similarity to it."""

    kind: str
    ids: list[str]
    similarities: list[float]

    def to_json(self) -> dict[str, Any]:
        """The ``duplicates --json`` shape of one group."""
        return {
            "kind": self.kind,
            "items": [
                {"id": item_id, "similarity": round(sim, 4)}
                for item_id, sim in zip(self.ids, self.similarities, strict=True)
            ],
        }


def check_threshold(threshold: float) -> float:
    """``threshold`` when it is a usable cosine similarity (0 < t <= 1), else an InputError."""
    if not 0.0 < threshold <= 1.0:
        raise InputError(f"The duplicate threshold must be above 0 and at most 1, got {threshold}.")
    return float(threshold)


class _Groups:
    """Union-find over row numbers."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, row: int) -> int:
        while self.parent[row] != row:
            self.parent[row] = self.parent[self.parent[row]]
            row = self.parent[row]
        return row

    def join(self, a: int, b: int) -> None:
        root_a, root_b = self.find(a), self.find(b)
        if root_a != root_b:
            self.parent[max(root_a, root_b)] = min(root_a, root_b)


def group_neighbours(
    ids: Sequence[str],
    vectors: np.ndarray,
    neighbour_ids: Sequence[Sequence[str]],
    neighbour_sims: Sequence[np.ndarray] | np.ndarray,
    threshold: float,
    alike: Alike | None = None,
) -> list[DuplicateGroup]:
    """Groups of rows linked by neighbour pairs at or above ``threshold``, largest first.

    ``neighbour_ids[i]`` / ``neighbour_sims[i]`` are row ``i``'s nearest items (any order).
    A pair below the threshold but at or above :data:`FINGERPRINT_FLOOR` is linked too when
    ``alike`` says its two ids hold the same picture. Within a group, the first row in
    ``ids`` order is kept and the others are listed by falling similarity to it.
    """
    threshold = check_threshold(threshold)
    row_of = {item_id: row for row, item_id in enumerate(ids)}
    groups = _Groups(len(ids))
    for row, (found, sims) in enumerate(zip(neighbour_ids, neighbour_sims, strict=True)):
        for other, sim in zip(found, sims, strict=False):
            if other not in row_of or row_of[other] == row:
                continue
            close = sim >= threshold or (
                alike is not None and sim >= FINGERPRINT_FLOOR and alike(ids[row], other)
            )
            if close:
                groups.join(row, row_of[other])
    members: dict[int, list[int]] = {}
    for row in range(len(ids)):
        members.setdefault(groups.find(row), []).append(row)
    found_groups = [_group(ids, vectors, rows) for rows in members.values() if len(rows) > 1]
    return sorted(found_groups, key=lambda g: (-len(g.ids), g.ids[0]))


def _group(ids: Sequence[str], vectors: np.ndarray, rows: list[int]) -> DuplicateGroup:
    block = vectors[rows] @ vectors[rows].T
    keep, others = rows[0], rows[1:]
    to_keep = block[0, 1:]
    order = np.argsort(-to_keep, kind="stable")
    kind = "exact" if float(block.min()) >= EXACT_SIMILARITY else "near"
    return DuplicateGroup(
        kind=kind,
        ids=[ids[keep], *(ids[others[i]] for i in order)],
        similarities=[1.0, *(float(to_keep[i]) for i in order)],
    )


def find_duplicates(
    store: Store, collection: str, model: str, threshold: float = DEFAULT_THRESHOLD
) -> list[DuplicateGroup]:
    """Near-duplicate groups of (collection, model), from an exact scan or the store's HNSW.

    Fingerprints rescue pairs below ``threshold`` only at the default threshold or a looser
    one, where the bench calibrated them: a stricter threshold asks for similarity alone
    (fingerprints are colour-blind, so a black and a red picture of one shape match)."""
    check_threshold(threshold)
    by_fingerprint = threshold <= DEFAULT_THRESHOLD
    ids, vectors = store.embeddings(collection, model)
    if len(ids) < 2:
        return []
    sims: Sequence[np.ndarray] | np.ndarray
    if scan_fits(*vectors.shape):
        floor = min(threshold, FINGERPRINT_FLOOR) if by_fingerprint else threshold
        rows, sims = similar_pairs(vectors, floor, NEIGHBOURS)
        neighbour_ids: Sequence[Sequence[str]] = [[ids[r] for r in found] for found in rows]
    else:
        neighbour_ids, sims = store.neighbours(collection, model, vectors, NEIGHBOURS + 1)
    alike = _same_picture(store, ids, neighbour_ids, sims, threshold) if by_fingerprint else None
    return group_neighbours(ids, vectors, neighbour_ids, sims, threshold, alike)


def _same_picture(
    store: Store,
    ids: Sequence[str],
    neighbour_ids: Sequence[Sequence[str]],
    sims: Sequence[np.ndarray] | np.ndarray,
    threshold: float,
) -> Alike:
    """Whether two items' fingerprints match, hashing only the items of pairs that the
    similarity alone would not join (between the floor and the threshold)."""
    doubtful = {
        item
        for row, (found, row_sims) in enumerate(zip(neighbour_ids, sims, strict=True))
        for other, sim in zip(found, row_sims, strict=False)
        if FINGERPRINT_FLOOR <= sim < threshold
        for item in (ids[row], other)
    }
    known = fingerprints(store.settings, sorted(doubtful)) if doubtful else {}

    def alike(first: str, second: str) -> bool:
        if first not in known or second not in known:
            return False
        return distance(known[first], known[second]) <= FINGERPRINT_DISTANCE

    return alike


def scan_fits(count: int, dim: int) -> bool:
    """Whether ``count`` vectors of ``dim`` values are scanned exactly rather than by HNSW."""
    return count * count * dim <= SCAN_MAX_PRODUCTS


def extra_ids(groups: Sequence[DuplicateGroup]) -> list[str]:
    """The ids to delete so that one item (the first) of each group stays."""
    return [item_id for group in groups for item_id in group.ids[1:]]


def describe(
    groups: Sequence[DuplicateGroup], metadata: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    """Groups as JSON with each item's file name (``metadata``: id -> stored metadata)."""
    described = []
    for group in groups:
        shape = group.to_json()
        for item in shape["items"]:
            item["file_name"] = str(metadata.get(item["id"], {}).get("file_name", ""))
        described.append(shape)
    return described
