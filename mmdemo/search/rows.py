"""The result rows a search returns: one record per result, the same keys in every mode.

``match`` (0..1, falls with the rank, :mod:`mmdemo.search.calibration`) and its word
``strength`` are what a viewer reads; ``similarity`` is the first-stage cosine score
(image, or image and caption fused), ``rerank_score`` the reranker's fused score and
``rerank_move`` what reranking did in words; ``matched`` lists the query words the item's
text holds. An item's own fields of :data:`~mmdemo.ingest.metadata.RESULT_FIELDS` (date
taken, camera, DICOM fields, OCR text; a photo's position only where GPS is kept:
:func:`~mmdemo.ingest.metadata.result_fields`) follow where it has them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from mmdemo.config import Settings
from mmdemo.ingest.copies import image_path
from mmdemo.ingest.metadata import result_fields
from mmdemo.search.calibration import matches
from mmdemo.search.cutoff import strength
from mmdemo.search.query import Query
from mmdemo.store import Hit
from mmdemo.text.index import LexicalHit

COLUMNS = [
    "rank",
    "id",
    "file_name",
    "path",
    "caption",
    "match",
    "strength",
    "similarity",
    "rerank_score",
    "rank_before_rerank",
    "rerank_move",
    "matched",
]


def rerank_move(rank: int, before: int | None) -> str | None:
    """What reranking did to a result, in words ("moved up 3", "kept its place")."""
    if before is None:
        return None
    shift = before - rank
    if shift == 0:
        return "kept its place"
    return f"moved up {shift}" if shift > 0 else f"moved down {-shift}"


def kept_order_note(before: Sequence[int | None]) -> str | None:
    """The sentence a search says when its reranker kept every result in place."""
    if before and all(b == rank for rank, b in enumerate(before, start=1)):
        return "The reranker agreed with the first ranking and kept every result in its place."
    return None


def result_rows(
    hits: Sequence[Hit],
    query: Query,
    context: tuple[Settings, str, float],
    reranked: tuple[np.ndarray, list[int]] | None,
    words: dict[str, LexicalHit],
) -> list[dict[str, Any]]:
    """The rows of ``hits`` in rank order.

    ``context`` is (settings, model key, caption weight the similarities carry);
    ``reranked`` the reranker's fused scores and ranks before, when one ran; ``words`` each
    hit's lexical match.
    """
    settings, model, caption_weight = context
    similarities = [hit.score for hit in hits]
    weights = [caption_weight if hit.metadata.get("caption") else 0.0 for hit in hits]
    coverages = [words[hit.id].coverage if hit.id in words else 0.0 for hit in hits]
    scored = matches(model, query, similarities, weights, coverages)
    fields = result_fields(settings.keeps_gps)
    rows = []
    for rank, (hit, match) in enumerate(zip(hits, scored, strict=True), start=1):
        before = reranked[1][rank - 1] if reranked else None
        rows.append(
            {
                "rank": rank,
                "id": hit.id,
                "file_name": hit.metadata.get("file_name", ""),
                "path": str(image_path(settings, hit.metadata)),
                "caption": hit.metadata.get("caption", ""),
                "match": match,
                "strength": strength(match),
                "similarity": round(hit.score, 6),
                "rerank_score": float(reranked[0][rank - 1]) if reranked else None,
                "rank_before_rerank": before,
                "rerank_move": rerank_move(rank, before),
                "matched": list(words[hit.id].matched) if hit.id in words else [],
                **{key: hit.metadata[key] for key in fields if key in hit.metadata},
            }
        )
    return rows
