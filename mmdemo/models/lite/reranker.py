"""The offline lite reranker: a CrossEncoder input module that scores (query, image) pairs.

It reuses a saved lite embedder (MiniLM, CNN, class prompts, projection) and spends more
compute per pair than the embedder can per image: a text query is also matched in class
space (how much of the image's class probability falls on the classes the query names),
which a fixed embedding cannot do. Documents may carry a caption, scored by text-text
similarity. ``flip`` adds the mirror image as a second view (test-time augmentation): off
in the shipped preset, where it bought no relevance through the app's fusion but doubled
the CNN work of indexing (bench/README.md, "Reranker views").
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from sentence_transformers.base.modules import InputModule

from mmdemo.models.lite import backbone as bb
from mmdemo.models.lite.embedder import LiteEmbedder
from mmdemo.models.lite.inputs import as_image
from mmdemo.models.lite.rows import features_layout
from mmdemo.models.lite.text import TEXT_DIM, embed_texts

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
        flip: bool = False,
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
        self._cache: OrderedDict[str, torch.Tensor] = OrderedDict()
        self._captions: OrderedDict[str, torch.Tensor] = OrderedDict()

    @property
    def features_layout(self) -> str:
        """What a stored feature row holds (which CNN, how many views averaged): rows of
        another layout must not be mixed with these."""
        return features_layout(self.base.backbone, self.flip)

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
        images: dict[str, torch.Tensor],
    ) -> float:
        (query_text, query_image), (doc_text, doc_image) = pair
        parts = []
        if query_text is not None:
            query = texts[query_text]
            if doc_image is not None:
                features = images[image_key(doc_image)].unsqueeze(0)
                parts.append(float(self.text_image_scores(query, features)[0]))
            if doc_text is not None:
                parts.append(self.caption_weight * float(query @ texts[doc_text]))
        if query_image is not None and doc_image is not None:
            document = images[image_key(doc_image)].unsqueeze(0)
            parts.append(
                float(self.image_image_scores(images[image_key(query_image)], document)[0])
            )
        return sum(parts) if parts else 0.0

    def _split(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(log_probs, pooled)`` halves of a batch of stored feature rows."""
        classes = self.base.class_embeddings.shape[0]
        return features[:, :classes], features[:, classes:]

    def text_image_scores(self, query: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """ConSE cosine plus the class-space match of one text query and ``(N, F)`` images."""
        log_probs, pooled = self._split(features)
        semantic = self.base.semantic_embedding(log_probs, pooled)
        class_match = torch.softmax(
            self.base.class_embeddings @ query / self.class_temperature, dim=-1
        )
        evidence = (log_probs.exp() @ class_match) / class_match.max()
        return semantic @ query + self.class_weight * evidence

    def image_image_scores(self, query: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Cosine of the joint embeddings (meaning and what the CNN sees) of query and images."""
        first = self.base.image_embedding(*self._split(query.unsqueeze(0)))[0]
        return self.base.image_embedding(*self._split(features)) @ first

    def caption_scores(self, query: torch.Tensor, captions: Sequence[str | None]) -> torch.Tensor:
        """``caption_weight`` times the text-text cosine with each caption (0 where none)."""
        vectors = self._caption_vectors({c for c in captions if c})
        if not vectors:
            return query.new_zeros(len(captions))
        return torch.stack(
            [
                self.caption_weight * (query @ vectors[c]) if c else query.new_zeros(())
                for c in captions
            ]
        )

    def _caption_vectors(self, captions: set[str]) -> dict[str, torch.Tensor]:
        """Unit MiniLM vectors of ``captions``, each encoded once while it stays cached
        (the ``CACHE_SIZE`` latest, oldest dropped first).

        A search reranks the same stored captions again and again: encoding them every
        time was 80% of a reranked search (bench/README.md, "Concurrent searches").
        """
        vectors = {c: v for c in captions if (v := self._captions.get(c)) is not None}
        todo = sorted(captions - vectors.keys())
        if todo:
            vectors |= dict(zip(todo, embed_texts(self.base.text_encoder, todo), strict=True))
            for caption in todo:
                self._captions[caption] = vectors[caption]
            while len(self._captions) > CACHE_SIZE:
                self._captions.popitem(last=False)
        return vectors

    def encode_query_text(self, text: str) -> torch.Tensor:
        """The unit MiniLM vector of one query text (computed once per search)."""
        return embed_texts(self.base.text_encoder, [text])[0]

    def query_from_embedding(self, embedding: Any) -> torch.Tensor:
        """What :meth:`encode_query_text` returns, read from the text embedding of the
        embedder this reranker builds on (``[text_384, zeros]``): the search already
        encoded its query there, so the reranker need not encode it again."""
        device = self.base.class_embeddings.device
        text = torch.as_tensor(embedding[:TEXT_DIM], dtype=torch.float32, device=device)
        unit: torch.Tensor = text / text.norm().clamp_min(1e-12)
        return unit

    def image_features(self, images: list[Image.Image]) -> torch.Tensor:
        """``(N, C + F)`` rows: log of the view-averaged class probabilities, mean pooled features.

        This is the per-image half of every score, the only part that runs the CNN (once per
        view); callers may store the rows and pass them back instead of the images.
        """
        return self.features_and_embeddings(self.base.preprocess(images))[0]

    def features_and_embeddings(
        self, inputs: Mapping[str, Any]
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The rows of :meth:`image_features`, and the base embedder's image embeddings, from
        the inputs the base embedder prepared (its ``preprocess`` of a batch of images).

        The embedder this reranker builds on runs the same CNN on the same unmirrored view,
        so indexing with it gets both from one pass per view instead of three passes. The
        mirror view is the prepared pixels flipped: the same as preparing a mirrored image.
        """
        centre = inputs["pixel_values"].to(self.base.class_embeddings.device)
        views = (centre, centre.flip(-1)) if self.flip else (centre,)
        probs, pooled = [], []
        for pixels in views:
            logits, features = bb.logits_and_features(self.base.cnn, pixels)
            if pixels is centre:
                embeddings = self.base.image_embedding(logits, features)
            probs.append(torch.softmax(logits / self.base.temperature, dim=-1))
            pooled.append(features)
        log_probs = torch.stack(probs).mean(dim=0).clamp_min(1e-12).log() * self.base.temperature
        rows = torch.cat([log_probs, torch.stack(pooled).mean(dim=0)], dim=-1)
        return rows, embeddings

    def _image_outputs(self, images: list[Image.Image]) -> dict[str, torch.Tensor]:
        """Feature rows per image content, each image through the CNN at most once (LRU)."""
        keys = [image_key(image) for image in images]
        todo = dict(zip(keys, images, strict=True))
        todo = {key: image for key, image in todo.items() if key not in self._cache}
        if todo:
            rows = self.image_features(list(todo.values()))
            for index, key in enumerate(todo):
                self._cache[key] = rows[index]
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
