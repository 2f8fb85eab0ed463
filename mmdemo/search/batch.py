"""Micro-batching of concurrent query encodes: one forward pass for the queries that wait.

Under concurrent searches most of a query's model time is the fixed cost of one forward
pass: on one core the ``lite`` text encoder takes about 37 ms for one text and 59 ms for
eight (bench/README.md, "Concurrent searches"). A :class:`Coalescer` runs one batch per
key at a time; the callers that arrive while a batch runs wait for it and then go
through the model together in the next one. A caller alone runs at once; a caller that
finds others waiting gives stragglers a few ms to join, so a single search keeps its
speed and a burst shares the passes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    from mmdemo.embed import Embedder

T = TypeVar("T")
R = TypeVar("R")

#: How long a batch that already has several callers waits for more to join (seconds): a
#: few ms, small next to a search, long enough for a burst of requests released together.
GATHER_S = 0.004


@dataclass
class _Call(Generic[T, R]):
    """One caller's items and, once its batch ran, their results or the batch's error."""

    items: Sequence[T]
    done: bool = False
    results: list[R] = field(default_factory=list)
    error: BaseException | None = None


class Coalescer(Generic[T, R]):
    """Runs ``run(items) -> results`` (one result per item, in order) for concurrent
    callers in shared batches, one batch per key at a time.

    ``run`` must give each item the result it would give it alone (a batch-independent
    function, e.g. an encoder in eval mode). An error in a batch is raised to every
    caller in it.
    """

    def __init__(self, gather_s: float = GATHER_S) -> None:
        self.gather_s = gather_s
        self._lock = threading.Lock()
        self._pending: dict[Hashable, list[_Call[T, R]]] = {}
        self._running: dict[Hashable, threading.Lock] = {}

    def __call__(
        self, key: Hashable, items: Sequence[T], run: Callable[[list[T]], Sequence[R]]
    ) -> list[R]:
        """The results of ``run`` for ``items``, computed in a batch with other callers'."""
        call: _Call[T, R] = _Call(items)
        with self._lock:
            self._pending.setdefault(key, []).append(call)
            turn = self._running.setdefault(key, threading.Lock())
        with turn:
            if not call.done:
                if self._others_pending(key):
                    time.sleep(self.gather_s)
                self._run_batch(key, run)
        if call.error is not None:
            raise call.error
        return call.results

    def _others_pending(self, key: Hashable) -> bool:
        """Whether callers besides the one whose turn it is wait on ``key``."""
        with self._lock:
            return len(self._pending.get(key, ())) > 1

    def _run_batch(self, key: Hashable, run: Callable[[list[T]], Sequence[R]]) -> None:
        """Run every call waiting on ``key`` (this caller's included) as one batch."""
        with self._lock:
            calls = self._pending.pop(key, [])
        flat = [item for call in calls for item in call.items]
        try:
            results = list(run(flat))
            if len(results) != len(flat):
                raise RuntimeError(f"A batch of {len(flat)} gave {len(results)} results.")
        except Exception as exc:  # handed to each caller, who raises it
            for call in calls:
                call.error, call.done = exc, True
            return
        start = 0
        for call in calls:
            call.results, call.done = results[start : start + len(call.items)], True
            start += len(call.items)


#: A batcher of query texts: one per :class:`mmdemo.runtime.Runtime` (``Runtime.texts``).
TextBatcher = Coalescer[str, np.ndarray]


def encode_texts(embedder: Embedder, texts: Sequence[str], batcher: TextBatcher) -> np.ndarray:
    """``embedder.encode_texts(texts)`` (at least one text), batched through ``batcher`` with
    other threads' concurrent queries."""
    return np.stack(batcher(id(embedder), texts, lambda batch: list(embedder.encode_texts(batch))))
