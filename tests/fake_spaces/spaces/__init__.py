"""A stand-in for the ``spaces`` package on a ZeroGPU Space, for tests on this CPU machine.

The real package cannot even be imported with ``SPACES_ZERO_GPU`` set unless torch is a
CUDA build, and it needs Hugging Face's GPU scheduler. This one keeps the contract that
matters to mmdemo: ``GPU(duration=...)`` wraps a function whose arguments and result cross
a process boundary by pickling (here: a pickle round trip); while a wrapped function runs,
``INSIDE.depth`` is above zero. Each wrapping and each call is appended, as a JSON line, to
the file named by ``FAKE_SPACES_LOG`` (when set).
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

INSIDE = threading.local()


def _log(**event: Any) -> None:
    path = os.environ.get("FAKE_SPACES_LOG")
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")


def GPU(task: Callable[..., Any] | None = None, *, duration: int | None = None) -> Any:  # noqa: N802
    """Wrap ``task`` as ZeroGPU does (here: count the calls in flight and log them)."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        _log(event="wrapped", name=fn.__qualname__, duration=duration)

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            _log(event="call", name=fn.__qualname__)
            args, kwargs = pickle.loads(pickle.dumps((args, kwargs)))
            INSIDE.depth = getattr(INSIDE, "depth", 0) + 1
            try:
                result = fn(*args, **kwargs)
            finally:
                INSIDE.depth -= 1
            return pickle.loads(pickle.dumps(result))

        return run

    return wrap(task) if task is not None else wrap
