"""The training step as one GPU call: load the base model, train, save to the out folder.

:func:`train_and_save` is model work (:func:`mmdemo.models.zerogpu.gpu_task`): on ZeroGPU it
runs in a forked worker that receives its arguments and sends back what it yields by
pickling, so everything crossing that boundary is plain data (a :class:`TrainJob` in;
:class:`TrainStep` progress, then one :class:`Trained` or the :class:`MMDemoError` that
stopped it, out). The weights never cross: they are written to ``job.out`` inside the
call, a folder the worker shares with the app. Everywhere else the same function runs in
the calling process.
"""

from __future__ import annotations

import math
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mmdemo.config import Settings
from mmdemo.errors import MMDemoError, TrainingError
from mmdemo.finetune.pairs import Pair
from mmdemo.finetune.recipes import LITE, TRANSFORMERS, recipe_for
from mmdemo.finetune.trainer import Hyper, TrainLog, TrainProgress, train
from mmdemo.models.loading import load_for_training
from mmdemo.models.zerogpu import ZERO_GPU_MAX_SECONDS, gpu_task

#: GPU seconds asked for besides the steps: loading the base model and saving the result.
LOAD_AND_SAVE_SECONDS = 60
#: GPU seconds asked for per optimizer step: an estimate (no GPU measured it), generous
#: for CLIP-size models at batch 32; a 2B model's steps may need more than this.
SECONDS_PER_STEP = 1


@dataclass(frozen=True)
class TrainJob:
    """Everything one training call needs, as picklable values; None hyper-parameters take
    the recipe's."""

    base: str
    pairs: tuple[Pair, ...]
    out: Path
    settings: Settings
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None


@dataclass(frozen=True)
class TrainStep:
    """Progress of a running call: optimizer step, total steps, latest loss (None at first)."""

    step: int
    total: int
    loss: float | None


@dataclass(frozen=True)
class Trained:
    """What a finished call reports: the run's log, the hyper-parameters it used and what
    trained (the model itself is in the job's out folder)."""

    log: TrainLog
    hyper: Hyper
    trains: str


def most_steps(job: TrainJob) -> int:
    """Optimizer steps the job can take at most: its epochs and batch size, or for those not
    given the recipe defaults that make the most steps (the recipe is known only once the
    model is loaded, inside the call)."""
    recipes = (LITE, TRANSFORMERS)
    epochs = job.epochs if job.epochs is not None else max(r.epochs for r in recipes)
    batch = job.batch_size if job.batch_size is not None else min(r.batch_size for r in recipes)
    return epochs * math.ceil(len(job.pairs) / max(batch, 1))


def training_seconds(job: TrainJob) -> int:
    """How long the call may hold a ZeroGPU GPU: 60 s to load and save plus 1 s per step.

    Raises :class:`TrainingError` when that exceeds what one ZeroGPU call may ask for.
    """
    steps = most_steps(job)
    seconds = LOAD_AND_SAVE_SECONDS + SECONDS_PER_STEP * steps
    if seconds > ZERO_GPU_MAX_SECONDS:
        fit = (ZERO_GPU_MAX_SECONDS - LOAD_AND_SAVE_SECONDS) // SECONDS_PER_STEP
        raise TrainingError(
            f"This run takes up to {steps} training steps, more than one ZeroGPU call allows "
            f"({fit}): lower the epochs, raise the batch size or fine-tune on a GPU Space."
        )
    return seconds


def _streamed(run: Callable[[TrainProgress], Trained]) -> Iterator[TrainStep | Trained]:
    """Run ``run`` in a thread and yield its progress as it comes, then its result.

    The trainer reports through a callback, a generator can only yield from its own frame:
    a one-slot queue joins the two (as transformers' streamers do for ``generate``), so the
    trainer stays at most a step ahead. When the generator is closed early (the caller
    stopped listening), the next step's report raises and training ends unsaved.
    """
    events: queue.Queue[TrainStep | Trained | BaseException] = queue.Queue(maxsize=1)
    stopped = threading.Event()

    def offer(event: TrainStep | Trained | BaseException) -> None:
        while not stopped.is_set():
            try:
                events.put(event, timeout=0.1)
                return
            except queue.Full:
                continue
        raise TrainingError("Training stopped: nobody was waiting for its result.")

    def work() -> None:
        try:
            offer(run(lambda step, total, loss: offer(TrainStep(step, total, loss))))
        except BaseException as exc:  # raised again in the generator's thread
            if not stopped.is_set():
                offer(exc)

    thread = threading.Thread(target=work, name="mmdemo-train", daemon=True)
    thread.start()
    try:
        while True:
            event = events.get()
            if isinstance(event, BaseException):
                raise event
            yield event
            if isinstance(event, Trained):
                return
    finally:
        stopped.set()
        thread.join()


def _train_into(job: TrainJob, work_dir: Path, progress: TrainProgress) -> Trained:
    model = load_for_training(job.base, job.settings)
    recipe = recipe_for(model)
    hyper = Hyper.choose(recipe, job.epochs, job.batch_size, job.learning_rate)
    log = train(
        model,
        job.pairs,
        recipe=recipe,
        hyper=hyper,
        settings=job.settings,
        work_dir=work_dir,
        progress=progress,
    )
    if job.out.exists():
        shutil.rmtree(job.out)
    model.save(str(job.out))
    return Trained(log, hyper, recipe.trains)


@gpu_task(training_seconds)
def train_and_save(job: TrainJob) -> Iterator[TrainStep | Trained | MMDemoError]:
    """Train ``job.base`` on ``job.pairs`` and save it to ``job.out``, yielding each step's
    progress, then the :class:`Trained` report.

    An :class:`MMDemoError` (out of memory, nothing to train) is yielded, not raised: a
    ZeroGPU worker replaces exceptions by a generic "worker error", and this keeps the
    sentence for the user. :func:`run_training` raises it again.
    """
    with tempfile.TemporaryDirectory(prefix="mmdemo-finetune-") as work_dir:
        try:
            yield from _streamed(lambda report: _train_into(job, Path(work_dir), report))
        except MMDemoError as error:
            yield error


def run_training(job: TrainJob, progress: TrainProgress) -> Trained:
    """Run :func:`train_and_save` to the end, passing its steps to ``progress``.

    Raises the :class:`MMDemoError` that stopped it (nothing is saved then).
    """
    for event in train_and_save(job):
        if isinstance(event, TrainStep):
            progress(event.step, event.total, event.loss)
        elif isinstance(event, MMDemoError):
            raise event
        else:
            return event
    raise TrainingError("Training ended without a result: run it again.")
