"""Near-duplicate groups found through the store's neighbour search, on planted copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmdemo.config import Settings
from mmdemo.demos import PHOTOS_DIR
from mmdemo.errors import InputError
from mmdemo.evaluate import duplicates
from mmdemo.evaluate.duplicates import find_duplicates, group_neighbours
from mmdemo.exact import similar_pairs
from mmdemo.store import Store


def unit(rows: np.ndarray) -> np.ndarray:
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Store, list[str]]:
    """120 distinct random items plus planted copies: two near ones of item 0, one of
    item 7, and an exact (identical-embedding) copy of item 20."""
    rng = np.random.default_rng(1)
    base = unit(rng.normal(size=(120, 32)))
    copies = np.stack(
        [
            base[0] + rng.normal(scale=0.05, size=32),
            base[0] + rng.normal(scale=0.03, size=32),
            base[7] + rng.normal(scale=0.05, size=32),
            base[20],
        ]
    )
    vectors = np.concatenate([base, unit(copies)])
    ids = [f"item{i:03d}" for i in range(120)] + ["near0a", "near0b", "near7", "same20"]
    store = Store(Settings.from_env(data_dir=tmp_path / "data"))
    store.add("dups", "m", ids, vectors, [{"file_name": f"{i}.png"} for i in ids])
    return store, ids


@pytest.mark.parametrize("exact_scan", [True, False], ids=["exact-scan", "store-hnsw"])
def test_planted_duplicates_are_recovered(
    planted: tuple[Store, list[str]], exact_scan: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both neighbour paths (exact blocked scan, the store's HNSW) find the same groups."""
    store, _ = planted
    monkeypatch.setattr(duplicates, "scan_fits", lambda count, dim: exact_scan)
    groups = find_duplicates(store, "dups", "m", threshold=0.9)
    found = {(g.kind, frozenset(g.ids)) for g in groups}
    assert found == {
        ("near", frozenset({"item000", "near0a", "near0b"})),
        ("near", frozenset({"item007", "near7"})),
        ("exact", frozenset({"item020", "same20"})),
    }
    largest = groups[0]
    assert largest.ids[0] == "item000" and largest.similarities[0] == 1.0
    assert largest.similarities[1] >= largest.similarities[2] >= 0.9
    assert largest.to_json()["items"][0] == {"id": "item000", "similarity": 1.0}


def test_a_strict_threshold_keeps_only_the_exact_copy(planted: tuple[Store, list[str]]) -> None:
    store, _ = planted
    groups = find_duplicates(store, "dups", "m", threshold=0.9999)
    assert [(g.kind, g.ids) for g in groups] == [("exact", ["item020", "same20"])]


@pytest.mark.parametrize("threshold", [0.0, -0.5, 1.01])
def test_bad_thresholds_are_refused(planted: tuple[Store, list[str]], threshold: float) -> None:
    store, _ = planted
    with pytest.raises(InputError, match="threshold"):
        find_duplicates(store, "dups", "m", threshold=threshold)


def test_neighbours_pads_when_the_collection_is_small(tmp_path: Path) -> None:
    store = Store(Settings.from_env(data_dir=tmp_path / "data"))
    vectors = unit(np.array([[1.0, 0.0], [0.8, 0.6]]))
    store.add("two", "m", ["a", "b"], vectors, [{}, {}])
    ids, sims = store.neighbours("two", "m", vectors, 4)
    assert ids == [["a", "b"], ["b", "a"]]
    assert sims[:, :2] == pytest.approx(np.array([[1.0, 0.8], [1.0, 0.8]]), abs=1e-5)
    assert np.isneginf(sims[:, 2:]).all()


def test_group_neighbours_joins_chains_transitively() -> None:
    vectors = unit(np.array([[1.0, 0.0], [0.95, 0.31], [0.81, 0.59], [-1.0, 0.0]]))
    sims = vectors @ vectors.T
    ids = ["a", "b", "c", "d"]
    neighbour_ids = [ids] * 4
    groups = group_neighbours(ids, vectors, neighbour_ids, sims, threshold=0.94)
    assert [g.ids for g in groups] == [["a", "b", "c"]]
    assert groups[0].similarities == pytest.approx([1.0, 0.95, 0.81], abs=0.01)


def test_similar_pairs_lists_each_pair_above_the_floor_once_across_blocks() -> None:
    """Blocks smaller than the matrix find every pair at or above the floor, by its first
    row, best first; ``k`` keeps only each row's best pairs."""
    vectors = unit(np.random.default_rng(3).normal(size=(23, 4)))
    full = vectors @ vectors.T
    rows, sims = similar_pairs(vectors, 0.3, 30, block=5)
    for i in range(23):
        expected = sorted(
            (j for j in range(i + 1, 23) if full[i, j] >= 0.3), key=lambda j: -full[i, j]
        )
        assert rows[i].tolist() == expected
        assert np.allclose(sims[i], full[i, expected], atol=1e-6)
    capped, _ = similar_pairs(vectors, 0.3, 2, block=5)
    assert all(found.tolist() == rows[i][:2].tolist() for i, found in enumerate(capped))
    assert sum(len(found) for found in rows) > 23


def _small_jpeg_copy(source: Path, target: Path) -> None:
    """The copy the walk-through made: resized to 60 % and saved as JPEG quality 60."""
    from PIL import Image

    with Image.open(source) as image:
        small = image.convert("RGB").resize((round(image.width * 0.6), round(image.height * 0.6)))
    small.save(target, "JPEG", quality=60)


@pytest.mark.parametrize("model", ["lite", "lite-b2"])
def test_small_jpeg_copies_are_found_at_the_default_threshold(tmp_path: Path, model: str) -> None:
    """Every offline model: coffee.jpg's copy (0.896 with lite) and clock.jpg's (0.70 with
    lite-b2, below distinct photo pairs) join their originals by fingerprint; no photo joins
    another."""
    from mmdemo.evaluate.duplicates import DEFAULT_THRESHOLD, describe
    from mmdemo.ingest.indexer import index_paths
    from mmdemo.models import registry

    assert model in {p.key for p in registry.presets("embedder") if p.offline}
    photos = PHOTOS_DIR
    copies = tmp_path / "copies"
    copies.mkdir()
    for name in ("coffee", "clock"):
        _small_jpeg_copy(photos / f"{name}.jpg", copies / f"{name}-copy.jpg")
    settings = Settings.from_env(data_dir=tmp_path / "data")
    store = Store(settings)
    report = index_paths(
        [photos, copies], collection="dups", models=[model], settings=settings, store=store
    )
    assert report.added == len(list(photos.glob("*.jpg"))) + 2
    groups = describe(
        find_duplicates(store, "dups", model, DEFAULT_THRESHOLD), dict(store.items("dups"))
    )
    found = sorted(sorted(item["file_name"] for item in group["items"]) for group in groups)
    assert found == [["clock-copy.jpg", "clock.jpg"], ["coffee-copy.jpg", "coffee.jpg"]]
    again = find_duplicates(store, "dups", model, DEFAULT_THRESHOLD)  # from the cache
    assert [g.ids for g in again] == [g.ids for g in find_duplicates(store, "dups", model)]
    assert find_duplicates(store, "dups", model, 0.9999) == []


def test_fingerprints_survive_re_encoding_are_cached_and_skip_missing_thumbnails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from PIL import Image

    from mmdemo.evaluate import fingerprints as prints
    from mmdemo.ingest.copies import thumb_path

    settings = Settings.from_env(data_dir=tmp_path / "data")
    photos = PHOTOS_DIR
    with Image.open(photos / "coffee.jpg") as image:
        original = image.convert("RGB")
    buffer = io.BytesIO()
    original.resize((original.width // 2, original.height // 2)).save(buffer, "JPEG", quality=40)
    copy = Image.open(io.BytesIO(buffer.getvalue()))
    with Image.open(photos / "rocket.jpg") as other:
        assert prints.distance(prints.fingerprint(original), prints.fingerprint(other)) > 10
    assert prints.distance(prints.fingerprint(original), prints.fingerprint(copy)) <= 4
    thumb = thumb_path(settings, "a" * 64)
    thumb.parent.mkdir(parents=True)
    original.save(thumb, "JPEG")
    found = prints.fingerprints(settings, ["a" * 64, "b" * 64])
    assert list(found) == ["a" * 64]
    monkeypatch.setattr(prints, "load_image", lambda path: pytest.fail("decoded again"))
    assert prints.fingerprints(settings, ["a" * 64]) == found
