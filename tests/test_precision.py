"""The --precision setting through the one loading path: what each choice does to a model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from mmdemo import cli
from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.errors import ModelLoadError
from mmdemo.models import loading
from mmdemo.models.precision import prepare
from mmdemo.rerank import Candidate

IMAGES = [Image.new("RGB", (40, 30), colour) for colour in ("orange", "navy", "olive")]


def _load(folder: Path, tmp_path: Path, precision: str) -> Embedder:
    """Torch's own precisions are what these tests look inside (graphs: test_backends)."""
    settings = Settings(data_dir=tmp_path, device="cpu", precision=precision, backend="torch")
    return loading.load_embedder(str(folder), settings)


def _linear_output_dtypes(embedder: Embedder) -> set[torch.dtype]:
    """The dtypes every linear layer (plain or quantised) returns while images encode."""
    seen: set[torch.dtype] = set()
    hooks = [
        module.register_forward_hook(lambda _m, _i, out: seen.add(out.dtype))
        for module in embedder.model.modules()
        if isinstance(module, torch.nn.Linear | torch.ao.nn.quantized.dynamic.Linear)
    ]
    try:
        embedder.encode_images(IMAGES)
    finally:
        for hook in hooks:
            hook.remove()
    return seen


def test_cli_accepts_every_precision() -> None:
    for precision in ("fp32", "bf16", "int8"):
        args = cli._parser().parse_args(["list", "--precision", precision])
        assert args.precision == precision


def test_int8_quantises_every_linear_layer(tiny_clip_dir: Path, tmp_path: Path) -> None:
    fp32 = _load(tiny_clip_dir, tmp_path, "fp32")
    int8 = _load(tiny_clip_dir, tmp_path, "int8")
    quantised = torch.ao.nn.quantized.dynamic.Linear
    assert not any(isinstance(m, quantised) for m in fp32.model.modules())
    linear = [m for m in int8.model.modules() if isinstance(m, torch.nn.Linear)]
    assert linear == [] and any(isinstance(m, quantised) for m in int8.model.modules())
    vectors = int8.encode_images(IMAGES)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    similarity = np.sum(vectors * fp32.encode_images(IMAGES), axis=1)
    assert np.all(similarity > 0.9)
    assert int8.encode_texts(["a cat"]).shape == (1, int8.dim)


def test_bf16_runs_linear_layers_in_bf16(tiny_clip_dir: Path, tmp_path: Path) -> None:
    assert _linear_output_dtypes(_load(tiny_clip_dir, tmp_path, "bf16")) == {torch.bfloat16}
    assert _linear_output_dtypes(_load(tiny_clip_dir, tmp_path, "fp32")) == {torch.float32}
    assert _linear_output_dtypes(_load(tiny_clip_dir, tmp_path, "int8")) == {torch.float32}


def test_int8_reranker_scores(tiny_reranker_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, device="cpu", precision="int8")
    reranker = loading.load_reranker(str(tiny_reranker_dir), settings)
    assert any(
        isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in reranker.model.modules()
    )
    path = tmp_path / "a.png"
    IMAGES[0].save(path)
    scores = reranker.score_parts([Candidate("a", path)], text="a cat").text
    assert scores is not None and scores.shape == (1,) and np.isfinite(scores).all()


def test_int8_is_refused_off_the_cpu() -> None:
    with pytest.raises(ModelLoadError, match="int8 runs on the CPU only"):
        prepare(torch.nn.Linear(2, 2), "int8", "cuda")
