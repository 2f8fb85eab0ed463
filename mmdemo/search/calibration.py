"""``match``: one score in [0, 1] a viewer can read, the same strength in every mode (pure).

Each result's first-stage similarity goes through its model's logistic for the query's
mode (:mod:`mmdemo.search.cutoff` holds the constants), plus the share of the query's words
its text holds. A reranker or the lexical fusion may order results differently from that
evidence; ``match`` must still fall with the rank, so the values are made non-increasing
down the final order by pooling adjacent violators (isotonic regression): the closest
monotone sequence to the calibrated values, each one the mean of a run of them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from mmdemo.search.cutoff import (
    CALIBRATION,
    CAPTION_RAISES,
    FALLBACK,
    FALLBACK_LEXICAL_SLOPE,
    LEXICAL_SLOPES,
    RAISE_WEIGHTS,
)
from mmdemo.search.query import Query


def mode_of(query: Query) -> str:
    """The calibration mode of a query: "negative" when it has a negative prompt, else
    "text", "image" or "text+image" by what shapes its vector."""
    if query.has_negative:
        return "negative"
    text = query.has_text and (not query.has_image or query.weight > 0)
    image = query.has_image and (not query.has_text or query.weight < 1)
    if text and image:
        return "text+image"
    return "text" if text else "image"


def is_calibrated(model: str) -> bool:
    """Whether ``model``'s scores were calibrated here (else the fallback applies)."""
    return model in CALIBRATION


def caption_raise(model: str, caption_weight: float) -> float:
    """How much higher a fused image + caption score sits than an image score of the same
    strength, at ``caption_weight`` (0 for models not measured)."""
    raises = CAPTION_RAISES.get(model)
    if raises is None or caption_weight <= 0:
        return 0.0
    return float(np.interp(caption_weight, RAISE_WEIGHTS, raises))


def calibrated(
    model: str, mode: str, similarity: float, caption_weight: float = 0.0, coverage: float = 0.0
) -> float:
    """The calibrated match of one result, before the monotone pass.

    ``caption_weight``: the caption share in this result's similarity (0 when it has no
    caption or captions did not count); ``coverage``: the share of query words its text holds.
    """
    slope, intercept = CALIBRATION.get(model, FALLBACK)[mode]
    lexical = LEXICAL_SLOPES.get(model, FALLBACK_LEXICAL_SLOPE)
    shifted = similarity - caption_raise(model, caption_weight)
    logit = slope * shifted + intercept + lexical * coverage
    return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, logit))))


def non_increasing(values: Sequence[float]) -> list[float]:
    """The non-increasing sequence closest to ``values`` (least squares): adjacent values
    that rise are pooled into their mean until none does."""
    blocks: list[list[float]] = []  # [sum, count] of each pooled run
    for value in values:
        blocks.append([float(value), 1.0])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] < blocks[-1][0] / blocks[-1][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    return [total / count for total, count in blocks for _ in range(int(count))]


def matches(
    model: str,
    query: Query,
    similarities: Sequence[float],
    caption_weights: Sequence[float],
    coverages: Sequence[float],
) -> list[float]:
    """The ``match`` of each result in rank order: calibrated, then non-increasing, rounded
    to 3 decimals."""
    mode = mode_of(query)
    raw = [
        calibrated(model, mode, s, w, c)
        for s, w, c in zip(similarities, caption_weights, coverages, strict=True)
    ]
    return [round(value, 3) for value in non_increasing(raw)]
