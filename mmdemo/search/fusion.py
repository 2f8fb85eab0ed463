"""Pure arithmetic that turns reranker part scores and first-stage scores into one order.

Kept free of models so the rules are trivial to test. Two steps:

1. :func:`weighted_parts`: the reranker's scores of each query part, weighted as the
   retrieval weighted them (text vs image by the slider, the negative prompt subtracted).
2. :func:`fuse`: that score fused with the first-stage cosine score, so that reranking
   adjusts a good first-stage order instead of overriding it (weight chosen on dev data,
   bench/README.md).
"""

from __future__ import annotations

import numpy as np

from mmdemo.search.query import blend

#: Share of the reranker in the fused score (the rest is the first-stage cosine score);
#: chosen on tux-dev, checked on every split (bench/README.md, bench/rerank_fusion.py).
RERANK_SHARE = 0.4


def weighted_parts(
    text: np.ndarray | None,
    image: np.ndarray | None,
    weight: float = 0.5,
    negative: np.ndarray | None = None,
    negative_weight: float = 0.5,
) -> np.ndarray:
    """Reranker part scores weighted like the query vector.

    ``weight * text + (1 - weight) * image`` (or the one given), minus
    ``negative_weight * negative`` when a negative prompt was scored.
    """
    score = blend(text, image, weight)
    if negative is not None:
        score = score - negative_weight * negative
    return np.asarray(score, dtype=np.float64)


def standardise(scores: np.ndarray) -> np.ndarray:
    """Scores as z-scores within one candidate list (all zeros when they are all equal)."""
    scores = np.asarray(scores, dtype=np.float64)
    spread = float(scores.std())
    if scores.size == 0 or spread < 1e-12:
        return np.zeros_like(scores)
    return (scores - scores.mean()) / spread


def fuse(first_stage: np.ndarray, rerank: np.ndarray, share: float = RERANK_SHARE) -> np.ndarray:
    """``share * z(rerank) + (1 - share) * z(first_stage)``: one comparable fused score.

    Standardising each list first puts the cosine scores (a narrow band) and the reranker
    scores (another scale) on one footing; ``share=1`` is the reranker alone.
    """
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}.")
    return share * standardise(rerank) + (1.0 - share) * standardise(first_stage)
