"""Which results are strong matches: a per-model score threshold, measured, not guessed.

A text query's cosine score means little on its own, and a small collection always fills the
grid. A result scoring below its model's threshold is a weak match: the page greys it and
hides it behind "show weaker matches", and says so when nothing is strong. The thresholds
come from ``bench/cutoff_thresholds.py`` on the Tux Paint dev split (see bench/README.md):
the score that 80 % of relevant text->image pairs reach. They hold only for plain text
queries (an image query's scores live on another scale, a negative prompt shifts them), and
only for models measured here; otherwise every result counts as strong.
"""

from __future__ import annotations

from collections.abc import Sequence

from mmdemo.search.query import Query

#: Cosine thresholds of plain text queries, per embedder key (tux dev, recall 0.8).
TEXT_THRESHOLDS: dict[str, float] = {"lite": 0.204, "lite-b2": 0.216}


def threshold(model: str, query: Query) -> float | None:
    """The strong-match threshold for ``query`` searched with ``model``, or None for none."""
    if not query.has_text or query.has_image or query.has_negative:
        return None
    return TEXT_THRESHOLDS.get(model)


def strong(scores: Sequence[float], cut: float | None) -> list[bool]:
    """For each first-stage score, whether it is a strong match under threshold ``cut``."""
    return [cut is None or score >= cut for score in scores]
