"""ZeroGPU: model work runs inside ``spaces.GPU`` functions on a ZeroGPU Space, and only there.

On a ZeroGPU Space a GPU is attached to the process only while a function decorated with
``spaces.GPU`` runs (in a forked worker that receives its arguments and returns its result
by pickling). :func:`gpu_task` marks the functions that do model work (embedding batches,
reranking, fine-tuning) with how long one call may hold the GPU (a number of seconds, or a
function of the call's arguments: ``spaces`` documents both); it wraps them with
``spaces.GPU`` when the app runs on ZeroGPU and returns them unchanged everywhere else, so
nothing changes locally, on CPU Spaces or on GPU Spaces.

ZeroGPU is detected the way the ``spaces`` package detects it: the ``SPACES_ZERO_GPU``
variable that ZeroGPU Spaces set. The ``spaces`` package is imported only there (it patches
torch on import, and must be imported before anything initialises CUDA: see :func:`prepare`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

#: Seconds given to one call, or a function of the call's arguments returning them.
Duration = int | Callable[..., int]
#: Every function marked as model work, by qualified name, with its GPU duration.
GPU_TASKS: dict[str, Duration] = {}
#: The longest GPU call ZeroGPU grants. Not in its documentation; Hugging Face's ZeroGPU
#: team gave 5 minutes as the most one call may request (zero-gpu-explorers discussion 7).
ZERO_GPU_MAX_SECONDS = 300


def on_zero_gpu() -> bool:
    """Whether this process runs on a ZeroGPU Space (``SPACES_ZERO_GPU`` true, as ``spaces``
    itself reads it)."""
    return (os.environ.get("SPACES_ZERO_GPU") or "").strip().lower() in {"1", "t", "true"}


def prepare() -> None:
    """Import ``spaces`` first on ZeroGPU, before torch can initialise CUDA (its documented
    requirement); elsewhere nothing happens."""
    if on_zero_gpu():
        # lazy: spaces: only ZeroGPU has it, and it must come before torch there
        import spaces  # noqa: F401


def gpu_task(duration: Duration) -> Callable[[F], F]:
    """Mark ``fn`` as model work that may hold a GPU for ``duration`` seconds per call.

    On ZeroGPU the function is wrapped with ``spaces.GPU(duration=duration)``; elsewhere
    it is returned as it is. A generator function stays one: ``spaces`` streams what it
    yields back from the worker as it comes.
    """

    def mark(fn: F) -> F:
        GPU_TASKS[fn.__qualname__] = duration
        if not on_zero_gpu():
            return fn
        # lazy: spaces: only ZeroGPU has it
        import spaces

        wrapped: F = spaces.GPU(duration=duration)(fn)
        return wrapped

    return mark
