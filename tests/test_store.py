"""Store: exact-enough cosine search, metadata, per-model collections, persistence, safety.

Every store test runs twice: against a local PersistentClient and against a real
`chroma run` server, through the same `store` fixture.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import mmdemo
from mmdemo.config import Settings
from mmdemo.errors import InputError, MMDemoError, NotFoundError, ReadOnlyError
from mmdemo.filters import ItemFilter
from mmdemo.names import validate_collection_name
from mmdemo.store import Store, chroma_name

CLIP = "sentence-transformers/clip-ViT-B-32"
LOCAL_MODEL = "/models/my tiny clip"


@pytest.fixture(params=["local", "server"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, empty store in either mode."""
    if request.param == "local":
        yield Settings(data_dir=tmp_path / "data")
        return
    settings = Settings(
        data_dir=tmp_path / "data", chroma_url=request.getfixturevalue("chroma_server_url")
    )
    yield settings
    cleanup = Store(settings)
    for info in cleanup.collections():
        cleanup.delete_collection(info.name)


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings)


def _unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _ids(count: int) -> list[str]:
    return [f"id{i:05d}" for i in range(count)]


def _fill(store: Store, collection: str, model: str, vectors: np.ndarray) -> list[str]:
    ids = _ids(len(vectors))
    store.add(collection, model, ids, vectors, [{"n": i} for i in range(len(ids))])
    return ids


def _recall(
    store: Store, vectors: np.ndarray, ids: list[str], queries: np.ndarray, k: int
) -> float:
    exact_top = np.argsort(-(queries @ vectors.T), axis=1)[:, :k]
    found = [
        len({hit.id for hit in store.query("big", CLIP, query, k)} & {ids[j] for j in top})
        for query, top in zip(queries, exact_top, strict=True)
    ]
    return sum(found) / (len(queries) * min(k, len(ids)))


def test_top_k_agrees_with_exact_cosine_search(store: Store) -> None:
    vectors = _unit_rows(3000, 64)
    ids = _fill(store, "big", CLIP, vectors)
    queries = _unit_rows(20, 64, seed=1)

    assert _recall(store, vectors, ids, queries, 10) >= 0.99
    assert _recall(store, vectors, ids, queries, 50) >= 0.99
    assert _recall(store, vectors, ids, queries[:3], 2990) >= 0.99
    assert len(store.query("big", CLIP, queries[0], 5000)) == 3000


def test_exact_top_k_breaks_ties_by_id() -> None:
    from mmdemo.exact import ExactIndex

    ids = [f"id-{i:02}" for i in range(40)]
    for order in (ids, ids[::-1]):
        index = ExactIndex.build(order, np.ones((40, 8), np.float32), 40)
        assert [item for item, _ in index.top_k(np.ones(8), 3)] == ids[:3]
    mixed = ExactIndex.build(ids, np.vstack([np.ones((39, 2)), [[1.0, -1.0]]]), 40)
    assert [item for item, _ in mixed.top_k(np.array([1.0, -1.0]), 2)] == ["id-39", "id-00"]


def test_query_scores_are_cosine_similarities_best_first(store: Store) -> None:
    vectors = _unit_rows(40, 8)
    ids = _fill(store, "photos", CLIP, vectors * 3.0)  # scale must not matter for cosine
    query = vectors[7] + 0.1 * vectors[3]

    hits = store.query("photos", CLIP, query, 5)

    exact = vectors @ (query / np.linalg.norm(query))
    assert [hit.id for hit in hits] == [ids[j] for j in np.argsort(-exact)[:5]]
    np.testing.assert_allclose([hit.score for hit in hits], np.sort(exact)[::-1][:5], atol=1e-5)
    assert hits[0].metadata == {"n": 7}


def test_metadata_is_cleaned_for_chroma(store: Store) -> None:
    metadata = {"width": np.int64(640), "ratio": np.float32(0.5), "gone": None, "ok": True}
    store.add("photos", CLIP, ["a"], _unit_rows(1, 4), [metadata])

    assert store.items("photos") == [("a", {"width": 640, "ratio": 0.5, "ok": True})]


def test_caption_filter_ignores_case(store: Store) -> None:
    captions = ["A Red CAR", "a blue car", "Red panda", None]
    metadatas = [{"caption": c} if c else {"n": 1} for c in captions]
    store.add("photos", CLIP, _ids(4), _unit_rows(4, 4), metadatas)
    query = _unit_rows(1, 4, seed=3)[0]

    red = store.query("photos", CLIP, query, 10, ItemFilter("  rED "))
    everything = store.query("photos", CLIP, query, 10, ItemFilter(""))

    assert sorted(hit.id for hit in red) == ["id00000", "id00002"]
    assert {hit.metadata["caption"] for hit in red} == {"A Red CAR", "Red panda"}
    assert len(everything) == 4
    assert store.query("photos", CLIP, query, 10, ItemFilter("zebra")) == []


def test_documents_argument_supplies_captions(store: Store) -> None:
    store.add("photos", CLIP, ["a", "b"], _unit_rows(2, 4), [{}, {}], documents=["Tall Tree", ""])

    hits = store.query("photos", CLIP, _unit_rows(1, 4)[0], 5, ItemFilter("TREE"))

    assert [(hit.id, hit.metadata) for hit in hits] == [("a", {"caption": "Tall Tree"})]


def test_query_names_what_is_missing(store: Store) -> None:
    store.add("photos", CLIP, ["a"], _unit_rows(1, 4), [{}])

    with pytest.raises(NotFoundError, match="'holiday'"):
        store.query("holiday", CLIP, _unit_rows(1, 4)[0], 3)
    with pytest.raises(NotFoundError, match=f"'photos'.*'other/model'.*{CLIP}"):
        store.query("photos", "other/model", _unit_rows(1, 4)[0], 3)
    with pytest.raises(InputError, match="at least 1"):
        store.query("photos", CLIP, _unit_rows(1, 4)[0], 0)
    with pytest.raises(InputError, match=r"4-d.*8-d"):
        store.query("photos", CLIP, _unit_rows(1, 8)[0], 3)


def test_one_collection_with_several_models(store: Store) -> None:
    store.add(
        "Holiday 2024", CLIP, ["a", "b", "c"], _unit_rows(3, 4), [{"n": 0}, {"n": 1}, {"n": 2}]
    )
    store.add("Holiday 2024", LOCAL_MODEL, ["b", "c", "d"], _unit_rows(3, 16), [{}, {}, {"n": 3}])
    store.add("other", CLIP, ["z"], _unit_rows(1, 4), [{}])

    assert store.models("Holiday 2024") == {CLIP: 3, LOCAL_MODEL: 3}
    assert store.models("nothing") == {}
    assert store.has_model("Holiday 2024", LOCAL_MODEL)
    assert not store.has_model("other", LOCAL_MODEL)
    assert [(info.name, info.images, info.models) for info in store.collections()] == [
        ("Holiday 2024", 4, {CLIP: 3, LOCAL_MODEL: 3}),
        ("other", 1, {CLIP: 1}),
    ]
    assert sorted(item_id for item_id, _ in store.items("Holiday 2024")) == ["a", "b", "c", "d"]
    assert len(store.query("Holiday 2024", LOCAL_MODEL, _unit_rows(1, 16)[0], 10)) == 3


def test_add_skips_known_and_repeated_ids(store: Store) -> None:
    first = _unit_rows(2, 4)
    store.add("photos", CLIP, ["a", "b"], first, [{"v": 1}, {"v": 1}])

    store.add("photos", CLIP, ["b", "c", "c"], _unit_rows(3, 4, seed=5), [{"v": 2}] * 3)

    assert store.existing_ids("photos", CLIP, ["a", "c", "x"]) == {"a", "c"}
    assert store.existing_ids("photos", "other", ["a"]) == set()
    assert dict(store.items("photos")) == {"a": {"v": 1}, "b": {"v": 1}, "c": {"v": 2}}
    ids, vectors = store.embeddings("photos", CLIP)
    np.testing.assert_allclose(vectors[ids.index("b")], first[1], atol=1e-6)


def test_embeddings_round_trip_past_the_batch_limit(store: Store) -> None:
    count = store._chroma.client.get_max_batch_size() + 100
    vectors = _unit_rows(count, 4)
    ids = _fill(store, "big", CLIP, vectors)

    stored_ids, stored = store.embeddings("big", CLIP)

    assert sorted(stored_ids) == ids
    order = np.argsort(stored_ids)
    np.testing.assert_allclose(stored[order], vectors, atol=1e-6)
    assert store.existing_ids("big", CLIP, ids) == set(ids)
    assert store.delete_items("big", ids) == count


def test_wrong_dimension_is_refused_and_keeps_the_data(store: Store) -> None:
    vectors = _unit_rows(5, 8)
    ids = _fill(store, "photos", CLIP, vectors)
    before = store.query("photos", CLIP, vectors[0], 5)

    with pytest.raises(InputError, match=r"8-d.*4-d"):
        store.add("photos", CLIP, ["new"], _unit_rows(1, 4), [{}])

    assert store.models("photos") == {CLIP: 5}
    assert store.query("photos", CLIP, vectors[0], 5) == before
    assert sorted(store.embeddings("photos", CLIP)[0]) == ids


@pytest.mark.parametrize(
    ("ids", "vectors", "metadatas", "message"),
    [
        (["a", "b"], _unit_rows(1, 4), [{}, {}], "2 embedding rows"),
        (["a"], _unit_rows(1, 4), [{}, {}], "must match"),
        (["a"], np.full((1, 4), np.nan, np.float32), [{}], "NaN"),
    ],
)
def test_malformed_batches_are_refused(
    store: Store, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, int]], message: str
) -> None:
    with pytest.raises(InputError, match=message):
        store.add("photos", CLIP, ids, vectors, metadatas)
    assert store.collections() == []


def test_unsupported_metadata_stores_nothing(store: Store) -> None:
    with pytest.raises(TypeError, match="'bad'"):
        store.add("photos", CLIP, ["a", "b"], _unit_rows(2, 4), [{"ok": 1}, {"bad": object()}])
    store.add("photos", CLIP, [], np.zeros((0, 4), np.float32), [])

    assert store.collections() == []


def test_delete_items_from_every_model(store: Store) -> None:
    store.add("photos", CLIP, ["a", "b", "c"], _unit_rows(3, 4), [{}] * 3)
    store.add("photos", LOCAL_MODEL, ["a", "b"], _unit_rows(2, 6), [{}] * 2)

    assert store.delete_items("photos", ["a", "c", "unknown"]) == 2

    assert store.models("photos") == {CLIP: 1, LOCAL_MODEL: 1}
    assert [item_id for item_id, _ in store.items("photos")] == ["b"]
    with pytest.raises(NotFoundError):
        store.delete_items("nothing", ["a"])


def test_delete_collection_removes_every_model(store: Store) -> None:
    store.add("photos", CLIP, ["a", "b"], _unit_rows(2, 4), [{}] * 2)
    store.add("photos", LOCAL_MODEL, ["b", "c"], _unit_rows(2, 6), [{}] * 2)
    store.add("keep", CLIP, ["a"], _unit_rows(1, 4), [{}])

    assert store.delete_collection("photos") == 3

    assert [info.name for info in store.collections()] == ["keep"]
    with pytest.raises(NotFoundError):
        store.delete_collection("photos")
    with pytest.raises(NotFoundError):
        store.items("photos")


def test_a_collection_deleted_while_listing_is_left_out(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process may delete a collection between our listing and our count of it
    (a visitor's collection removed as they leave): the listing leaves it out, no error."""
    store.add("photos", CLIP, ["a"], _unit_rows(1, 4), [{}])
    store.add("keep", CLIP, ["a"], _unit_rows(1, 4), [{}])
    listed_before = store._chroma.client.list_collections()
    Store(settings).delete_collection("photos")
    monkeypatch.setattr(store._chroma.client, "list_collections", lambda: listed_before)

    assert store.names() == ["keep"]


def test_read_only_store_refuses_writes(store: Store, settings: Settings) -> None:
    store.add("photos", CLIP, ["a"], _unit_rows(1, 4), [{}])
    readonly = Store(replace(settings, readonly=True))

    with pytest.raises(ReadOnlyError):
        readonly.add("photos", CLIP, ["b"], _unit_rows(1, 4), [{}])
    with pytest.raises(ReadOnlyError):
        readonly.delete_items("photos", ["a"])
    with pytest.raises(ReadOnlyError):
        readonly.delete_collection("photos")
    assert readonly.models("photos") == {CLIP: 1}


_READ_BACK = """
import json, sys
from pathlib import Path
import numpy as np
from mmdemo.config import Settings
from mmdemo.filters import ItemFilter
from mmdemo.store import Store
data_dir, url, query = sys.argv[1], sys.argv[2] or None, json.loads(sys.argv[3])
store = Store(Settings(data_dir=Path(data_dir), chroma_url=url))
hits = store.query("photos", "m", np.array(query, dtype=np.float32), 5, ItemFilter("cat"))
print(json.dumps([[h.id, h.score, h.metadata] for h in hits]))
"""


def test_a_fresh_process_reads_the_same_results(store: Store, settings: Settings) -> None:
    vectors = _unit_rows(30, 8)
    metadatas = [{"caption": f"Cat number {i}" if i % 2 else "dog", "n": i} for i in range(30)]
    store.add("photos", "m", _ids(30), vectors, metadatas)
    query = _unit_rows(1, 8, seed=9)[0]
    expected = store.query("photos", "m", query, 5, ItemFilter("cat"))

    root = Path(mmdemo.__file__).resolve().parents[1]
    args = [str(settings.data_dir), settings.chroma_url or "", json.dumps(query.tolist())]
    done = subprocess.run(
        [sys.executable, "-c", _READ_BACK, *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(root)},
    )

    assert done.returncode == 0, done.stderr
    read_back = json.loads(done.stdout.strip().splitlines()[-1])
    assert [row[0] for row in read_back] == [hit.id for hit in expected]
    assert [row[2] for row in read_back] == [hit.metadata for hit in expected]
    scores = [float(row[1]) for row in read_back]
    np.testing.assert_allclose(scores, [hit.score for hit in expected], atol=1e-6)
    assert len(expected) == 5


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    with pytest.raises(MMDemoError, match=f"Cannot reach the Chroma server at {url}"):
        Store(Settings(data_dir=tmp_path, chroma_url=url))


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://host:1", "http://host:notaport"])
def test_malformed_server_url_is_an_input_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Chroma URL"):
        Store(Settings(data_dir=tmp_path, chroma_url=url))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("photos", "photos"),
        ("  Holiday 2024.v2 ", "Holiday 2024.v2"),
        ("Été_à-Paris", "Été_à-Paris"),
        ("x" * 63, "x" * 63),
    ],
)
def test_valid_collection_names(name: str, expected: str) -> None:
    assert validate_collection_name(name) == expected


@pytest.mark.parametrize(
    "name", ["", "   ", "-photos", "_x", "a/b", "x" * 64, "tab\there", "new\nline"]
)
def test_invalid_collection_names(name: str) -> None:
    with pytest.raises(InputError, match="not valid"):
        validate_collection_name(name)


@pytest.mark.parametrize(
    ("collection", "model"),
    [("a", CLIP), ("Été à Paris", LOCAL_MODEL), ("x" * 63, "C:\\models\\clip"), ("...", "m")],
)
def test_chroma_names_are_valid_and_distinct(collection: str, model: str) -> None:
    name = chroma_name(collection, model)

    assert 3 <= len(name) <= 512
    assert name[0].isalnum() and name[-1].isalnum()
    assert set(name) <= set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    assert name != chroma_name(collection, model + "2")
    assert name != chroma_name(collection + "2", model)


def test_a_local_store_counts_a_collection_once_until_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chroma's count costs more than the search at 100k items: queries reuse it until this
    or another process writes, and the count after a write is the new one."""
    from chromadb.api.models.Collection import Collection

    calls: list[str] = []
    original = Collection.count
    monkeypatch.setattr(Collection, "count", lambda self: calls.append(self.name) or original(self))
    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings)
    vectors = _unit_rows(6, 4)
    store.add("photos", CLIP, _ids(3), vectors[:3], [{}] * 3)
    calls.clear()
    assert len(store.query("photos", CLIP, vectors[0], 10)) == 3
    assert len(store.query("photos", CLIP, vectors[1], 10)) == 3
    assert len(calls) == 1
    store.add("photos", CLIP, _ids(6)[3:5], vectors[3:5], [{}] * 2)
    assert len(store.query("photos", CLIP, vectors[0], 10)) == 5
    other = Store(settings)  # another process's write moves the change marker
    other.add("photos", CLIP, _ids(6)[5:], vectors[5:], [{}])
    assert len(store.query("photos", CLIP, vectors[0], 10)) == 6
