"""Dense + lexical fusion: weighted reciprocal-rank fusion of two rankings (pure).

Each candidate has a dense rank (by its cosine score: image, or image and caption fused)
and, when its text holds query words, a lexical rank (by BM25). The fused score is
``(1 - w) / (k + dense rank) + w / (k + lexical rank)``; a candidate without a lexical rank
keeps only its dense part. Ranks, not scores, are fused because BM25 and cosine scores live
on unrelated scales that move with the collection and the query; the choice over calibrated
score fusion, ``k`` and the default weight were made on a dev split (bench/README.md,
"Lexical + dense fusion", bench/lexical_fusion.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from mmdemo.errors import InputError

#: Default lexical weight ``w`` (0: dense only; 1: items matching the words first).
LEXICAL_WEIGHT = 0.5
#: The rank offset ``k`` of reciprocal-rank fusion.
RRF_K = 60


def check_weight(weight: float) -> float:
    """``weight`` when it is a valid lexical weight, else an InputError saying why."""
    if not 0.0 <= weight <= 1.0:
        raise InputError(f"The lexical weight must be between 0 and 1, got {weight}.")
    return weight


def fuse_ranks(
    dense: Mapping[str, float],
    lexical: Sequence[str],
    weight: float = LEXICAL_WEIGHT,
    k: int = RRF_K,
) -> list[str]:
    """The ids of ``dense`` (id -> cosine score) in fused order, best first.

    ``lexical`` lists the ids whose text matched, best BM25 score first; ids not in
    ``dense`` are ignored. Ties (equal fused scores, e.g. at ``weight`` 1 among items
    without matched words) fall to the dense score, then the id.
    """
    check_weight(weight)
    dense_order = sorted(dense, key=lambda item_id: (-dense[item_id], item_id))
    fused = {
        item_id: (1.0 - weight) / (k + rank) for rank, item_id in enumerate(dense_order, start=1)
    }
    for rank, item_id in enumerate((i for i in lexical if i in dense), start=1):
        fused[item_id] += weight / (k + rank)
    return sorted(fused, key=lambda item_id: (-fused[item_id], -dense[item_id], item_id))
