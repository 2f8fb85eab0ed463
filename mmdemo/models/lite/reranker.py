"""The offline lite reranker: a CrossEncoder input module that scores (query, image) pairs.

It reuses a saved lite embedder (MiniLM, CNN, class prompts, projection) and spends more
compute per pair than the embedder can per image: each image is seen as its centre crop and
its mirror image (test-time augmentation), and a text query is also matched in class space
(how much of the image's class probability falls on the classes the query names), which a
fixed embedding cannot do. Documents may carry a caption, scored by text-text similarity.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from sentence_transformers.base.modules import InputModule

from mmdemo.models.lite import backbone as bb
from mmdemo.models.lite.embedder import LiteEmbedder
from mmdemo.models.lite.inputs import as_image
from mmdemo.models.lite.text import embed_texts

CONFIG_FILE = "lite_reranker.json"
CACHE_SIZE = 4096


def split_side(value: Any) -> tuple[str | None, Image.Image | None]:
    """``(text, image)`` of one query or document: a str, an image, or a dict of both."""
    if isinstance(value, str):
        return value, None
    if isinstance(value, dict):
        text = value.get("text") or None
        image = as_image(value.get("image")) if value.get("image") is not None else None
        if text is None and image is None:
            raise ValueError("A query or document dict needs a 'text' or an 'image'.")
        return text, image
    image = as_image(value)
    if image is None:
        raise ValueError(
            f"Cannot rerank a {type(value).__name__}: give a str, a PIL image or a dict."
        )
    return None, image


def image_key(image: Image.Image) -> str:
    """Content hash of an image, so that a reranked image is seen by the CNN only once."""
    digest = hashlib.sha1(image.tobytes())
    digest.update(f"{image.mode}{image.size}".encode())
    return digest.hexdigest()


class LiteReranker(InputModule):
    """Scores pairs jointly; ``CrossEncoder(folder, trust_remote_code=True)`` loads it.

    Config: ``embedder`` (folder of the lite embedder, relative to this model's folder),
    ``flip`` (mirror-image TTA), ``class_weight`` and ``class_temperature`` (class-space
    match), ``caption_weight`` (text-text match with a document's caption).
    """

    config_keys = ["embedder", "flip", "class_weight", "class_temperature", "caption_weight"]  # noqa: RUF012
    save_in_root = True

    def __init__(
        self,
        embedder: str,
        flip: bool = True,
        class_weight: float = 2.0,
        class_temperature: float = 0.02,
        caption_weight: float = 0.3,
        root: str = ".",
    ) -> None:
        super().__init__()
        self.embedder = embedder
        self.flip = flip
        self.class_weight = class_weight
        self.class_temperature = class_temperature
        self.caption_weight = caption_weight
        self.base = LiteEmbedder.load(str((Path(root) / embedder).resolve()))
        self._cache: OrderedDict[str, tuple[torch.Tensor, torch.Tensor]] = OrderedDict()

    @property
    def modalities(self) -> list[Any]:
        """Texts, images and text+image dicts on either side of a pair."""
        return ["text", "image", ("image", "text"), "message"]

    def preprocess(
        self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Splits each (query, document) pair into its text and image parts."""
        pairs = [(split_side(query), split_side(document)) for query, document in inputs]
        return {"pairs": pairs}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Adds ``scores`` ``(N, 1)``: one relevance score per pair (higher is better)."""
        pairs = features["pairs"]
        texts = sorted({t for (qt, _), (dt, _) in pairs for t in (qt, dt) if t is not None})
        images = [im for (_, qi), (_, di) in pairs for im in (qi, di) if im is not None]
        text_vectors = (
            dict(zip(texts, embed_texts(self.base.text_encoder, texts), strict=True))
            if texts
            else {}
        )
        image_vectors = self._image_outputs(images)
        scores = [self._pair_score(pair, text_vectors, image_vectors) for pair in pairs]
        features["scores"] = torch.tensor(
            scores, device=self.base.class_embeddings.device
        ).unsqueeze(1)
        return features

    def _pair_score(
        self,
        pair: tuple[tuple[str | None, Image.Image | None], tuple[str | None, Image.Image | None]],
        texts: dict[str, torch.Tensor],
        images: dict[str, tuple[torch.Tensor, torch.Tensor]],
    ) -> float:
        (query_text, query_image), (doc_text, doc_image) = pair
        parts = []
        if query_text is not None:
            query = texts[query_text]
            if doc_image is not None:
                parts.append(self.text_image_score(query, *images[image_key(doc_image)]))
            if doc_text is not None:
                parts.append(self.caption_weight * float(query @ texts[doc_text]))
        if query_image is not None and doc_image is not None:
            parts.append(
                self.image_image_score(images[image_key(query_image)], images[image_key(doc_image)])
            )
        return sum(parts) if parts else 0.0

    def text_image_score(
        self, query: torch.Tensor, log_probs: torch.Tensor, pooled: torch.Tensor
    ) -> float:
        """ConSE cosine plus the class-space match of one text query and one image."""
        semantic = self.base.semantic_embedding(log_probs.unsqueeze(0), pooled.unsqueeze(0))[0]
        class_match = torch.softmax(
            self.base.class_embeddings @ query / self.class_temperature, dim=-1
        )
        evidence = float(log_probs.exp() @ class_match) / float(class_match.max())
        return float(semantic @ query) + self.class_weight * evidence

    def image_image_score(
        self, query: tuple[torch.Tensor, torch.Tensor], document: tuple[torch.Tensor, torch.Tensor]
    ) -> float:
        """Cosine of the joint embeddings (meaning and what the CNN sees) of two images."""
        first = self.base.image_embedding(query[0].unsqueeze(0), query[1].unsqueeze(0))[0]
        second = self.base.image_embedding(document[0].unsqueeze(0), document[1].unsqueeze(0))[0]
        return float(first @ second)

    def _image_outputs(
        self, images: list[Image.Image]
    ) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
        """Log of the view-averaged class probabilities and mean pooled features per image."""
        keys = [image_key(image) for image in images]
        todo = list(
            {
                key: image
                for key, image in zip(keys, images, strict=True)
                if key not in self._cache
            }.items()
        )
        if todo:
            device = self.base.class_embeddings.device
            views = (False, True) if self.flip else (False,)
            probs, pooled = [], []
            for flip in views:
                pixels = bb.pixel_batch(
                    [image for _, image in todo], self.base.image_size, flip
                ).to(device)
                logits, features = bb.logits_and_features(self.base.cnn, pixels)
                probs.append(torch.softmax(logits / self.base.temperature, dim=-1))
                pooled.append(features)
            log_probs = (
                torch.stack(probs).mean(dim=0).clamp_min(1e-12).log() * self.base.temperature
            )
            mean_pooled = torch.stack(pooled).mean(dim=0)
            for index, (key, _) in enumerate(todo):
                self._cache[key] = (log_probs[index], mean_pooled[index])
                if len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        return {key: self._cache[key] for key in keys}

    def save(
        self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any
    ) -> None:
        """Writes the config; the embedder it names is saved on its own."""
        folder = Path(output_path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_FILE).write_text(json.dumps(self.get_config_dict(), indent=2) + "\n")

    @classmethod
    def load(
        cls,
        model_name_or_path: str,
        subfolder: str = "",
        token: bool | str | None = None,
        cache_folder: str | None = None,
        revision: str | None = None,
        local_files_only: bool = False,
        init_defaults: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> LiteReranker:
        """Rebuilds the module from a local folder written by :meth:`save`."""
        folder = Path(model_name_or_path) / subfolder
        config = json.loads((folder / CONFIG_FILE).read_text())
        return cls(**config, root=str(folder))
