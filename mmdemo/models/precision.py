"""What each ``--precision`` setting does to a loaded model, in one place.

- ``fp32``: the weights as saved.
- ``bf16``: the weights stay fp32; inference runs under bf16 autocast
  (:meth:`~mmdemo.models.base.ModelHandle.inference`), so matmuls and convolutions take
  bf16 inputs where the CPU or GPU has fast bf16 kernels.
- ``int8``: dynamic int8 quantisation of every ``nn.Linear`` (weights int8, activations
  quantised per batch on the fly); convolutions stay fp32. CPU only: PyTorch has no
  dynamic-quantised kernels for CUDA.

bench/perf_precision.py measures each against fp32 (speed and relevance); the figures and
the reason fp32 stays the default are in bench/README.md.
"""

from __future__ import annotations

import warnings
from typing import Any

from mmdemo.errors import ModelLoadError


def prepare(model: Any, precision: str, device: str) -> Any:
    """``model`` ready to run at ``precision``: quantised in place for ``int8``, else as is."""
    if precision != "int8":
        return model
    if device != "cpu":
        raise ModelLoadError(
            f"Precision int8 runs on the CPU only, not on {device!r}: use --device cpu."
        )
    # lazy: torch: keeps it out of commands that load no torch model
    import torch
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        # torch.ao.quantization warns it is deprecated; it still is the stable eager API here.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        return quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8, inplace=True)


def autocast_dtype(precision: str) -> Any | None:
    """The torch dtype to autocast to at inference, or None for no autocast."""
    # lazy: torch: keeps it out of searches on exported graphs
    import torch

    return torch.bfloat16 if precision == "bf16" else None
