"""Stored reranker features follow their items: deleting and ``gc`` remove unused rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmdemo.config import Settings
from mmdemo.manage import delete_items, sweep_orphans
from mmdemo.rerank_features import FeatureStore
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
