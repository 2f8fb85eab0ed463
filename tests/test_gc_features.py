"""Stored reranker features follow their items: deleting and ``gc`` remove unused rows."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from mmdemo.atomic import ABANDONED_S
from mmdemo.config import Settings
from mmdemo.manage import delete_items, sweep_orphans
from mmdemo.rerank_features.rows import FeatureStore
from mmdemo.store import Store

IDS = ["aa01", "bb02", "cc03"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _add(store: Store, collection: str, ids: list[str]) -> None:
    vectors = np.eye(len(IDS), 4, dtype=np.float32)[: len(ids)] + 0.1
    metadata = [{"caption": i, "image_file": f"{i}.png"} for i in ids]
    store.add(collection, "m", ids, vectors, metadata)


def _rows(settings: Settings, key: str, ids: list[str]) -> FeatureStore:
    features = FeatureStore(settings, key, "rows of 3 floats")
    features.save(ids, np.ones((len(ids), 3), dtype=np.float32))
    return features


def test_gc_lists_then_removes_only_rows_no_item_holds(settings: Settings) -> None:
    store = Store(settings)
    _add(store, "c", IDS[:2])
    lite = _rows(settings, "lite", [*IDS, "dd04"])
    other = _rows(settings, "other/rr", ["ee05", IDS[0]])
    orphans = [lite.path("cc03"), lite.path("dd04"), other.path("ee05")]

    assert sorted(sweep_orphans(settings, store)) == sorted(orphans)
    assert all(path.exists() for path in orphans)  # a dry run by default

    assert sorted(sweep_orphans(settings, store, apply=True)) == sorted(orphans)
    assert not any(path.exists() for path in orphans)
    assert set(lite.load([*IDS, "dd04"])) == {"aa01", "bb02"}
    assert set(other.load(["ee05", IDS[0]])) == {IDS[0]}
    assert sweep_orphans(settings, store) == []


def test_deleting_items_removes_rows_no_other_collection_holds(settings: Settings) -> None:
    store = Store(settings)
    _add(store, "c", IDS)
    _add(store, "d", IDS[:1])
    lite = _rows(settings, "lite", IDS)

    assert delete_items(settings, store, "c", IDS[:2]) == 2

    assert set(lite.load(IDS)) == {IDS[0], IDS[2]}  # "d" still holds aa01


def _footprint(folder: Path) -> tuple[int, int]:
    """How many files ``folder`` holds, and their bytes."""
    files = [path for path in folder.rglob("*") if path.is_file()]
    return len(files), sum(path.stat().st_size for path in files)


def _collection(settings: Settings, store: Store, name: str, n: int) -> None:
    """A collection of ``n`` items with captions, caption vectors and image copies."""
    rng = np.random.default_rng(len(name))
    ids = [f"{name}-{i:03}" for i in range(n)]
    metadata = [{"caption": f"photo {i} of {name}", "image_file": f"{i}.png"} for i in ids]
    store.add(name, "m", ids, rng.random((n, 8), dtype=np.float32), metadata)
    store.add_captions(name, "m", ids, rng.random((n, 8), dtype=np.float32), metadata)
    settings.images_dir.mkdir(parents=True, exist_ok=True)
    for i in ids:
        (settings.images_dir / f"{i}.png").write_bytes(b"png" * 100)


def test_deleted_and_expired_collections_leave_the_data_dir_as_it_was(
    settings: Settings,
) -> None:
    from mmdemo.manage import delete_collection
    from mmdemo.tenancy import Limits, Tenancy, private_name, token_for

    store = Store(settings)
    _collection(settings, store, "kept", 3)
    _collection(settings, store, "first", 50)
    delete_collection(settings, store, "first")  # the data dir in use: its lock files exist
    start = _footprint(settings.data_dir)
    tenancy = Tenancy(Limits(max_images=100, max_bytes=10**6, idle_s=0.0))

    for n in range(10):
        _collection(settings, store, f"deleted-{n}", 50)
        delete_collection(settings, store, f"deleted-{n}")
    for n in range(10):  # visitors unknown to this app's run: they expire at the next sweep
        _collection(settings, store, private_name(token_for(f"session-{n}"), "mine"), 50)
    assert len(tenancy.sweep(settings, store)) == 10

    assert store.names() == ["kept"]
    assert _footprint(settings.data_dir) == start
    assert sweep_orphans(settings, store) == []


def test_gc_lists_and_removes_segment_folders_that_chroma_left(settings: Settings) -> None:
    store = Store(settings)
    _collection(settings, store, "kept", 3)
    _collection(settings, store, "dropped", 20)
    chroma = store._chroma
    chroma.client.delete_collection(chroma.by_model("dropped")["m"].name)  # as chromadb alone
    store.refresh()
    folders = [p for p in settings.chroma_dir.iterdir() if p.is_dir()]

    listed = [p for p in sweep_orphans(settings, store) if p.parent == settings.chroma_dir]
    assert len(listed) == 1 and listed[0] in folders and listed[0].exists()
    sweep_orphans(settings, store, apply=True)
    assert not listed[0].exists()
    assert [p for p in settings.chroma_dir.iterdir() if p.is_dir()] == [
        p for p in folders if p != listed[0]
    ]
    assert store.query("kept", "m", np.ones(8, np.float32), 3)


def test_gc_removes_temporaries_killed_writers_left_beside_caches(settings: Settings) -> None:
    store = Store(settings)
    old = time.time() - 2 * ABANDONED_S
    left = []
    for folder in ("", "maps", "fingerprints", "locks"):
        path = settings.data_dir / folder / f"cache.json.{uuid.uuid4().hex}.tmp"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"{")
        os.utime(path, (old, old))
        left.append(path)
    fresh = settings.data_dir / "maps" / f"map.json.{uuid.uuid4().hex}.tmp"
    fresh.write_bytes(b"{")  # being written now: kept
    assert sorted(sweep_orphans(settings, store, apply=True)) == sorted(left)
    assert not any(path.exists() for path in left) and fresh.exists()
