"""Embedder: turns texts and images into L2-normalised vectors of one shared space.

Texts and images always go through separate batches: CLIP-style models refuse batches
that mix modalities. Both are prepared by the model's own ``preprocess`` and run through
one forward pass per batch (:meth:`Embedder.encode_prepared`). The model is a
``SentenceTransformer`` on torch, or its exported graphs
(:class:`~mmdemo.models.backends.graph_model.GraphModel`) on ONNX Runtime or OpenVINO,
which offer the same methods on numpy arrays and never import torch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.errors import InputError
from mmdemo.models.backends.graph_model import EMBEDDING, GraphModel
from mmdemo.models.base import ModelHandle
from mmdemo.models.zerogpu import gpu_task
from mmdemo.vectors import unit_rows

BATCH_SIZE = 32
#: Seconds one embedding call may hold a ZeroGPU GPU (a batch, or a query).
EMBED_GPU_SECONDS = 30


class Embedder(ModelHandle):
    """A loaded multimodal embedding model (a sentence-transformers ``SentenceTransformer``,
    or its exported graphs)."""

    @property
    def backend(self) -> str:
        """What runs the model: ``torch``, ``onnx`` or ``openvino``."""
        return self.model.backend if isinstance(self.model, GraphModel) else "torch"

    @property
    def dim(self) -> int | None:
        """The embedding size, when the model reports it."""
        dim = self.model.get_embedding_dimension()
        return int(dim) if dim else None

    def _require(self, modality: str) -> None:
        if not self.supports(modality):
            raise InputError(
                f"Model {self.label!r} cannot embed {modality}s "
                f"(it takes: {', '.join(map(str, self.model.modalities))})."
            )

    def encode_texts(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Embed texts; returns an (n, dim) float32 array of unit vectors.

        The vectors of sentence-transformers' ``encode`` (longest texts first, so that a
        batch pads little), through :meth:`encode_prepared` without ``encode``'s per-call
        set-up, which puts every module in eval mode and checks every tensor's device: a
        quarter of a one-text lite query on one core (bench/README.md, "Query encodes without
        `encode`'s per-call set-up").
        """
        self._require("text")
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        longest_first = self._encode_in_batches(
            [texts[i] for i in order], batch_size, self._prepare
        )
        return longest_first[np.argsort(order)]

    def encode_images(
        self, images: Sequence[Image.Image], batch_size: int = BATCH_SIZE
    ) -> np.ndarray:
        """Embed RGB images; returns an (n, dim) float32 array of unit vectors."""
        self._require("image")
        return self._encode_in_batches(images, batch_size, self.prepare_images)

    def _encode_in_batches(
        self,
        inputs: Sequence[Any],
        batch_size: int,
        prepare: Callable[[Sequence[Any]], dict[str, Any]],
    ) -> np.ndarray:
        """Unit vectors of ``inputs`` (one modality), ``prepare``d and run through one
        forward pass per ``batch_size``."""
        chunks = [
            self.encode_prepared(prepare(inputs[at : at + batch_size]))
            for at in range(0, len(inputs), batch_size)
        ]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.dim or 0), np.float32)

    def prepare_images(self, images: Sequence[Image.Image]) -> dict[str, Any]:
        """The model's inputs for one batch of RGB images (resized, normalised pixels).

        CPU work that touches no weights: the indexer runs it in its producer thread, so a
        batch is ready while the model runs the previous one (:meth:`encode_prepared`).
        """
        self._require("image")
        return self._prepare(images)

    def _prepare(self, inputs: Sequence[Any]) -> dict[str, Any]:
        """The model's inputs for one batch of one modality, prompted as ``encode`` would:
        with the model's default prompt, if its config names one."""
        model = self.model
        prompt = model.prompts.get(model.default_prompt_name) if model.default_prompt_name else None
        return dict(model.preprocess(list(inputs), prompt=prompt))

    def graph_outputs(self, inputs: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Every output of the exported graph for one prepared batch (the embedding, not yet
        normalised, and e.g. the lite CNN's outputs); only for a graph backend."""
        if not isinstance(self.model, GraphModel):
            raise TypeError(f"{self.label} runs on torch, not on exported graphs.")
        return self.model.run(inputs)

    @gpu_task(EMBED_GPU_SECONDS)
    def encode_prepared(self, inputs: Mapping[str, Any]) -> np.ndarray:
        """Unit vectors of one prepared batch (:meth:`prepare_images`, or texts prepared the
        same way): one forward pass."""
        if isinstance(self.model, GraphModel):
            vectors = self.model.run(inputs)[EMBEDDING]
        else:
            vectors = self._torch_forward(inputs)
        if self.model.truncate_dim:  # as encode() truncates, for Matryoshka-style models
            vectors = vectors[:, : self.model.truncate_dim]
        return unit_rows(vectors)

    def _torch_forward(self, inputs: Mapping[str, Any]) -> np.ndarray:
        # lazy: torch, sentence-transformers: keeps them out of searches on exported graphs
        import torch
        from sentence_transformers.util import batch_to_device

        with self.inference():
            output = self.model(batch_to_device(dict(inputs), torch.device(self.device)))
            vectors: np.ndarray = output["sentence_embedding"].float().cpu().numpy()
            return vectors
