"""ONNX Runtime and OpenVINO backends: exported graphs agree with torch, are cached and
reused, are rebuilt when their key changes, and fall back to torch with one line.

Real weights (the offline lite models) show the vectors are interchangeable; the tiny CLIP
and SigLIP show any transformers CLIP / SigLIP exports, pads and tokenises as the model does.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmdemo.config import Settings
from mmdemo.demos import PHOTOS_DIR
from mmdemo.embed import Embedder
from mmdemo.models import loading
from mmdemo.models.backends import cache, export
from mmdemo.models.backends.graph_model import GraphModel
from mmdemo.runtime import Runtime

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = PHOTOS_DIR
TEXTS = ["a cup of coffee", "an astronaut", "a", "two cats asleep on a red sofa in the sun"]
GRAPHS = ("onnx", "openvino")


def photos(count: int = 6) -> list[Image.Image]:
    found = [Image.open(p).convert("RGB") for p in sorted(PHOTOS.glob("*.jpg"))[:count]]
    assert len(found) == count, f"{PHOTOS} holds {len(found)} photos, not {count}"
    return found


def odd_images() -> list[Image.Image]:
    """Images of other sizes and aspect ratios than any probe, one smaller than a crop."""
    rng = np.random.default_rng(3)
    sizes = ((90, 30), (17, 23), (64, 64), (200, 120))
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for w, h in sizes]


#: ``load(name, backend, graphs=None, **settings)``: the embedder on that backend, loaded
#: into the test's own runtime (a cached model would keep graphs of another test's folder).
Load = Callable[..., Embedder]


@pytest.fixture
def load(runtime: Runtime) -> Load:
    def loaded(
        name: str | Path, backend: str, graphs: Path | None = None, **extra: str
    ) -> Embedder:
        settings = Settings.from_env(backend=backend, graph_cache=graphs, **extra)
        return loading.load_embedder(str(name), settings, runtime)

    return loaded


def least_cosine(first: np.ndarray, second: np.ndarray) -> float:
    return float(np.min(np.sum(first * second, axis=1)))


@pytest.mark.parametrize("backend", GRAPHS)
@pytest.mark.parametrize("model", ["lite", "lite-b2"])
def test_lite_vectors_match_torch_on_real_weights(model: str, backend: str, load: Load) -> None:
    graphs, torch = load(model, backend), load(model, "torch")
    assert (graphs.backend, torch.backend) == (backend, "torch")
    assert isinstance(graphs.model, GraphModel)
    images = photos()
    assert least_cosine(graphs.encode_images(images), torch.encode_images(images)) >= 0.9999
    assert least_cosine(graphs.encode_texts(TEXTS), torch.encode_texts(TEXTS)) >= 0.9999


@pytest.mark.parametrize("backend", GRAPHS)
@pytest.mark.parametrize("fixture", ["tiny_clip_dir", "tiny_siglip_dir"])
def test_tiny_transformers_match_torch(
    fixture: str, backend: str, request: pytest.FixtureRequest, load: Load
) -> None:
    folder = request.getfixturevalue(fixture)
    graphs, torch = load(folder, backend), load(folder, "torch")
    assert graphs.backend == backend and graphs.dim == torch.dim
    images = odd_images()
    assert least_cosine(graphs.encode_images(images), torch.encode_images(images)) >= 0.9999
    long = " ".join(["a red car"] * 60)  # truncated to the model's length
    texts = [*TEXTS, long]
    assert least_cosine(graphs.encode_texts(texts), torch.encode_texts(texts)) >= 0.9999


def test_a_cached_set_is_reused_by_another_process_without_torch(
    tiny_clip_dir: Path, tmp_path: Path, load: Load
) -> None:
    expected = load(tiny_clip_dir, "onnx", tmp_path).encode_texts(TEXTS)
    script = (
        "import json, sys\n"
        "from mmdemo.config import Settings\n"
        "from mmdemo.models.loading import load_embedder\n"
        f"s = Settings.from_env(backend='onnx', graph_cache={str(tmp_path)!r})\n"
        f"e = load_embedder({str(tiny_clip_dir)!r}, s)\n"
        f"v = e.encode_texts({TEXTS!r})\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers')"
        " if m in sys.modules]\n"
        "print(json.dumps({'backend': e.backend, 'heavy': heavy, 'v': v.tolist(),"
        " 'opened': e.model.opened}))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert (found["backend"], found["heavy"]) == ("onnx", [])
    assert found["opened"] == ["text"]  # a text query never opens the image graph
    assert np.allclose(np.array(found["v"]), expected, atol=1e-6)


def test_sets_are_rebuilt_when_the_key_changes(
    tiny_clip_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    load: Load,
    runtime: Runtime,
) -> None:
    load(tiny_clip_dir, "onnx", tmp_path)
    first = sorted(p for p in tmp_path.glob("*/fp32-*"))
    assert len(first) == 1 and (first[0] / cache.MANIFEST).is_file()
    runtime.models.clear()
    load(tiny_clip_dir, "openvino", tmp_path)  # the same set serves every runtime
    assert sorted(tmp_path.glob("*/fp32-*")) == first
    runtime.models.clear()
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)
    load(tiny_clip_dir, "onnx", tmp_path)
    second = sorted(tmp_path.glob("*/fp32-*"))
    assert len(second) == 1 and second != first  # the stale set is gone
    assert not list(tmp_path.glob("*/.*tmp-*"))


def test_a_revision_is_a_folder_fingerprint_or_a_hub_commit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmdemo.models.registry import resolve

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    before = cache.revision(resolve(str(folder), "embedder"))
    (folder / "config.json").write_text('{"changed": 1}')
    assert cache.revision(resolve(str(folder), "embedder")) != before
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    hub = resolve("owner/name", "embedder")
    assert cache.revision(hub) is None
    ref = tmp_path / "hub" / "models--owner--name" / "refs" / "main"
    ref.parent.mkdir(parents=True)
    ref.write_text("abc123\n")
    assert cache.revision(hub) == "abc123"


def test_publishing_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "model" / "fp32-x"

    def broken(folder: Path) -> dict[str, object]:
        (folder / "text.onnx").write_bytes(b"half")
        raise RuntimeError("export failed")

    with pytest.raises(RuntimeError):
        cache.publish(target, broken)
    assert not target.exists() and not list(target.parent.iterdir())
    cache.publish(target, lambda folder: {"first": True})
    cache.publish(target, lambda folder: {"second": True})  # another process was first
    assert cache.read_manifest(target) == {"first": True}


def test_an_export_failure_runs_on_torch_with_one_line(
    tiny_clip_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    load: Load,
) -> None:
    def fail(*args: object) -> None:
        raise export.ExportError("its tokenizer could not be replayed")

    monkeypatch.setattr(export, "export_set", fail)
    with caplog.at_level(logging.WARNING, logger="mmdemo.models"):
        embedder = load(tiny_clip_dir, "onnx", tmp_path)
    assert embedder.backend == "torch"
    lines = [r.getMessage() for r in caplog.records if r.name == "mmdemo.models"]
    assert len(lines) == 1 and "tokenizer could not be replayed" in lines[0]
    assert "torch runs it" in lines[0]
    assert embedder.encode_texts(["a cat"]).shape == (1, 16)


def test_a_broken_cached_set_is_exported_again(
    tiny_clip_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    load: Load,
    runtime: Runtime,
) -> None:
    expected = load(tiny_clip_dir, "onnx", tmp_path).encode_texts(TEXTS)
    (graph,) = tmp_path.glob("*/fp32-*/text.onnx")
    graph.write_bytes(b"not a graph")
    runtime.models.clear()
    with caplog.at_level(logging.WARNING, logger="mmdemo.models"):
        embedder = load(tiny_clip_dir, "onnx", tmp_path)
    assert embedder.backend == "onnx" and "could not be opened" in caplog.text
    assert np.allclose(embedder.encode_texts(TEXTS), expected, atol=1e-6)


def test_replayed_preprocessing_is_checked(tiny_clip_dir: Path, tmp_path: Path) -> None:
    """A set whose replay differs from the model's own inputs is refused before it is used."""
    from sentence_transformers import SentenceTransformer

    raw = SentenceTransformer(str(tiny_clip_dir), device="cpu").eval()
    manifest = export.export_set(raw, tmp_path, "fp32")
    manifest["towers"]["image"]["prep"]["mean"] = [0.0, 0.0, 0.0]
    with pytest.raises(export.ExportError, match="image pre-processing could not be replayed"):
        export.check_replay(raw, GraphModel(tmp_path, manifest, "onnx"))


def test_int8_graphs_are_refused_with_the_measured_reason(tiny_clip_dir: Path, load: Load) -> None:
    from mmdemo.errors import InputError

    with pytest.raises(InputError, match=r"int8 on onnx is not offered .* offline split"):
        load(tiny_clip_dir, "onnx", precision="int8")
    assert load(tiny_clip_dir, "auto", precision="int8").backend == "torch"


def test_int8_graphs_of_a_transformer(
    tiny_clip_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, load: Load
) -> None:
    """What the relevance bench measures when it offers them (mmdemo/models/backends/choice.py)."""
    import onnx

    from mmdemo.models.backends import choice

    monkeypatch.setattr(choice, "INT8", {("transformer", "onnx")})
    embedder = load(tiny_clip_dir, "onnx", tmp_path, precision="int8")
    assert embedder.backend == "onnx" and embedder.model.precision == "int8"
    (graph,) = tmp_path.glob("*/int8-*/image.int8.onnx")
    assert "MatMulInteger" in {node.op_type for node in onnx.load(str(graph)).graph.node}
    torch = load(tiny_clip_dir, "torch")
    assert least_cosine(embedder.encode_texts(TEXTS), torch.encode_texts(TEXTS)) >= 0.95


def test_lite_rows_stored_from_graphs_equal_the_rerankers(tmp_path: Path, load: Load) -> None:
    """Indexing on graphs stores the lite reranker's rows without loading it: the same rows."""
    from mmdemo.ingest.embedding import embed_at_index
    from mmdemo.models.loading import load_reranker

    settings = Settings.from_env(data_dir=tmp_path, backend="onnx")
    embedder = loading.load_embedder("lite", settings)
    images = photos(4)
    ids = [f"{i:064x}" for i in range(len(images))]
    vectors = embed_at_index(settings, embedder, ids, embedder.prepare_images(images))
    assert least_cosine(vectors, load("lite", "torch").encode_images(images)) >= 0.9999
    reranker = load_reranker("lite", Settings.from_env(data_dir=tmp_path, backend="torch"))
    store = reranker.feature_store(settings)
    assert store is not None
    stored = store.load(ids)
    expected = reranker.model[0].image_features(images).detach().numpy()
    assert np.allclose(np.stack([stored[i] for i in ids]), expected, atol=2e-4)


def test_cached_graphs_live_beside_the_hf_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HOME", "/srv/hf")
    assert cache.graphs_root(Settings()) == Path("/srv/hf/mmdemo-graphs")
    assert cache.graphs_root(Settings(graph_cache=Path("/g"))) == Path("/g")


def test_a_collection_indexed_on_one_backend_is_searched_on_another(tmp_path: Path) -> None:
    """Vectors are interchangeable: the same neighbours, the same scores, whatever indexed."""
    from mmdemo.ingest.indexer import index_paths
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query
    from mmdemo.store import Store

    settings = Settings.from_env(data_dir=tmp_path, backend="onnx")
    store = Store(settings)
    index_paths([str(PHOTOS)], collection="c", models=["lite"], settings=settings, store=store)
    found = {}
    for backend in ("torch", "onnx", "openvino"):
        asked = settings.with_backend(backend)
        assert loading.load_embedder("lite", asked).backend == backend
        for query in (Query(text="a cup of coffee"), Query(image=str(PHOTOS / "astronaut.jpg"))):
            rows = search(query, collection="c", model="lite", settings=asked, store=store).rows
            found.setdefault(backend, []).append([(r["id"], r["similarity"]) for r in rows])
    for backend in ("onnx", "openvino"):
        for mine, torch_rows in zip(found[backend], found["torch"], strict=True):
            assert [i for i, _ in mine] == [i for i, _ in torch_rows]
            assert np.allclose([s for _, s in mine], [s for _, s in torch_rows], atol=1e-4)
