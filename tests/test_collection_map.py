"""Projection, clustering, cluster names, the cached map and its drawing, on seeded data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mmdemo.config import Settings
from mmdemo.evaluate import collection_map as cmap
from mmdemo.evaluate.clusters import (
    GUESS_PREFIX,
    choose_k,
    cluster,
    label_clusters,
    name_clusters,
    text_labels,
)
from mmdemo.evaluate.projection import project
from mmdemo.evaluate.scatter import html_page, save_png
from mmdemo.present.map_canvas import Sheet, map_html, payload
from mmdemo.store import Hit, Store

from helpers import COLOURS, write_images


def blobs(per_blob: int = 30, dim: int = 48, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three well-separated clusters of unit vectors and the true cluster of each row."""
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:3] * 4.0
    truth = np.repeat(np.arange(3), per_blob)
    vectors = centres[truth] + rng.normal(scale=0.5, size=(len(truth), dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32), truth


def same_partition(found: np.ndarray, truth: np.ndarray) -> bool:
    pairs_found = found[:, None] == found[None, :]
    return bool((pairs_found == (truth[:, None] == truth[None, :])).all())


def test_projection_keeps_clusters_apart_and_is_deterministic() -> None:
    vectors, truth = blobs()
    points = project(vectors)
    assert points.shape == (len(vectors), 2)
    assert points.min() >= 0.0 and points.max() <= 1.0 + 1e-6
    distances = np.linalg.norm(points[:, None] - points[None, :], axis=2)
    np.fill_diagonal(distances, np.inf)
    nearest = np.argsort(distances, axis=1)[:, :5]
    assert (truth[nearest] == truth[:, None]).mean() > 0.95
    np.testing.assert_array_equal(points, project(vectors))


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_projection_of_tiny_collections(n: int) -> None:
    vectors, _ = blobs()
    points = project(vectors[:n])
    assert points.shape == (n, 2)
    assert np.isfinite(points).all()


def test_kmeans_recovers_planted_clusters_numbered_by_size() -> None:
    vectors, truth = blobs()
    vectors, truth = vectors[5:], truth[5:]  # cluster 0 becomes the smallest
    labels = cluster(vectors, k=3)
    assert same_partition(labels, truth)
    assert np.bincount(labels).tolist() == sorted(np.bincount(truth).tolist(), reverse=True)


def test_choose_k_stays_within_bounds() -> None:
    assert [choose_k(n) for n in (1, 3, 8, 50, 200, 100_000)] == [1, 2, 2, 5, 10, 12]


def test_clusters_are_named_by_their_nearest_words() -> None:
    vectors, truth = blobs()
    words = ["boat", "cat", "car", "tree"]
    word_vectors = np.eye(48, dtype=np.float32)[[2, 0, 1, 40]]
    labels = cluster(vectors, k=3)
    names = label_clusters(vectors, labels, words, word_vectors, words=1)
    expected = {0: "cat", 1: "car", 2: "boat"}
    for number, name in enumerate(names):
        blob = int(np.bincount(truth[labels == number]).argmax())
        assert name == expected[blob]


def test_clusters_without_vocabulary_are_numbered() -> None:
    vectors, _ = blobs()
    names = label_clusters(vectors, cluster(vectors, k=3), [], np.zeros((0, 48)))
    assert names == ["cluster 1", "cluster 2", "cluster 3"]


def test_clusters_are_named_by_their_own_distinctive_words() -> None:
    vectors, truth = blobs()
    labels = cluster(vectors, k=3)
    topics = {0: "a tabby cat asleep", 1: "red cars parked", 2: "a sail boat"}
    texts = [f"Photo 12: {topics[int(t)]} (photo.jpg)" for t in truth]
    names = text_labels(texts, labels, words_per_label=1)
    for number, name in enumerate(names):
        blob = int(np.bincount(truth[labels == number]).argmax())
        assert name in topics[blob].split(), (name, topics[blob])  # "photo" names none
    assert text_labels(["a red car", "the cars"], np.array([0, 0]))[0] == "car, red"


def test_names_come_from_text_and_guess_only_for_clusters_without_any() -> None:
    vectors, truth = blobs()
    labels = cluster(vectors, k=3)
    asked: list[int] = []

    def vocabulary() -> tuple[list[str], np.ndarray]:
        asked.append(1)
        return ["boat", "cat", "car"], np.eye(48, dtype=np.float32)[[2, 0, 1]]

    texts = [f"item about {'cat' if t == 0 else 'car' if t == 1 else 'boat'}" for t in truth]
    names = name_clusters(texts, vectors, labels, vocabulary)
    assert not asked and not any(n.startswith(GUESS_PREFIX) for n in names)
    untexted = ["" if t == 2 else text for t, text in zip(truth, texts, strict=True)]
    names = name_clusters(untexted, vectors, labels, vocabulary)
    guessed = [n for n in names if n.startswith(GUESS_PREFIX)]
    assert asked and guessed == [f"{GUESS_PREFIX}boat"]
    none = name_clusters([""] * len(truth), vectors, labels, vocabulary)
    assert all(n.startswith(GUESS_PREFIX) for n in none)
    image_only = name_clusters([""] * len(truth), vectors, labels, lambda: ([], np.zeros((0, 48))))
    assert image_only == ["cluster 1", "cluster 2", "cluster 3"]


@pytest.fixture
def indexed(tmp_path: Path, tiny_clip_dir: Path) -> tuple[Settings, Store, str]:
    """A captioned colour collection indexed with the tiny CLIP."""
    from mmdemo.cli import main

    folder = write_images(tmp_path / "photos", COLOURS)
    captions = tmp_path / "captions.csv"
    captions.write_text(
        "file_name,caption\n" + "".join(f"{n},a {n[:-4]} square\n" for n in COLOURS)
    )
    data = tmp_path / "data"
    args = ["index", str(folder), "--collection", "c", "--model", str(tiny_clip_dir)]
    assert main([*args, "--captions", str(captions), "--data-dir", str(data)]) == 0
    settings = Settings.from_env(data_dir=data)
    return settings, Store(settings), str(tiny_clip_dir)


def test_map_is_cached_per_collection_version(
    indexed: tuple[Settings, Store, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings, store, model = indexed
    first = cmap.collection_map(store, settings, "c", model)
    assert len(first.points) == 6
    assert {p.file_name for p in first.points} == set(COLOURS)
    vocabulary = {n[:-4] for n in COLOURS} | {"square"}
    assert all(set(name.split(", ")) <= vocabulary for name in first.cluster_names)

    def no_recompute(*args: object) -> None:
        raise AssertionError("the cached map should have been used")

    monkeypatch.setattr(cmap, "compute_map", no_recompute)
    assert cmap.collection_map(store, settings, "c", model) == first

    monkeypatch.undo()
    vector = np.ones((1, first_dim(store, model)), np.float32)
    store.add("c", model, ["extra"], vector, [{"file_name": "extra.png"}])
    changed = cmap.collection_map(store, settings, "c", model)
    assert changed.version != first.version
    assert len(changed.points) == 7


def first_dim(store: Store, model: str) -> int:
    return int(store.embeddings("c", model)[1].shape[1])


def test_query_marker_sits_among_its_hits() -> None:
    points = [
        cmap.MapPoint("a", 0.0, 0.0, 0, "a.png", ""),
        cmap.MapPoint("b", 1.0, 0.0, 0, "b.png", ""),
        cmap.MapPoint("c", 1.0, 1.0, 1, "c.png", ""),
    ]
    found = cmap.CollectionMap("x", "m", "v", points, ["one", "two"])
    at = cmap.place_query(found, [Hit("a", 0.5, {}), Hit("b", 0.5, {}), Hit("zz", 0.9, {})])
    assert at == pytest.approx((0.5, 0.0))
    assert cmap.place_query(found, [Hit("zz", 0.9, {})]) is None


def test_drawings_show_every_point(tmp_path: Path) -> None:
    points = [
        cmap.MapPoint(f"{i:064x}", i / 9, 1 - i / 9, i % 2, f"{i}.png", f"<c{i}>")
        for i in range(10)
    ]
    found = cmap.CollectionMap("x", "m", "v", points, ["even", "odd"])
    sheet = Sheet("/atlas.jpg?s=1", 64, 4)
    drawn = payload(found, sheet, {points[3].id}, (0.5, 0.5), selected=2)
    assert drawn["n"] == 10 and drawn["ring"] == [3] and drawn["selected"] == 2
    assert drawn["files"][3] == "3.png" and drawn["names"] == ["even", "odd"]
    markup = map_html(found, sheet, {points[3].id}, (0.5, 0.5))
    assert "&lt;c3&gt;" in markup and "<c3>" not in markup
    assert "even" in markup and "odd" in markup and 'data-zoom="reset"' in markup
    assert not any(p.id in markup for p in points)  # points go by number, never by id
    page = html_page(found, sheet)
    assert page.startswith("<!doctype html>") and "<script>" in page
    save_png(found, tmp_path / "map.png")
    from PIL import Image

    with Image.open(tmp_path / "map.png") as image:
        assert image.width == 1200 and image.height > 1200
