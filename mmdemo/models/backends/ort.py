"""The ONNX Runtime backend: an exported graph run by ``onnxruntime``'s CPU provider."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np


class OrtSession:
    """One graph in an ``onnxruntime.InferenceSession`` (thread-safe: searches share it).

    Its intra-op threads do not spin while they wait for work (ONNX Runtime's default is to
    spin), for the same reason torch's OpenMP threads wait passively here: the indexer's
    producer thread needs that CPU for decoding beside the model.
    """

    def __init__(self, path: Path, threads: int) -> None:
        # lazy: onnxruntime: keeps it out of the torch and OpenVINO backends
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its warnings are noise to a user
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.input_names = tuple(i.name for i in self._session.get_inputs())
        self._output_names = [o.name for o in self._session.get_outputs()]

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The graph's outputs by name."""
        outputs = self._session.run(self._output_names, {n: feeds[n] for n in self.input_names})
        return dict(zip(self._output_names, outputs, strict=True))
