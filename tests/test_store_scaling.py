"""Store scaling: exact search below the switch, HNSW above, cached handles, older stores.

Sizes here are small: these tests check exactness and agreement semantics; speed is
measured by bench/perf.py, never asserted.
"""

from __future__ import annotations

from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.config import Settings as ChromaSettings

from mmdemo import exact
from mmdemo.config import Settings
from mmdemo.errors import NotFoundError
from mmdemo.exact import ExactIndex
from mmdemo.filters import ItemFilter
from mmdemo.store import HNSW_CONFIGURATION, Store
from mmdemo.store.client import Clients
from mmdemo.store.naming import chroma_name

MODEL = "lite"
#: The HNSW settings stores were created with before exact search existed.
OLD_HNSW = {"space": "cosine", "ef_construction": 400, "max_neighbors": 32, "ef_search": 512}


def _unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _ids(count: int) -> list[str]:
    return [f"id{i:05d}" for i in range(count)]


def _captions(count: int) -> list[dict[str, object]]:
    return [{"caption": "a blue boat" if i % 3 else "a Red kite", "n": i} for i in range(count)]


def _exact_top(vectors: np.ndarray, query: np.ndarray, k: int, rows: list[int]) -> list[str]:
    scores = vectors[rows] @ query
    return [_ids(len(vectors))[rows[j]] for j in np.argsort(-scores)[:k]]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.mark.parametrize("path", ["exact", "hnsw"])
def test_both_search_paths_agree_with_numpy_and_filter_captions(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    if path == "hnsw":
        monkeypatch.setattr(exact, "EXACT_MAX_FLOATS", 0)
    vectors = _unit_rows(600, 32)
    store = Store(settings)
    store.add("c", MODEL, _ids(600), vectors, _captions(600))
    queries = _unit_rows(10, 32, seed=3)
    kites = [i for i in range(600) if i % 3 == 0]
    for query in queries:
        hits = store.query("c", MODEL, query, 10)
        assert [h.id for h in hits] == _exact_top(vectors, query, 10, list(range(600)))
        np.testing.assert_allclose(
            [h.score for h in hits], np.sort(vectors @ query)[::-1][:10], atol=1e-5
        )
        filtered = store.query("c", MODEL, query, 5, ItemFilter("RED"))
        assert [h.id for h in filtered] == _exact_top(vectors, query, 5, kites)
        assert all(h.metadata["caption"] == "a Red kite" for h in filtered)


def test_exact_hits_carry_stored_metadata_without_reading_it_per_query(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(settings)
    vectors = _unit_rows(40, 16)
    store.add("c", MODEL, _ids(30), vectors[:30], _captions(30))
    query = _unit_rows(1, 16, seed=4)[0]
    store.query("c", MODEL, query, 5)  # loads the copy, metadata included
    store.add("c", MODEL, _ids(40)[30:], vectors[30:], _captions(40)[30:])  # appended to it
    reads: list[object] = []
    original = chromadb.api.models.Collection.Collection.get

    def counted(self: object, *args: object, **kwargs: object) -> object:
        reads.append(kwargs.get("include"))
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(chromadb.api.models.Collection.Collection, "get", counted)
    hits = store.query("c", MODEL, query, 40)
    assert reads == []
    monkeypatch.undo()
    # What a fresh store reads from Chroma, for every item, added before or after the load.
    fresh = {h.id: h.metadata for h in Store(settings).query("c", MODEL, query, 40)}
    assert {h.id: h.metadata for h in hits} == fresh
    assert fresh == dict(zip(_ids(40), _captions(40), strict=True))
    hits[0].metadata["caption"] = "changed by a caller"
    assert store.query("c", MODEL, query, 1)[0].metadata == fresh[hits[0].id]


def test_exact_index_breaks_ties_by_id_and_respects_allowed() -> None:
    index = ExactIndex.build(["b", "a", "c"], np.array([[1, 0], [1, 0], [0, 1]]), count=3)
    assert index.top_k(np.array([2.0, 0.0]), 2) == [("a", 1.0), ("b", 1.0)]
    assert index.top_k(np.array([1.0, 0.0]), 5, allowed={"c"}) == [("c", 0.0)]
    assert index.top_k(np.array([1.0, 0.0]), 5, allowed=set()) == []


def test_a_store_made_before_exact_search_keeps_working(settings: Settings) -> None:
    settings.chroma_dir.mkdir(parents=True)
    client = chromadb.PersistentClient(
        path=str(settings.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    old = client.create_collection(
        chroma_name("old", MODEL),
        configuration={"hnsw": OLD_HNSW},
        metadata={"mmdemo_collection": "old", "mmdemo_model": MODEL, "mmdemo_dim": 16},
        embedding_function=None,
    )
    vectors = _unit_rows(200, 16)
    old.add(ids=_ids(200), embeddings=vectors, metadatas=_captions(200))
    del client, old

    store = Store(settings)
    assert [(i.name, i.images) for i in store.collections()] == [("old", 200)]
    query = _unit_rows(1, 16, seed=5)[0]
    assert [h.id for h in store.query("old", MODEL, query, 5)] == _exact_top(
        vectors, query, 5, list(range(200))
    )
    more = _unit_rows(1, 16, seed=9)
    store.add("old", MODEL, ["new"], more, [{"caption": "new"}])
    assert store.query("old", MODEL, more[0], 1)[0].id == "new"
    assert store.models("old") == {MODEL: 201}


def test_cached_handles_follow_changes_by_another_process(settings: Settings) -> None:
    reader, writer = Store(settings), Store(settings)
    first = _unit_rows(50, 8)
    writer.add("shared", MODEL, _ids(50), first, _captions(50))
    query = first[7]
    assert reader.query("shared", MODEL, query, 1)[0].id == "id00007"

    writer.add("shared", "other", _ids(3), _unit_rows(3, 4), _captions(3))
    assert reader.has_model("shared", "other")

    writer.delete_collection("shared")
    with pytest.raises(NotFoundError):
        reader.query("shared", MODEL, query, 1)

    second = _unit_rows(50, 8, seed=2)
    writer.add("shared", MODEL, _ids(50), second, _captions(50))
    assert [h.id for h in reader.query("shared", MODEL, second[3], 1)] == ["id00003"]


def test_the_change_marker_is_seen_after_every_write(settings: Settings) -> None:
    clients = Clients()
    assert clients.read_marker(settings) == ""
    for _ in range(40):  # rapid writes: same clock tick, recycled inodes
        with clients.write_lock(settings) as markers:
            assert clients.read_marker(settings) == markers.during != markers.before
        assert clients.read_marker(settings) == markers.after


def test_new_collections_get_the_new_build_and_old_ones_keep_theirs(settings: Settings) -> None:
    settings.chroma_dir.mkdir(parents=True)
    client = chromadb.PersistentClient(
        path=str(settings.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    client.create_collection(
        chroma_name("old", MODEL),
        configuration={"hnsw": OLD_HNSW},
        metadata={"mmdemo_collection": "old", "mmdemo_model": MODEL, "mmdemo_dim": 8},
        embedding_function=None,
    )
    del client
    store = Store(settings)
    for name in ("old", "new"):
        store.add(name, MODEL, _ids(20), _unit_rows(20, 8), _captions(20))

    def build(name: str) -> dict[str, object]:
        hnsw = store._chroma.client.get_collection(chroma_name(name, MODEL)).configuration["hnsw"]
        return {key: (hnsw or {}).get(key) for key in OLD_HNSW}

    assert build("old") == OLD_HNSW
    assert build("new") == HNSW_CONFIGURATION != OLD_HNSW
