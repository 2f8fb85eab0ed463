"""One fine-tuning run: sentence-transformers' trainer with MultipleNegativesRankingLoss.

Each training pair is (caption, image); in a batch every other image is a negative for a
caption. Images are decoded lazily through the one image decoder, so a large collection
never sits in memory whole. Progress reports steps and the latest loss.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.errors import TrainingError
from mmdemo.finetune.pairs import Pair
from mmdemo.finetune.recipes import Recipe, set_trainable
from mmdemo.ingest.images import fit_for_models, load_image

#: ``progress(step, total_steps, loss)``; loss is None until the first step has run.
TrainProgress = Callable[[int, int, float | None], None]


def _no_progress(step: int, total: int, loss: float | None) -> None:
    """The default progress callback: report nothing."""


@dataclass(frozen=True)
class Hyper:
    """The hyper-parameters of one run (the recipe's defaults where none is given)."""

    epochs: int
    batch_size: int
    learning_rate: float
    loss_scale: float

    @classmethod
    def choose(
        cls, recipe: Recipe, epochs: int | None, batch_size: int | None, lr: float | None
    ) -> Hyper:
        """Given values win over the recipe's; raises :class:`TrainingError` for bad ones."""
        hyper = cls(
            epochs if epochs is not None else recipe.epochs,
            batch_size if batch_size is not None else recipe.batch_size,
            lr if lr is not None else recipe.learning_rate,
            recipe.loss_scale,
        )
        if hyper.epochs < 1 or hyper.batch_size < 2 or not hyper.learning_rate > 0:
            raise TrainingError(
                "Epochs must be at least 1, the batch size at least 2 (the other images of a "
                "batch are the negatives) and the learning rate above 0."
            )
        return hyper


@dataclass
class TrainLog:
    """What a run did: the loss after each step, and how long it took."""

    losses: list[float] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0
    trainable_parameters: int = 0


def _dataset(pairs: Sequence[Pair]) -> Any:
    from datasets import Dataset

    def decode(batch: dict[str, list[Any]]) -> dict[str, list[Any]]:
        images = [fit_for_models(load_image(path)) for path in batch["positive"]]
        return {"anchor": batch["anchor"], "positive": images}

    table = Dataset.from_dict(
        {"anchor": [p.caption for p in pairs], "positive": [str(p.image) for p in pairs]}
    )
    return table.with_transform(decode)


def _precision_flags(settings: Settings) -> dict[str, Any]:
    """Mixed precision on CUDA (bf16 where supported, else fp16); bf16 on CPU when chosen."""
    import torch

    if settings.resolved_device.startswith("cuda"):
        bf16 = torch.cuda.is_bf16_supported()
        return {"bf16": bf16, "fp16": not bf16, "use_cpu": False}
    return {"bf16": settings.resolved_precision == "bf16", "fp16": False, "use_cpu": True}


def _callback(log: TrainLog, progress: TrainProgress) -> Any:
    from transformers import TrainerCallback

    class Report(TrainerCallback):
        def on_log(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            loss = (kwargs.get("logs") or {}).get("loss")
            if loss is not None:
                log.losses.append(float(loss))
            progress(state.global_step, state.max_steps, log.losses[-1] if log.losses else None)

    return Report()


def train(
    model: Any,
    pairs: Sequence[Pair],
    *,
    recipe: Recipe,
    hyper: Hyper,
    settings: Settings,
    work_dir: Path,
    progress: TrainProgress = _no_progress,
    seed: int = 0,
) -> TrainLog:
    """Fine-tune ``model`` (a ``SentenceTransformer``) in place on ``pairs``.

    Raises :class:`TrainingError` when memory runs out, naming the batch size to lower.
    """
    import torch
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.losses import MultipleNegativesRankingLoss
    from transformers.trainer_callback import PrinterCallback

    log = TrainLog(trainable_parameters=set_trainable(model, recipe))
    args = SentenceTransformerTrainingArguments(
        output_dir=str(work_dir),
        num_train_epochs=hyper.epochs,
        per_device_train_batch_size=hyper.batch_size,
        learning_rate=hyper.learning_rate,
        warmup_steps=0.1,  # a float is a share of the steps
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        disable_tqdm=True,
        dataloader_drop_last=len(pairs) > hyper.batch_size,
        remove_unused_columns=False,
        seed=seed,
        **_precision_flags(settings),
    )
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=_dataset(pairs),
        loss=MultipleNegativesRankingLoss(model, scale=hyper.loss_scale),
        callbacks=[_callback(log, progress)],
    )
    trainer.remove_callback(PrinterCallback)
    started = time.perf_counter()
    try:
        output = trainer.train()
    except (MemoryError, torch.OutOfMemoryError) as exc:
        raise TrainingError(
            f"Out of memory while training with batch size {hyper.batch_size}: "
            "try a smaller batch size."
        ) from exc
    log.seconds = time.perf_counter() - started
    log.steps = int(output.global_step)
    return log
