"""The small interface every graph runtime offers, and what they share.

A runtime (:mod:`~mmdemo.models.backends.ort`, :mod:`~mmdemo.models.backends.ov`) opens
one exported graph as a :class:`Session`: named numpy inputs in, named numpy outputs out.
Everything above it (pre-processing, batching, the embedder) is the same for every runtime.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from mmdemo.models.backends.ort import OrtSession
from mmdemo.models.backends.ov import OvSession

#: The accelerated backends: each runs the exported ONNX graphs on the CPU.
GRAPH_BACKENDS = ("onnx", "openvino")


class Session(Protocol):
    """One exported graph, opened by a runtime."""

    input_names: tuple[str, ...]

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The graph's outputs by name for ``feeds`` (at least its :attr:`input_names`)."""
        ...


def cpu_cores() -> int:
    """The cores this process may run on (its affinity, e.g. a container's share)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def open_session(backend: str, path: Path, threads: int, outputs: Sequence[str]) -> Session:
    """``path`` opened by ``backend``'s runtime with ``threads`` intra-op threads; its
    results are named by the graph's ``outputs`` (in graph order)."""
    if backend == "onnx":
        return OrtSession(path, threads)
    if backend == "openvino":
        return OvSession(path, threads, outputs)
    raise ValueError(f"Unknown graph backend {backend!r}: use one of {', '.join(GRAPH_BACKENDS)}.")
