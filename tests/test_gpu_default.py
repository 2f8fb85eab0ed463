"""On a GPU (CUDA or ZeroGPU) the page's default reranker is the Qwen3-VL cross-encoder
with a bounded image size; on a CPU it stays as before. The device is faked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mmdemo.models import loading, registry
from mmdemo.ui.shared import NO_RERANKER, default_reranker


@pytest.fixture
def cuda(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A machine with a GPU driver (a path that exists) where torch sees CUDA."""
    import torch

    from mmdemo import config

    monkeypatch.setattr(config, "_GPU_DRIVER_PATHS", (str(tmp_path),))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.delenv("MMDEMO_DEVICE", raising=False)
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)


def test_a_cuda_machine_defaults_to_the_qwen3_vl_reranker(cuda: None) -> None:
    assert default_reranker("lite") == registry.GPU_RERANKER == "qwen3-vl-reranker-2b"
    assert default_reranker("clip-b32") == registry.GPU_RERANKER


def test_a_cpu_keeps_todays_defaults(cuda: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMDEMO_DEVICE", "cpu")  # a GPU that models are told not to use
    assert default_reranker("lite") == "lite"
    assert default_reranker("clip-b32") == NO_RERANKER


def test_zero_gpu_counts_as_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMDEMO_DEVICE", "cpu")
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert default_reranker("lite") == registry.GPU_RERANKER


def test_the_qwen3_vl_reranker_loads_with_a_bounded_image_size(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sentence_transformers

    made: dict[str, Any] = {}

    class FakeCrossEncoder:
        def __init__(self, location: str, **kwargs: Any) -> None:
            made.update(kwargs, location=location)

    monkeypatch.setattr(sentence_transformers, "CrossEncoder", FakeCrossEncoder)
    resolved = registry.resolve(registry.GPU_RERANKER, "reranker")
    loading._construct(resolved, "cuda", local_only=True)
    assert made["location"] == "Qwen/Qwen3-VL-Reranker-2B"
    assert made["processor_kwargs"] == {"max_pixels": registry.QWEN_MAX_PIXELS}
    assert registry.resolve("lite", "reranker").processor_kwargs is None
