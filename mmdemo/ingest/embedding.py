"""The consumer side of indexing: a prepared batch's embeddings, and on the way the stored
feature rows of the rerankers that build on the embedder
(:class:`~mmdemo.rerank_features.rows.FeatureStore`), so each image goes through the CNN once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.models.lite import RERANKER_DIRS
from mmdemo.models.lite.rows import feature_rows, recipe
from mmdemo.models.loading import load_reranker
from mmdemo.models.registry import rerankers_building_on
from mmdemo.rerank_features.rows import FeatureStore
from mmdemo.runtime import Runtime
from mmdemo.vectors import unit_rows


def embed_at_index(
    settings: Settings,
    embedder: Embedder,
    ids: Sequence[str],
    inputs: Mapping[str, Any],
    runtime: Runtime | None = None,
) -> np.ndarray:
    """The embeddings of newly indexed images, from the batch ``embedder`` prepared for them
    (:meth:`~mmdemo.embed.Embedder.prepare_images`), storing on the way the feature rows of
    the rerankers that build on ``embedder``: such a reranker computes the embedder's vectors
    in the same CNN pass as its rows, so the images go through the CNN once per view."""
    if embedder.backend != "torch":
        return _embed_from_graphs(settings, embedder, ids, inputs)
    vectors: np.ndarray | None = None
    for name in rerankers_building_on(embedder.key):
        reranker = load_reranker(name, settings, runtime)
        features = reranker.feature_store(settings)
        shared = None if features is None else reranker.store_features(features, ids, inputs)
        vectors = shared if vectors is None else vectors
    return vectors if vectors is not None else embedder.encode_prepared(inputs)


def _embed_from_graphs(
    settings: Settings, embedder: Embedder, ids: Sequence[str], inputs: Mapping[str, Any]
) -> np.ndarray:
    """:func:`embed_at_index` for an embedder on exported graphs: its image graph also gives
    the CNN outputs the lite reranker's rows are made of (mmdemo/models/lite/rows.py), so
    they are stored without loading the reranker (nor torch)."""
    outputs = embedder.graph_outputs(inputs)
    for name in rerankers_building_on(embedder.key):
        found = recipe(RERANKER_DIRS[name])
        if found.embedder_dir != Path(embedder.resolved.location).resolve():
            continue  # rows of another CNN: computed on first use instead
        views = [(outputs["cnn_logits"], outputs["cnn_pooled"])]
        if found.flip:
            mirrored = embedder.graph_outputs(
                {**inputs, "pixel_values": np.ascontiguousarray(inputs["pixel_values"][..., ::-1])}
            )
            views.append((mirrored["cnn_logits"], mirrored["cnn_pooled"]))
        FeatureStore(settings, name, found.layout).save(ids, feature_rows(views, found.temperature))
    return unit_rows(outputs["embedding"])
