"""How much two ranked result lists agree: overlap@k and rank-biased overlap (RBO).

Used by the Compare tab to put a number on "do these two set-ups return the same things in
the same order?". Both measures are pure functions of two lists of item ids.

RBO (Webber, Moffat and Zobel, "A similarity measure for indefinite rankings", 2010) is the
chosen rank measure because top-k lists of two models are usually not over the same items:
Spearman or Kendall need both rankings over one set and must invent ranks for missing items,
while RBO is defined on the prefixes alone. It weights agreement at depth ``d`` by
``p ** (d - 1)``, so the top ranks count most: with ``p = 0.9`` the first 10 ranks carry
about 86 % of the weight. The value is 1 for identical lists and 0 for disjoint ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: RBO persistence: the chance a user looking at rank d also looks at rank d + 1.
DEFAULT_P = 0.9


def overlap_at_k(first: Sequence[str], second: Sequence[str], k: int) -> float:
    """The share of the top ``k`` items the two lists have in common, in [0, 1]."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    return len(set(first[:k]) & set(second[:k])) / k


def _agreements(short: Sequence[str], long: Sequence[str]) -> list[int]:
    """X_d for d = 1..len(long): items shared by the two depth-d prefixes.

    Past the end of ``short`` its prefix stays the whole of ``short``.
    """
    seen_short: set[str] = set()
    seen_long: set[str] = set()
    overlap = 0
    counts = []
    for depth in range(len(long)):
        item_long = long[depth]
        if depth < len(short):
            item_short = short[depth]
            if item_short == item_long:
                overlap += 1
            else:
                overlap += (item_short in seen_long) + (item_long in seen_short)
            seen_short.add(item_short)
        elif item_long in seen_short:
            overlap += 1
        seen_long.add(item_long)
        counts.append(overlap)
    return counts


def rank_biased_overlap(first: Sequence[str], second: Sequence[str], p: float = DEFAULT_P) -> float:
    """Extrapolated RBO of two rankings of distinct ids, in [0, 1] (Webber et al., eq. 32).

    For lists of depths ``s <= l`` with ``X_d`` shared items at depth ``d``::

        RBO = (1-p)/p * (sum_{d=1..l} X_d/d * p^d + sum_{d=s+1..l} X_s*(d-s)/(s*d) * p^d)
              + ((X_l - X_s)/l + X_s/s) * p^l

    Two empty lists agree fully (1.0); one empty list shares nothing (0.0).
    """
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be strictly between 0 and 1, got {p}")
    short, long = (first, second) if len(first) <= len(second) else (second, first)
    s, depth = len(short), len(long)
    if depth == 0:
        return 1.0
    if s == 0:
        return 0.0
    shared = _agreements(short, long)
    x_s, x_l = shared[s - 1], shared[depth - 1]
    weighted = sum(shared[d - 1] / d * p**d for d in range(1, depth + 1))
    weighted += sum(x_s * (d - s) / (s * d) * p**d for d in range(s + 1, depth + 1))
    tail = ((x_l - x_s) / depth + x_s / s) * p**depth
    return (1.0 - p) / p * weighted + tail


def kendall_tau_shared(first: Sequence[str], second: Sequence[str]) -> float | None:
    """Kendall's tau between the two orders of the items both lists contain.

    A rank correlation in [-1, 1]: 1 when the shared items come in the same order, -1 when
    reversed. It says nothing about items only one list has (RBO covers those), and is
    None when fewer than two items are shared, since no pair can be compared.
    """
    position = {item: rank for rank, item in enumerate(second)}
    ranks = [position[item] for item in first if item in position]
    pairs = len(ranks) * (len(ranks) - 1) // 2
    if pairs == 0:
        return None
    concordant = sum(
        1 for i in range(len(ranks)) for j in range(i + 1, len(ranks)) if ranks[i] < ranks[j]
    )
    return (2 * concordant - pairs) / pairs


def agreement(first: Sequence[str], second: Sequence[str], top_k: int) -> dict[str, Any]:
    """overlap@k, RBO and Kendall's tau of two id lists; k is top-k, capped at the longer
    length. The Compare tab's "Agreement" line and the comparison JSON."""
    k = max(1, min(top_k, max(len(first), len(second))))
    return {
        "k": k,
        "shared": len(set(first[:k]) & set(second[:k])),
        "overlap_at_k": overlap_at_k(first, second, k),
        "rbo": rank_biased_overlap(first, second, DEFAULT_P),
        "rbo_p": DEFAULT_P,
        "kendall_tau": kendall_tau_shared(first[:k], second[:k]),
    }
