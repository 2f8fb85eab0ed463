"""Retrieval metrics over one ranked list of ids, with binary relevance.

Each function takes the ids in ranked order (best first) and the set of ids that are
relevant to the query. All are pure and return a float in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Collection, Hashable, Mapping, Sequence


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")


def recall_at_k(ranked_ids: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Fraction of the relevant items found in the top ``k`` results.

    Recall@k = |top-k ∩ relevant| / |relevant|, so with one relevant item it is 1.0 when that
    item is in the top ``k`` and 0.0 otherwise. A query with no relevant item scores 0.0.
    """
    _check_k(k)
    if not relevant:
        return 0.0
    wanted = set(relevant)
    found = sum(1 for item in dict.fromkeys(ranked_ids[:k]) if item in wanted)
    return found / len(wanted)


def reciprocal_rank(ranked_ids: Sequence[Hashable], relevant: Collection[Hashable]) -> float:
    """1 / rank of the first relevant item (rank 1 is the top), 0.0 if none is ranked."""
    wanted = set(relevant)
    for rank, item in enumerate(ranked_ids, start=1):
        if item in wanted:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked_ids: Sequence[Hashable], relevant: Collection[Hashable], k: int) -> float:
    """Normalised discounted cumulative gain of the top ``k`` with binary relevance.

    DCG@k = sum over ranks r <= k holding a relevant item of 1 / log2(r + 1); it is divided
    by the ideal DCG, where the first min(|relevant|, k) ranks are all relevant. An id that
    repeats in the ranking gains only at its first rank. No relevant item gives 0.0.
    """
    _check_k(k)
    wanted = set(relevant)
    if not wanted:
        return 0.0
    seen: set[Hashable] = set()
    dcg = 0.0
    for rank, item in enumerate(ranked_ids[:k], start=1):
        if item in wanted and item not in seen:
            dcg += 1.0 / math.log2(rank + 1)
        seen.add(item)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(wanted), k) + 1))
    return dcg / ideal


def summarise(per_query: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Mean of each metric over queries; keys are the union of the per-query keys.

    A metric missing from some queries is averaged over the queries that have it. An empty
    list gives an empty dict.
    """
    totals: dict[str, float] = {}
    counts: dict[str, int] = {}
    for row in per_query:
        for name, value in row.items():
            totals[name] = totals.get(name, 0.0) + float(value)
            counts[name] = counts.get(name, 0) + 1
    return {name: totals[name] / counts[name] for name in totals}
