"""Pure arithmetic that turns reranker part scores and first-stage scores into one order.

Kept free of models so the rules are trivial to test. Two steps:

1. :func:`weighted_parts`: the reranker's scores of each query part, weighted as the
   retrieval weighted them (text vs image by the slider, the negative prompt subtracted).
2. :func:`fuse`: that score fused with the first-stage cosine score, so that reranking
   adjusts a good first-stage order instead of overriding it. The reranker's share adapts
   to the first stage's confidence (:func:`adaptive_share`): when its #1 stands clear of
   its #2 the first stage is trusted as it is, because where the embedder already knows a
   concept the reranker only made its near-perfect order worse; and the reranker has a say
   only when it decides clearly itself (its own #1 stands clear), because a reranker that
   is unsure only reshuffled close calls at random (bench/README.md).
"""

from __future__ import annotations

import numpy as np

from mmdemo.search.query import blend

#: Largest share of the reranker in the fused score (the rest is the first-stage cosine
#: score), given when the first stage's top two are tied.
RERANK_SHARE = 0.4
#: First-stage margin (top-1 minus top-2 score, in standard deviations of the candidates'
#: scores) from which the reranker's share is 0. Both chosen on tux-dev and tux-train only,
#: checked on the held-out splits (bench/README.md, bench/rerank_fusion.py).
CONFIDENT_MARGIN = 0.25
#: The reranker's own top margin (same measure) below which it has no say: an unsure
#: reranker is not let in. Chosen on tux-dev, tux-train and emoji (bench/README.md).
DECISIVE_MARGIN = 0.5


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
    standard: np.ndarray = (scores - scores.mean()) / spread
    return standard


def top_margin(scores: np.ndarray) -> float:
    """How far the best score of a list stands above the second, in standard deviations of
    the list (scale-free, so one threshold serves every embedder and the reranker); 0 for
    under 2 items."""
    if np.asarray(scores).size < 2:
        return 0.0
    top = np.sort(standardise(scores))[::-1]
    return float(top[0] - top[1])


def adaptive_share(
    first_stage: np.ndarray,
    rerank: np.ndarray | None = None,
    share: float = RERANK_SHARE,
    confident: float = CONFIDENT_MARGIN,
    decisive: float = DECISIVE_MARGIN,
) -> float:
    """The reranker's share for one candidate list: ``share`` when the first stage's top two
    are tied, falling linearly to 0 at a margin of ``confident`` (:func:`top_margin`); and 0
    whenever the reranker's own top margin (given ``rerank``) is under ``decisive``."""
    if rerank is not None and top_margin(rerank) < decisive:
        return 0.0
    return share * max(0.0, 1.0 - top_margin(first_stage) / confident)


def fuse(first_stage: np.ndarray, rerank: np.ndarray, share: float | None = None) -> np.ndarray:
    """``share * z(rerank) + (1 - share) * z(first_stage)``: one comparable fused score.

    Standardising each list first puts the cosine scores (a narrow band) and the reranker
    scores (another scale) on one footing; ``share=1`` is the reranker alone, and the
    default ``None`` is :func:`adaptive_share` of both lists.
    """
    if share is None:
        share = adaptive_share(first_stage, rerank)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be between 0 and 1, got {share}.")
    return share * standardise(rerank) + (1.0 - share) * standardise(first_stage)
