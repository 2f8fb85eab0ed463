"""Reranker: rescores (query, image) pairs jointly with a CrossEncoder.

Works with any sentence-transformers ``CrossEncoder`` whose modalities cover the query
and the documents (multimodal VLM rerankers, the offline ``lite`` reranker). The query is
text, an image, or both as a ``{"text", "image"}`` dict when the model takes one; each
document is the candidate image, with its caption as a text part where the model takes
that.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.errors import InputError
from mmdemo.models.base import ModelHandle

PAIR = ("image", "text")


class Reranker(ModelHandle):
    """A loaded CrossEncoder reranker."""

    def query_input(self, text: str | None, image: Image.Image | None) -> Any:
        """The query in the form this model takes, preferring text and image together."""
        if text and image is not None and self.supports(PAIR):
            return {"text": text, "image": image}
        if text and self.supports("text"):
            return text
        if image is not None and self.supports("image"):
            return image
        raise InputError(f"Reranker {self.label!r} cannot take this query's modalities.")

    def document_input(self, image: Image.Image, caption: str | None) -> Any:
        """One candidate in the form this model takes: the image, with its caption if it can."""
        if caption and self.supports(PAIR):
            return {"text": caption, "image": image}
        if self.supports("image"):
            return image
        raise InputError(f"Reranker {self.label!r} cannot score images.")

    def score(
        self,
        text: str | None,
        image: Image.Image | None,
        documents: Sequence[tuple[Image.Image, str | None]],
        batch_size: int = 8,
    ) -> np.ndarray:
        """Score each (image, caption) document against the query; returns scores in input order."""
        if not documents:
            return np.zeros(0, dtype=np.float32)
        query = self.query_input(text, image)
        docs = [self.document_input(img, caption) for img, caption in documents]
        with self.inference():
            ranked = self.model.rank(query, docs, batch_size=batch_size, show_progress_bar=False)
        scores = np.zeros(len(docs), dtype=np.float32)
        for entry in ranked:
            scores[int(entry["corpus_id"])] = float(entry["score"])
        return scores
