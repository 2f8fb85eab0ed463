"""Which results are strong matches: a per-model score threshold, measured, not guessed.

A text query's cosine score means little on its own, and a small collection always fills the
grid. A result scoring below its model's threshold is a weak match: the page greys it and
hides it behind "show weaker matches", and says so when nothing is strong. The thresholds
come from ``bench/cutoff_thresholds.py`` on the Tux Paint dev split (see bench/README.md):
the score that 80 % of relevant text->image pairs reach. They hold only for plain text
queries (an image query's scores live on another scale, a negative prompt shifts them), and
only for models measured here; otherwise every result counts as strong.

With captions counting (:mod:`mmdemo.search.hybrid`), a captioned result's score is the fused
image + caption score, which separates true from false matches better than its image part
(bench/cutoff_hybrid.py: ROC AUC .91 vs .81 at weight 0.4) but sits higher: its threshold is
the image-only one raised by the amount the recall-80 cut of fused scores rose over the
image-only cut on held-out clipart, at that caption weight. A result without a caption keeps
its image score, so it keeps the image-only threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mmdemo.search.query import Query

#: Cosine thresholds of plain text queries, per embedder key (tux dev, recall 0.8).
TEXT_THRESHOLDS: dict[str, float] = {"lite": 0.204, "lite-b2": 0.216}
#: Caption weights at which the raises below were measured.
RAISE_WEIGHTS = tuple(round(0.1 * step, 1) for step in range(11))
#: Per embedder key, how far the recall-80 cut of fused scores lies above the image-only cut
#: at each of RAISE_WEIGHTS (clipart dev, bench/cutoff_hybrid.py); interpolated between them.
CAPTION_RAISES: dict[str, tuple[float, ...]] = {
    "lite": (0.0, 0.011, 0.02, 0.026, 0.028, 0.03, 0.031, 0.031, 0.032, 0.032, 0.032),
    "lite-b2": (0.0, 0.011, 0.019, 0.028, 0.031, 0.033, 0.034, 0.034, 0.033, 0.033, 0.033),
}


def threshold(model: str, query: Query, caption_weight: float = 0.0) -> float | None:
    """The strong-match threshold of a score ``model`` gave ``query``, or None for none.

    ``caption_weight`` is the share captions had in that score: the weight the search
    fused them with, 0 when it ranked by image alone or the item has no caption.
    """
    if not query.has_text or query.has_image or query.has_negative:
        return None
    base = TEXT_THRESHOLDS.get(model)
    if base is None:
        return None
    raises = CAPTION_RAISES.get(model, (0.0,) * len(RAISE_WEIGHTS))
    return base + float(np.interp(caption_weight, RAISE_WEIGHTS, raises))


def strong(scores: Sequence[float], cuts: Sequence[float | None]) -> list[bool]:
    """For each first-stage score, whether it is a strong match under its own threshold."""
    return [cut is None or score >= cut for score, cut in zip(scores, cuts, strict=True)]


def judge(
    model: str, query: Query, caption_weight: float, rows: Sequence[dict[str, Any]]
) -> tuple[list[bool], float | None]:
    """Whether each result row (``score``, ``caption``) is a strong match, and the threshold
    to quote (the fused one when any row has a caption).

    A captioned row's score was fused with ``caption_weight`` and is judged against the fused
    threshold; a row without a caption scored on its image alone and is judged as such.
    """
    fused = threshold(model, query, caption_weight)
    image = threshold(model, query)
    captioned = [bool(row.get("caption")) for row in rows]
    flags = strong(
        [float(row["score"]) for row in rows],
        [fused if has else image for has in captioned],
    )
    return flags, fused if any(captioned) else image
