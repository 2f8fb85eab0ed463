"""Hybrid retrieval: a query matched against each item's image and its caption together.

Each captioned item has a second vector, its caption embedded with the model's text side
(stored beside the image vector, :mod:`mmdemo.store`). The query vector is compared with
both, and :func:`fuse_captions` weighs the two cosine scores; an item without a caption
keeps its image score. Candidates are the best items by image and the best by caption, so
an item found only through its caption can rank (bench/README.md, "Hybrid captions").
"""

from __future__ import annotations

import numpy as np

from mmdemo.errors import InputError
from mmdemo.filters import ItemFilter
from mmdemo.store import Hit, Store

#: Default share of the caption score; chosen on clipart-dev (bench/hybrid_captions.py).
CAPTION_WEIGHT = 0.4
#: Fewest candidates taken from each of the image and caption rankings.
HYBRID_DEPTH = 50


def fuse_captions(image: np.ndarray, caption: np.ndarray, weight: float) -> np.ndarray:
    """``(1 - weight) * image + weight * caption`` per item; NaN captions keep the image score.

    NaN marks an item without a caption vector, so a missing caption neither helps nor
    hurts it; ``weight=0`` is image-only retrieval.
    """
    if not 0.0 <= weight <= 1.0:
        raise InputError(f"The caption weight must be between 0 and 1, got {weight}.")
    image = np.asarray(image, dtype=np.float64)
    caption = np.asarray(caption, dtype=np.float64)
    if image.shape != caption.shape:
        raise ValueError(f"Got {image.shape} image scores and {caption.shape} caption scores.")
    fused = (1.0 - weight) * image + weight * caption
    return np.where(np.isnan(caption), image, fused)


def cosines(vectors: dict[str, np.ndarray], query: np.ndarray) -> dict[str, float]:
    """Each stored vector's cosine with ``query``, by id."""
    unit = query / max(float(np.linalg.norm(query)), 1e-12)
    return {
        item_id: float(vector @ unit / max(float(np.linalg.norm(vector)), 1e-12))
        for item_id, vector in vectors.items()
    }


def hybrid_hits(
    store: Store,
    collection: str,
    model: str,
    vector: np.ndarray,
    k: int,
    item_filter: ItemFilter | None,
    weight: float,
) -> list[Hit]:
    """The ``k`` best items by fused image and caption score, best first (ties by id).

    Candidates are the ``max(2k, HYBRID_DEPTH)`` best by image and as many by caption;
    each candidate's missing score is read from its stored vector, so every fused score
    is exact. The ranking is over the candidates only: an item in neither list scores below
    both lists' last entries, so it could only enter the top ``k`` when the fused scores
    there are lower than that mix (threshold-algorithm bound, not checked). A caption
    vector whose item has no image vector (an interrupted index) is ignored.
    """
    depth = max(2 * k, HYBRID_DEPTH)
    by_image = store.query(collection, model, vector, depth, item_filter)
    by_caption = store.query(collection, model, vector, depth, item_filter, captions=True)
    hits = {hit.id: hit for hit in by_caption} | {hit.id: hit for hit in by_image}
    image = {hit.id: hit.score for hit in by_image}
    caption = {hit.id: hit.score for hit in by_caption}
    no_image = sorted(set(hits) - set(image))
    no_caption = sorted(set(hits) - set(caption))
    image |= cosines(store.vectors_of(collection, model, no_image), vector)
    caption |= cosines(store.vectors_of(collection, model, no_caption, captions=True), vector)
    ids = sorted(item_id for item_id in hits if item_id in image)
    fused = fuse_captions(
        np.array([image[i] for i in ids]),
        np.array([caption.get(i, np.nan) for i in ids]),
        weight,
    )
    order = sorted(range(len(ids)), key=lambda row: (-fused[row], ids[row]))[:k]
    return [Hit(ids[row], float(fused[row]), hits[ids[row]].metadata) for row in order]
