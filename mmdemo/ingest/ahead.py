"""Run a producer ahead of its consumer in a background thread, a bounded distance ahead.

Indexing decodes images, writes copies and thumbnails (Pillow, which releases the GIL) while
the model runs the previous batch (torch, which releases it too), so the two overlap on
separate cores. The queue holds at most ``depth`` finished items, so memory stays bounded
whatever the input size.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

_POLL_S = 0.1


class _Done:
    """The end of the stream, carrying the producer's exception if it failed."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error


@contextmanager
def run_ahead(source: Iterable[T], depth: int = 2) -> Iterator[Iterator[T]]:
    """Iterate ``source`` in a background thread; yield an iterator over its items, in order.

    A failure in ``source`` is raised in the consumer when it reaches that point. Leaving the
    block early (the consumer failed or stopped) stops the producer before its next item and
    waits for it, so nothing keeps running after the caller returns.
    """
    slots: queue.Queue[T | _Done] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def put(value: T | _Done) -> bool:
        while not stop.is_set():
            try:
                slots.put(value, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for value in source:
                if not put(value):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Done(exc))
            return
        put(_Done())

    worker = threading.Thread(target=produce, name="mmdemo-ingest-ahead", daemon=True)
    worker.start()

    def consume() -> Iterator[T]:
        while True:
            value = slots.get()
            if isinstance(value, _Done):
                if value.error is not None:
                    raise value.error
                return
            yield value

    try:
        yield consume()
    finally:
        stop.set()
        worker.join()
