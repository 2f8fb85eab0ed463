"""A stand-in for the ``spaces`` package on a ZeroGPU Space, for tests on this CPU machine.

The real package cannot even be imported with ``SPACES_ZERO_GPU`` set unless torch is a
CUDA build, and it needs Hugging Face's GPU scheduler. This one keeps the contract that
matters to mmdemo: ``GPU(duration=...)`` wraps a function whose arguments and result cross
a process boundary by pickling (here: a pickle round trip); a generator function stays a
generator whose every yielded value crosses it; a callable duration is called with the
call's arguments. While a wrapped call runs (for a generator: from its start to its end),
``INSIDE.depth`` is above zero, in every thread, as the whole forked worker holds the GPU
on ZeroGPU. Each wrapping and each call (with its duration) is appended, as a JSON line,
to the file named by ``FAKE_SPACES_LOG`` (when set).
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


class _Inside:
    """How many wrapped calls are running, process-wide."""

    def __init__(self) -> None:
        self.depth = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.depth += 1

    def leave(self) -> None:
        with self._lock:
            self.depth -= 1


INSIDE = _Inside()


def _log(**event: Any) -> None:
    path = os.environ.get("FAKE_SPACES_LOG")
    if path:
        with Path(path).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(event) + "\n")


def GPU(task: Callable[..., Any] | None = None, *, duration: int | None = None) -> Any:  # noqa: N802
    """Wrap ``task`` as ZeroGPU does (here: count the calls in flight and log them)."""

    def seconds(*args: Any, **kwargs: Any) -> int | None:
        return duration(*args, **kwargs) if callable(duration) else duration

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        _log(
            event="wrapped",
            name=fn.__qualname__,
            duration="dynamic" if callable(duration) else duration,
            generator=inspect.isgeneratorfunction(fn),
        )

        def cross(value: Any) -> Any:
            return pickle.loads(pickle.dumps(value))

        @functools.wraps(fn)
        def run(*args: Any, **kwargs: Any) -> Any:
            _log(event="call", name=fn.__qualname__, duration=seconds(*args, **kwargs))
            args, kwargs = cross((args, kwargs))
            INSIDE.enter()
            try:
                result = fn(*args, **kwargs)
            finally:
                INSIDE.leave()
            return cross(result)

        @functools.wraps(fn)
        def stream(*args: Any, **kwargs: Any) -> Iterator[Any]:
            _log(event="call", name=fn.__qualname__, duration=seconds(*args, **kwargs))
            args, kwargs = cross((args, kwargs))
            INSIDE.enter()
            try:
                for value in fn(*args, **kwargs):
                    _log(event="yield", name=fn.__qualname__, type=type(value).__name__)
                    yield cross(value)
            finally:
                INSIDE.leave()

        return stream if inspect.isgeneratorfunction(fn) else run

    return wrap(task) if task is not None else wrap
