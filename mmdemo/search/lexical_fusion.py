"""Dense + lexical fusion: one score from an item's cosine and its BM25 score (pure).

Each candidate has a dense score (its cosine: image, or image and caption fused) and, when
its text holds query words, a BM25 score. BM25 scores grow with the query's length and the
collection's vocabulary, so each is divided by the query's best BM25 score (1 for the best
lexical match, whatever the query), and the fused score is
``(1 - w) * cosine + w * BM25 / best BM25``; a candidate without matched words keeps
``(1 - w) * cosine``, so among those the dense order holds. This calibrated score fusion
beat weighted reciprocal-rank fusion on the dev split at every weight with captions counting
and without, and ``w`` = 0.4 is the smallest weight at which exact-term queries reached
R@1 1.0 on dev both ways (bench/README.md, "Lexical + dense fusion", bench/lexical_fusion.py).
"""

from __future__ import annotations

from collections.abc import Mapping

from mmdemo.errors import InputError

#: Default lexical weight ``w`` (0: dense only; 1: by matched words, ties by the cosine).
LEXICAL_WEIGHT = 0.4


def check_weight(weight: float) -> float:
    """``weight`` when it is a valid lexical weight, else an InputError saying why."""
    if not 0.0 <= weight <= 1.0:
        raise InputError(f"The lexical weight must be between 0 and 1, got {weight}.")
    return weight


def fuse_scores(
    dense: Mapping[str, float], lexical: Mapping[str, float], weight: float = LEXICAL_WEIGHT
) -> list[str]:
    """The ids of ``dense`` (id -> cosine score) in fused order, best first.

    ``lexical`` holds the BM25 scores of the ids whose text matched (any id: the best of
    them sets the scale, even one ``dense`` lacks, e.g. filtered out). Ties fall to the
    dense score, then the id.
    """
    check_weight(weight)
    best = max(lexical.values(), default=0.0)
    scale = weight / best if best > 0 else 0.0
    fused = {i: (1.0 - weight) * s + scale * lexical.get(i, 0.0) for i, s in dense.items()}
    return sorted(fused, key=lambda item_id: (-fused[item_id], -dense[item_id], item_id))
