"""The OpenVINO backend: an exported ONNX graph compiled by OpenVINO for the CPU.

OpenVINO reads the ``.onnx`` file itself; its compiled form is cached in a folder beside
the graph (OpenVINO's own model cache), so a second process compiles from that blob.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

CACHE_FOLDER = "openvino-cache"


@cache
def _core() -> Any:
    """One OpenVINO ``Core`` per process (it holds the loaded plugins)."""
    # lazy: openvino: keeps it out of the torch and ONNX Runtime backends
    import openvino as ov

    return ov.Core()


class OvSession:
    """One graph compiled for the CPU; each call runs in an infer request of its own, kept
    per thread (a compiled model is shared, an infer request is not thread-safe).

    OpenVINO may give a tensor several names (the ONNX input or output, and the node next to
    it), so the outputs are named by ``outputs``, the graph's output names in its order,
    and each input by the one of its names that a graph input has (no ``/`` in it: the
    exporter's node names are paths).
    """

    def __init__(self, path: Path, threads: int, outputs: Sequence[str]) -> None:
        config = {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",
            "CACHE_DIR": str(path.parent / CACHE_FOLDER),
        }
        self._compiled = _core().compile_model(str(path), "CPU", config)
        self.input_names = tuple(
            min(port.get_names(), key=lambda name: ("/" in name, name))
            for port in self._compiled.inputs
        )
        self._outputs = list(zip(outputs, self._compiled.outputs, strict=True))
        self._local = threading.local()

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The graph's outputs by name (copies: the request's buffers are reused)."""
        request = getattr(self._local, "request", None)
        if request is None:
            request = self._local.request = self._compiled.create_infer_request()
        result = request.infer({name: feeds[name] for name in self.input_names})
        return {name: np.array(result[port]) for name, port in self._outputs}
