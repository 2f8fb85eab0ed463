"""A whole fine-tune: pairs, base index, training, save, fine-tuned index, before/after.

Both models are scored by :func:`mmdemo.evaluate.runner.evaluate` on the held-out
captions, searching the whole collection, so the numbers are the ones ``eval`` prints.
The trained model is saved before it is indexed or evaluated: nothing later can lose it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.errors import InputError, ReadOnlyError
from mmdemo.evaluate.runner import METRIC_COLUMNS, evaluate
from mmdemo.finetune.card import write_model_card
from mmdemo.finetune.job import Trained, TrainJob, run_training, training_seconds
from mmdemo.finetune.pairs import Pair, SplitBy, collection_pairs, split_pairs, write_queries
from mmdemo.ingest.indexer import index_existing
from mmdemo.models.loading import forget
from mmdemo.models.registry import resolve
from mmdemo.models.zerogpu import on_zero_gpu
from mmdemo.names import validate_collection_name
from mmdemo.store import Store

#: ``progress(stage, done, total, loss)``: stages are "index base", "train",
#: "index fine-tuned" and "evaluate"; loss is the latest training loss, or None.
StageProgress = Callable[[str, int, int, float | None], None]
QUERIES_FILE = "eval_queries.csv"
METRICS_FILE = "finetune_metrics.json"


def _no_progress(stage: str, done: int, total: int, loss: float | None) -> None:
    """The default progress callback: report nothing."""


@dataclass(frozen=True)
class FinetuneRequest:
    """What to fine-tune, on what, into where; None hyper-parameters take the recipe's."""

    collection: str
    base: str
    out: Path
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    eval_split: float = 0.2
    split_by: SplitBy = "caption"
    captions: Path | None = None
    overwrite: bool = False


@dataclass(frozen=True)
class FinetuneReport:
    """The outcome: where the model is, its key in the store, and the facts of the card."""

    out: Path
    model_key: str
    facts: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The card's facts plus the output folder, for ``--json`` and the API."""
        return {"out": str(self.out), "model_key": self.model_key, **self.facts}


def named_output(settings: Settings, name: str) -> Path:
    """The folder for a fine-tuned model named ``name`` in the data directory (the web app
    saves there: a page never chooses arbitrary paths on the server)."""
    return settings.finetuned_dir / validate_collection_name(name)


def check_output(out: Path, overwrite: bool) -> None:
    """Refuse an existing, non-empty output folder unless ``overwrite``."""
    if out.exists() and not out.is_dir():
        raise InputError(f"Output path {out} is a file: give a folder for the fine-tuned model.")
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise InputError(
            f"Output folder {out} already exists and is not empty: choose another folder "
            "or pass --overwrite to replace it."
        )


def _metrics(table: Any, model: str) -> dict[str, float]:
    row = table[table["model"] == model].iloc[0]
    return {name: float(row[name]) for name in METRIC_COLUMNS}


def _facts(
    request: FinetuneRequest,
    *,
    collection: str,
    split: tuple[list[Pair], list[Pair]],
    trained: Trained,
    settings: Settings,
    keys: tuple[str, str],
    table: Any,
) -> dict[str, Any]:
    """The facts of the model card and of ``finetune_metrics.json``: the data, the training
    and the held-out metrics of the base (``keys[0]``) and the fine-tuned model (``keys[1]``)."""
    train_pairs, held_out = split
    base_key, model_key = keys
    log = trained.log
    return {
        "base_model": base_key,
        "collection": collection,
        "train_pairs": len(train_pairs),
        "eval_pairs": len(held_out),
        "eval_queries": len({p.caption for p in held_out}),
        "split_by": request.split_by,
        "eval_split": request.eval_split,
        "trains": trained.trains,
        "trainable_parameters": log.trainable_parameters,
        "hyper_parameters": asdict(trained.hyper),
        "steps": log.steps,
        "final_loss": log.losses[-1] if log.losses else float("nan"),
        "losses": log.losses,
        "train_seconds": round(log.seconds, 2),
        "device": settings.resolved_device,
        "precision": settings.resolved_precision,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "before": _metrics(table, base_key),
        "after": _metrics(table, model_key),
    }


def finetune(
    request: FinetuneRequest,
    *,
    settings: Settings,
    store: Store,
    progress: StageProgress = _no_progress,
) -> FinetuneReport:
    """Fine-tune ``request.base`` on the collection's captions and report before/after.

    Training is one GPU call (:func:`mmdemo.finetune.job.train_and_save`), on ZeroGPU too.
    Raises :class:`InputError` for unusable input before anything is trained or written,
    :class:`ReadOnlyError` in read-only mode, and :class:`TrainingError` when training
    cannot run (out of memory names the batch size; on ZeroGPU a run longer than one GPU
    call may last is refused before any work).
    """
    if settings.readonly:
        raise ReadOnlyError("Fine-tuning is turned off in read-only mode (MMDEMO_READONLY).")
    collection = validate_collection_name(request.collection)
    out = request.out.expanduser().resolve()
    check_output(out, request.overwrite)
    train_pairs, held_out = split_pairs(
        collection_pairs(store, settings, collection, request.captions),
        request.eval_split,
        request.split_by,
    )
    base_key = resolve(request.base, "embedder").key
    job = TrainJob(
        request.base,
        tuple(train_pairs),
        out,
        settings,
        request.epochs,
        request.batch_size,
        request.learning_rate,
    )
    if on_zero_gpu():
        training_seconds(job)  # refuses, before any work, a run too long for one GPU call
    if not store.has_model(collection, base_key):
        index_existing(
            collection=collection,
            models=[request.base],
            settings=settings,
            store=store,
            progress=lambda done, total: progress("index base", done, total, None),
        )
    trained = run_training(job, lambda step, total, loss: progress("train", step, total, loss))
    forget(str(out), store.runtime)
    model_key = resolve(str(out), "embedder").key
    store.drop_model(collection, model_key)
    index_existing(
        collection=collection,
        models=[model_key],
        settings=settings,
        store=store,
        progress=lambda done, total: progress("index fine-tuned", done, total, None),
    )
    progress("evaluate", 0, 1, None)
    table = evaluate(
        collection=collection,
        queries_csv=write_queries(held_out, out / QUERIES_FILE),
        models=[base_key, model_key],
        rerankers=[],
        settings=settings,
        store=store,
    )
    progress("evaluate", 1, 1, None)
    facts = _facts(
        request,
        collection=collection,
        split=(train_pairs, held_out),
        trained=trained,
        settings=settings,
        keys=(base_key, model_key),
        table=table,
    )
    (out / METRICS_FILE).write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
    write_model_card(out, facts)
    return FinetuneReport(out, model_key, facts)
