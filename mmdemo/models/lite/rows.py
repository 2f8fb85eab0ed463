"""The lite reranker's stored rows, made from CNN outputs with numpy (no torch).

A row is the view-averaged class log-probabilities (at the base embedder's temperature)
and the view-averaged pooled CNN features: what
:meth:`~mmdemo.models.lite.reranker.LiteReranker.features_and_embeddings` computes with
torch. An embedder running on exported graphs gets the CNN outputs from its image graph
(``cnn_logits``, ``cnn_pooled``), so indexing stores the rows without loading the reranker.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RERANKER_CONFIG = "lite_reranker.json"
EMBEDDER_CONFIG = "lite_embedder.json"


def features_layout(backbone: str, flip: bool) -> str:
    """What a stored row holds: which CNN, how many views averaged."""
    return f"{backbone} views={2 if flip else 1}"


@dataclass(frozen=True)
class RowRecipe:
    """How one lite reranker makes its rows, read from its saved config."""

    layout: str
    temperature: float
    flip: bool
    #: The lite embedder folder whose CNN the rows come from.
    embedder_dir: Path


def recipe(reranker_dir: Path) -> RowRecipe:
    """The recipe of the lite reranker saved in ``reranker_dir``."""
    config = json.loads((reranker_dir / RERANKER_CONFIG).read_text(encoding="utf-8"))
    base = (reranker_dir / config["embedder"]).resolve()
    embedder = json.loads((base / EMBEDDER_CONFIG).read_text(encoding="utf-8"))
    flip = bool(config.get("flip", False))
    return RowRecipe(
        features_layout(str(embedder["backbone"]), flip),
        float(embedder.get("temperature", 1.0)),
        flip,
        base,
    )


def feature_rows(views: list[tuple[np.ndarray, np.ndarray]], temperature: float) -> np.ndarray:
    """``(N, C + F)`` float32 rows from each view's ``(logits (N, C), pooled (N, F))``."""
    probs = []
    for logits, _ in views:
        scaled = logits.astype(np.float64) / temperature
        scaled -= scaled.max(axis=-1, keepdims=True)
        exp = np.exp(scaled)
        probs.append(exp / exp.sum(axis=-1, keepdims=True))
    log_probs = np.log(np.maximum(np.mean(probs, axis=0), 1e-12)) * temperature
    pooled = np.mean([pooled for _, pooled in views], axis=0)
    return np.concatenate([log_probs, pooled], axis=-1).astype(np.float32)
