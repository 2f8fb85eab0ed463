"""The offline lite embedder as a Sentence Transformers input module.

Text goes through MiniLM (384-d). An image goes through an EfficientNet-Lite CNN once; its
ImageNet class probabilities give a ConSE embedding in MiniLM space (optionally mixed with a
learned projection of the CNN features), and its pooled features give a visual part. The
image embedding is ``[sqrt(s) * semantic_384, sqrt(1 - s) * visual_1280]`` and a text
embedding is ``[text_384, zeros_1280]``, both unit length: text finds images by meaning
only, while image finds image by meaning and by what the CNN sees.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from sentence_transformers.base.modules import InputModule

from mmdemo.models.lite import backbone as bb
from mmdemo.models.lite import scoring
from mmdemo.models.lite.classes import class_prompts
from mmdemo.models.lite.inputs import split_batch
from mmdemo.models.lite.text import TEXT_DIM, embed_texts, load_minilm

CONFIG_FILE = "lite_embedder.json"
WEIGHTS_FILE = "lite_embedder.safetensors"


def build_projection(hidden: int) -> torch.nn.Module:
    """CNN features -> MiniLM space: linear when ``hidden`` is 0, else a one-hidden-layer MLP."""
    if hidden == 0:
        return torch.nn.Linear(bb.FEATURE_DIM, TEXT_DIM)
    return torch.nn.Sequential(
        torch.nn.Linear(bb.FEATURE_DIM, hidden), torch.nn.GELU(), torch.nn.Linear(hidden, TEXT_DIM)
    )


class LiteEmbedder(InputModule):
    """MiniLM + EfficientNet-Lite in one module: ``encode`` texts or PIL images (separately).

    Config: ``backbone`` ("lite0"/"lite2"), ``prompt_style`` of the class prompts, ``top_k``
    classes and softmax ``temperature`` for ConSE, ``semantic_share`` (s above),
    ``projection_weight`` (0 = ConSE only) and ``projection_hidden`` (the learned
    projection's hidden size, 0 = linear).
    """

    config_keys = [  # noqa: RUF012
        "backbone",
        "prompt_style",
        "top_k",
        "temperature",
        "semantic_share",
        "projection_weight",
        "projection_hidden",
    ]
    save_in_root = True

    def __init__(
        self,
        backbone: str = "lite0",
        *,
        prompt_style: str = "synonyms",
        top_k: int = 50,
        temperature: float = 1.0,
        semantic_share: float = 0.5,
        projection_weight: float = 0.0,
        projection_hidden: int = 0,
        tensors: dict[str, torch.Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.prompt_style = prompt_style
        self.top_k = top_k
        self.temperature = temperature
        self.semantic_share = semantic_share
        self.projection_weight = projection_weight
        self.projection_hidden = projection_hidden
        self.image_size = bb.BACKBONES[backbone].image_size if backbone in bb.BACKBONES else 0
        self.cnn = bb.load_backbone(backbone)
        self.text_encoder = load_minilm()
        #: MiniLM's tokenizer (InputModule's attribute: what a text graph's inputs are made with).
        self.tokenizer = self.text_encoder.tokenizer
        tensors = dict(tensors or {})
        class_embeddings = tensors.pop("class_embeddings", None)
        if class_embeddings is None:
            class_embeddings = embed_texts(self.text_encoder, class_prompts(prompt_style)).cpu()
        self.register_buffer("class_embeddings", class_embeddings.float())
        self.register_buffer(
            "feature_mean", tensors.pop("feature_mean", torch.zeros(bb.FEATURE_DIM)).float()
        )
        self.projection = build_projection(projection_hidden)
        projection_state = {k.removeprefix("projection."): v for k, v in tensors.items()}
        if projection_state:
            self.projection.load_state_dict(projection_state)
        self.eval()

    def train(self, mode: bool = True) -> LiteEmbedder:
        """Switches only the projection: the backbones always run in inference mode.

        Fine-tuning trains the projection alone; batch-norm statistics and dropout in the
        frozen CNN and MiniLM must not change while the trainer puts the model in training.
        """
        super().train(mode)
        self.cnn.eval()
        self.text_encoder.eval()
        return self

    @property
    def modalities(self) -> list[Any]:
        """Texts and images, each in its own call."""
        return ["text", "image"]

    @property
    def max_seq_length(self) -> int:
        """The text encoder's token limit."""
        return int(self.text_encoder.max_seq_length or 0)

    def pixel_spec(self) -> dict[str, Any]:
        """How images are prepared (:func:`~mmdemo.models.lite.backbone.square_view`), for
        replaying it beside an exported graph (mmdemo/models/backends/prep.py)."""
        return {"kind": "square", "size": self.image_size}

    def get_embedding_dimension(self) -> int:
        """384 semantic + 1280 visual dimensions."""
        return TEXT_DIM + bb.FEATURE_DIM

    get_sentence_embedding_dimension = get_embedding_dimension

    def preprocess(
        self, inputs: Sequence[Any], prompt: str | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Token ids for a batch of texts, or a pixel tensor for a batch of PIL images."""
        texts, images = split_batch(list(inputs))
        if texts is not None:
            return dict(self.text_encoder.preprocess(texts, prompt=prompt))
        assert images is not None
        return {"pixel_values": bb.pixel_batch(images, self.image_size)}

    def forward(self, features: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Adds ``sentence_embedding``: joint image embeddings, or zero-padded text ones.

        Images also add the CNN's ``cnn_logits`` and ``cnn_pooled``: the lite reranker's
        stored rows are made of them (an exported image graph returns them too).
        """
        if "pixel_values" in features:
            logits, pooled = bb.logits_and_features(self.cnn, features["pixel_values"])
            embedding = self.image_embedding(logits, pooled)
            features["cnn_logits"], features["cnn_pooled"] = logits, pooled
        else:
            text = self.text_encoder(features)["sentence_embedding"]
            embedding = scoring.pad_text_embedding(text, bb.FEATURE_DIM)
        features["sentence_embedding"] = embedding
        return features

    def semantic_embedding(self, logits: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """Unit 384-d meaning of each image: ConSE, mixed with the learned projection if any."""
        probs = torch.softmax(logits / self.temperature, dim=-1)
        semantic = scoring.conse(probs, self.class_embeddings, self.top_k)
        if self.projection_weight > 0:
            projected = torch.nn.functional.normalize(self.projection(pooled), dim=-1)
            semantic = scoring.mix(projected, semantic, self.projection_weight)
        return semantic

    def image_embedding(self, logits: torch.Tensor, pooled: torch.Tensor) -> torch.Tensor:
        """The joint unit embedding ``[semantic, visual]`` of a batch of CNN outputs."""
        visual = scoring.centred_visual(pooled, self.feature_mean)
        return scoring.joint_image_embedding(
            self.semantic_embedding(logits, pooled), visual, self.semantic_share
        )

    def learned_tensors(self) -> dict[str, torch.Tensor]:
        """What :meth:`save` writes: class embeddings, feature mean, projection weights."""
        tensors = {"class_embeddings": self.class_embeddings, "feature_mean": self.feature_mean}
        if self.projection_weight > 0:
            tensors |= {f"projection.{k}": v for k, v in self.projection.state_dict().items()}
        return {k: v.detach().cpu().contiguous() for k, v in tensors.items()}

    def save(
        self, output_path: str, *args: Any, safe_serialization: bool = True, **kwargs: Any
    ) -> None:
        """Writes the config and the small learned tensors; the backbones stay in their packages."""
        folder = Path(output_path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / CONFIG_FILE).write_text(json.dumps(self.get_config_dict(), indent=2) + "\n")
        save_file(self.learned_tensors(), str(folder / WEIGHTS_FILE))

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
    ) -> LiteEmbedder:
        """Rebuilds the module from a local folder written by :meth:`save`."""
        folder = Path(model_name_or_path) / subfolder
        config = json.loads((folder / CONFIG_FILE).read_text())
        return cls(**config, tensors=load_file(str(folder / WEIGHTS_FILE)))
