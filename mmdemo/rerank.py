"""Reranker: rescores (query, image) pairs jointly with a CrossEncoder.

Works with any sentence-transformers ``CrossEncoder`` whose modalities cover the query
and the documents (multimodal VLM rerankers, the offline ``lite`` reranker). Each part of
a query (its text, its image, its negative prompt) is scored on its own, so that the
search can weight them as it weighted them for retrieval (:mod:`mmdemo.search.fusion`).
A document is a stored candidate: its id, its image file and optionally its caption.

The ``lite`` reranker splits its score into a per-image part, kept in a
:class:`~mmdemo.rerank_features.rows.FeatureStore`, and a per-query part, computed once per
search; its candidates' images are decoded only when their features are not stored yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.ingest.images import fit_for_models, load_image
from mmdemo.models.base import ModelHandle
from mmdemo.models.registry import Resolved
from mmdemo.models.zerogpu import gpu_task
from mmdemo.rerank_features.cache import RowCache
from mmdemo.rerank_features.rows import FeatureStore
from mmdemo.vectors import unit_rows

PAIR = ("image", "text")
#: Seconds one reranking call may hold a ZeroGPU GPU (every candidate of one search).
RERANK_GPU_SECONDS = 60


@dataclass(frozen=True)
class Candidate:
    """One stored item to rescore: its id (content hash), image file and caption if any."""

    id: str
    path: Path
    caption: str | None = None


@dataclass(frozen=True)
class PartScores:
    """Reranker scores of each candidate against each given part of the query."""

    text: np.ndarray | None = None
    image: np.ndarray | None = None
    negative: np.ndarray | None = None


class Reranker(ModelHandle):
    """A loaded CrossEncoder reranker; it keeps the stored feature rows it used lately."""

    def __init__(self, resolved: Resolved, model: Any, settings: Settings) -> None:
        super().__init__(resolved, model, settings)
        self.feature_rows = RowCache()

    @property
    def _features_module(self) -> Any | None:
        """The first module when it scores from stored per-image features (``lite``)."""
        first = self.model[0] if len(self.model) else None
        return first if hasattr(first, "image_features") else None

    def feature_store(self, settings: Settings) -> FeatureStore | None:
        """Where this reranker keeps its per-image rows in ``settings``' data dir; None for
        a reranker that scores whole pairs and stores nothing."""
        module = self._features_module
        if module is None:
            return None
        return FeatureStore(settings, self.key, str(module.features_layout))

    def document_input(self, image: Image.Image, caption: str | None) -> Any:
        """One candidate in the form this model takes: the image, with its caption if it can."""
        if caption and self.supports(PAIR):
            return {"text": caption, "image": image}
        if self.supports("image"):
            return image
        raise InputError(f"Reranker {self.label!r} cannot score images.")

    def _check_query(self, text: str | None, image: Image.Image | None) -> None:
        if text and not self.supports("text"):
            raise InputError(f"Reranker {self.label!r} cannot take text queries.")
        if image is not None and not self.supports("image"):
            raise InputError(f"Reranker {self.label!r} cannot take image queries.")

    @gpu_task(RERANK_GPU_SECONDS)
    def score_parts(
        self,
        candidates: Sequence[Candidate],
        text: str | None = None,
        image: Image.Image | None = None,
        negative: str | None = None,
        features: FeatureStore | None = None,
        text_vectors: Mapping[str, np.ndarray] | None = None,
    ) -> PartScores:
        """Score every candidate against each given query part; scores in candidate order.

        ``features`` lets a reranker that stores per-image features reuse them (and store
        the ones it had to compute); other rerankers ignore it. ``text_vectors`` are the
        query texts' embeddings by the embedder this reranker builds on, which such a
        reranker reads instead of encoding the texts again.
        """
        self._check_query(text or negative, image)
        if not candidates:
            empty = np.zeros(0, dtype=np.float32)
            return PartScores(empty if text else None, empty if image is not None else None, None)
        module = self._features_module
        with self.inference():
            if module is not None and features is not None:
                return self._from_features(
                    module, candidates, text, image, negative, features, text_vectors or {}
                )
            return self._by_ranking(candidates, text, image, negative)

    @gpu_task(RERANK_GPU_SECONDS)
    def store_features(
        self, features: FeatureStore, ids: Sequence[str], inputs: Mapping[str, Any]
    ) -> np.ndarray | None:
        """Compute and store the per-image features of a batch the embedder this reranker
        builds on prepared (:meth:`mmdemo.embed.Embedder.prepare_images`); returns that
        embedder's unit embeddings, computed in the same CNN pass, or None for a model
        without stored features."""
        module = self._features_module
        if module is None or not ids:
            return None
        with self.inference():
            rows, embeddings = module.features_and_embeddings(inputs)
        features.save(ids, rows.float().cpu().numpy())
        return unit_rows(embeddings.float().cpu().numpy())

    def _by_ranking(
        self,
        candidates: Sequence[Candidate],
        text: str | None,
        image: Image.Image | None,
        negative: str | None,
    ) -> PartScores:
        docs = [
            self.document_input(fit_for_models(load_image(c.path)), c.caption) for c in candidates
        ]

        def rank(query: Any) -> np.ndarray | None:
            if query is None:
                return None
            ranked = self.model.rank(query, docs, batch_size=8, show_progress_bar=False)
            scores = np.zeros(len(docs), dtype=np.float32)
            for entry in ranked:
                scores[int(entry["corpus_id"])] = float(entry["score"])
            return scores

        return PartScores(rank(text or None), rank(image), rank(negative or None))

    def _from_features(
        self,
        module: Any,
        candidates: Sequence[Candidate],
        text: str | None,
        image: Image.Image | None,
        negative: str | None,
        features: FeatureStore,
        text_vectors: Mapping[str, np.ndarray],
    ) -> PartScores:
        # lazy: torch: keeps it out of searches that rerank on exported graphs or not at all
        import torch

        ids = [c.id for c in candidates]
        rows = self.feature_rows.load(features, ids)
        missing = [c for c in candidates if c.id not in rows]
        if missing:
            images = [fit_for_models(load_image(c.path)) for c in missing]
            computed = module.image_features(images).float().cpu().numpy()
            missing_ids = [c.id for c in missing]
            self.feature_rows.save(features, missing_ids, computed)
            rows |= dict(zip(missing_ids, computed, strict=True))
        device = module.base.class_embeddings.device
        stacked = torch.from_numpy(np.stack([rows[i] for i in ids])).to(device)
        captions = [c.caption for c in candidates]

        def text_part(query_text: str | None) -> np.ndarray | None:
            if not query_text:
                return None
            known = text_vectors.get(query_text)
            vector = (
                module.encode_query_text(query_text)
                if known is None
                else module.query_from_embedding(known)
            )
            total = module.text_image_scores(vector, stacked) + module.caption_scores(
                vector, captions
            )
            scores: np.ndarray = total.float().cpu().numpy()
            return scores

        image_part = None
        if image is not None:
            query_row = module.image_features([image])[0]
            image_part = module.image_image_scores(query_row, stacked).float().cpu().numpy()
        return PartScores(text_part(text), image_part, text_part(negative))
