"""One torch thread while a single query runs: measured fastest for one-query work here.

A single text encode or a 20-candidate rerank is too small to gain from intra-op threads;
on 2 busy cores the second thread only adds contention (bench/perf_rerank.py: a text
encode 70 ms with 1 thread vs 289 ms with 2; a reranked search 197 ms vs 732 ms, min of
repeats). Batch work (indexing) keeps torch's default.

torch's thread count is process-global, so sections are counted: the first to enter saves
the count and sets 1, the last to leave restores it. Indexing that overlaps a search runs
on one thread meanwhile, which costs it some speed but never correctness. A process that
never imported torch (models on exported graphs) has no torch work to limit: nothing is
imported or set then. The count lives in a :class:`ThreadGovernor` that the process's
:class:`mmdemo.runtime.Runtime` owns; as torch's setting is the process's, a process runs
its searches through one Runtime (the app's, the command line's, or the library default).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

SINGLE_QUERY_THREADS = 1
#: How OpenMP threads wait for work in a process the app or the command line owns.
OMP_WAIT = "PASSIVE"


class ThreadGovernor:
    """Counts the single-query sections running now, to set and restore torch's threads."""

    def __init__(self, threads: int = SINGLE_QUERY_THREADS) -> None:
        self.threads = threads
        self._lock = threading.Lock()
        self._active = 0
        self._saved = 0

    @contextmanager
    def single_query(self) -> Iterator[None]:
        """Run the body with :attr:`threads` torch threads, restoring the count after."""
        torch = sys.modules.get("torch")
        if torch is None:
            yield
            return
        with self._lock:
            if self._active == 0:
                self._saved = torch.get_num_threads()
                torch.set_num_threads(self.threads)
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    torch.set_num_threads(self._saved)


def wait_passively() -> None:
    """Let torch's idle OpenMP threads sleep instead of spin, unless the user chose otherwise.

    Spinning threads take the CPU that the indexer's producer thread (decoding, thumbnails)
    needs beside them; waiting passively made indexing 5-10 % faster on 2 cores
    (bench/README.md, "Preparing ahead"). OpenMP reads it when torch starts it, so the
    entry points (app.py, ``python -m mmdemo``) call this before anything imports torch;
    a library user's process is left as it is.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", OMP_WAIT)
