"""Hybrid retrieval: the fusion arithmetic, caption vectors in the store and metadata filters
on both store paths (collections indexed before caption vectors existed:
tests/test_caption_backfill.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mmdemo import exact
from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.filters import FilterError, ItemFilter, parse_where
from mmdemo.ingest.indexer import index_paths
from mmdemo.models.loading import load_embedder
from mmdemo.search.engine import search
from mmdemo.search.hybrid import fuse_captions, hybrid_hits
from mmdemo.search.query import Query
from mmdemo.store import Store

from helpers import COLOURS, write_images

MODEL = "m"


def test_fusion_weighs_image_and_caption() -> None:
    image = np.array([0.2, 0.4, 0.6])
    caption = np.array([0.9, np.nan, 0.1])

    assert fuse_captions(image, caption, 0.0) == pytest.approx([0.2, 0.4, 0.6])
    assert fuse_captions(image, caption, 1.0) == pytest.approx([0.9, 0.4, 0.1])
    assert fuse_captions(image, caption, 0.25) == pytest.approx([0.375, 0.4, 0.475])


def test_fusion_refuses_bad_weights_and_shapes() -> None:
    with pytest.raises(InputError, match="caption weight must be between 0 and 1"):
        fuse_captions(np.zeros(2), np.zeros(2), 1.5)
    with pytest.raises(ValueError, match="scores"):
        fuse_captions(np.zeros(2), np.zeros(3), 0.5)
    with pytest.raises(InputError, match="caption weight"):
        Query(text="x", caption_weight=-0.1).validate()


def test_captions_count_only_when_text_shapes_the_query() -> None:
    assert Query(text="red").text_counts
    assert Query(text="red", image="x.png", weight=0.2).text_counts
    assert not Query(text="red", image="x.png", weight=0.0).text_counts
    assert not Query(image="x.png").text_counts
    assert not Query(text="  ", image="x.png").text_counts


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(Settings(data_dir=tmp_path / "data", device="cpu"))


def _unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


@pytest.fixture
def catalogue(store: Store) -> Store:
    """Four items: ``a`` matches the query by image, ``b`` by caption, ``c`` has no
    caption; brand, price and colour metadata to filter on."""
    metadatas = [
        {"caption": "plain", "brand": "acme", "price": 5, "color": "red"},
        {"caption": "query words", "brand": "acme", "price": 15.5, "color": "blue"},
        {"caption": "", "brand": "zen", "price": 8, "color": "red"},
        {"caption": "other", "brand": "zen", "price": 30, "color": "green"},
    ]
    ids = ["a", "b", "c", "d"]
    store.add("shop", MODEL, ids, _unit([1, 0, 0], [0, 1, 0], [0.8, 0.6, 0], [0, 0, 1]), metadatas)
    captioned = [0, 1, 3]
    store.add_captions(
        "shop",
        MODEL,
        [ids[i] for i in captioned],
        _unit([0, 0, 1], [1, 0, 0], [0, 1, 0]),
        [metadatas[i] for i in captioned],
    )
    return store


QUERY = np.array([1.0, 0.0, 0.0], dtype=np.float32)


def test_caption_vectors_are_queried_beside_the_images(catalogue: Store) -> None:
    by_caption = catalogue.query("shop", MODEL, QUERY, 4, captions=True)

    assert catalogue.has_captions("shop", MODEL)
    assert [hit.id for hit in by_caption] == ["b", "a", "d"]
    assert by_caption[0].metadata["brand"] == "acme"
    assert set(catalogue.vectors_of("shop", MODEL, ["a", "c", "zz"], captions=True)) == {"a"}
    assert [info.name for info in catalogue.collections()] == ["shop"]


def test_caption_vectors_must_match_their_ids(catalogue: Store) -> None:
    with pytest.raises(InputError, match="embedding rows"):
        catalogue.add_captions("shop", MODEL, ["a"], None, [{"caption": "x"}])
    with pytest.raises(InputError, match="metadata entries"):
        catalogue.add_captions("shop", MODEL, ["a"], _unit([1, 0, 0]), [])


def test_hybrid_scores_are_the_weighted_cosines(catalogue: Store) -> None:
    image_only = hybrid_hits(catalogue, "shop", MODEL, QUERY, 4, None, 0.0)
    half = hybrid_hits(catalogue, "shop", MODEL, QUERY, 4, None, 0.5)

    assert [(h.id, round(h.score, 4)) for h in image_only] == [
        ("a", 1.0),
        ("c", 0.8),
        ("b", 0.0),
        ("d", 0.0),
    ]
    # a: (1 + 0) / 2, b: (0 + 1) / 2, c: no caption keeps 0.8, d: (0 + 0) / 2
    assert [(h.id, round(h.score, 4)) for h in half] == [
        ("c", 0.8),
        ("a", 0.5),
        ("b", 0.5),
        ("d", 0.0),
    ]
    assert [h.id for h in hybrid_hits(catalogue, "shop", MODEL, QUERY, 1, None, 1.0)] == ["b"]


@pytest.mark.parametrize("path", ["exact", "hnsw"])
def test_metadata_filters_apply_in_the_store(
    catalogue: Store, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    if path == "hnsw":
        monkeypatch.setattr(exact, "EXACT_MAX_FLOATS", 0)

    def ids(where: str, contains: str = "", captions: bool = False) -> list[str]:
        chosen = ItemFilter(contains, parse_where(where))
        return sorted(h.id for h in catalogue.query("shop", MODEL, QUERY, 4, chosen, captions))

    assert ids("brand=acme") == ["a", "b"]
    assert ids("price < 10") == ["a", "c"]
    assert ids("price>=15.5") == ["b", "d"]
    assert ids("color in (red, green)") == ["a", "c", "d"]
    assert ids("brand=zen and color not in (red)") == ["d"]
    assert ids("brand=acme", contains="QUERY") == ["b"]
    assert ids("brand=zen", captions=True) == ["d"]
    with pytest.raises(FilterError, match="no_such_column"):
        ids("no_such_column=1")  # a key no item has is named, not "no results"
    assert ids("price=5") == ["a"]


def test_hybrid_candidates_respect_the_filter(catalogue: Store) -> None:
    hits = hybrid_hits(
        catalogue, "shop", MODEL, QUERY, 4, ItemFilter(where=parse_where("price>10")), 0.5
    )
    assert [h.id for h in hits] == ["b", "d"]


def test_deleting_items_and_collections_removes_caption_vectors(catalogue: Store) -> None:
    catalogue.delete_items("shop", ["b"])
    assert [h.id for h in catalogue.query("shop", MODEL, QUERY, 4, captions=True)] == ["a", "d"]

    catalogue.delete_collection("shop")
    catalogue.add("shop", MODEL, ["a"], _unit([1, 0, 0]), [{"caption": "x"}])
    assert not catalogue.has_captions("shop", MODEL)


@pytest.fixture
def photos(tmp_path: Path) -> tuple[Path, Path]:
    folder = write_images(tmp_path / "photos", COLOURS)
    lines = ["file_name,caption,price"]
    lines += [f"{name},a plain {name[:-4]} square,{i}" for i, name in enumerate(COLOURS)]
    (tmp_path / "captions.csv").write_text("\n".join(lines) + "\n")
    return folder, tmp_path / "captions.csv"


def test_indexing_embeds_captions_and_search_filters(
    photos: tuple[Path, Path], store: Store, tiny_clip_dir: Path
) -> None:
    folder, csv = photos
    settings = store.settings
    model = str(tiny_clip_dir)
    index_paths(
        [folder], collection="c", models=[model], settings=settings, store=store, captions=csv
    )
    key = load_embedder(model, settings).key

    assert store.has_captions("c", key)
    assert len(store.vectors_of("c", key, [i for i, _ in store.items("c")], captions=True)) == 6
    results = search(
        Query(text="square", where=parse_where("price in (1, 3, 4)"), caption_weight=0.5),
        collection="c",
        model=model,
        settings=settings,
        store=store,
    )
    assert sorted(results.table["file_name"]) == ["black.png", "green.png", "yellow.png"]


def test_each_caption_is_encoded_once_at_index_time(
    photos: tuple[Path, Path], store: Store, tiny_clip_dir: Path, encoded_texts: list[str]
) -> None:
    folder, csv = photos
    index_paths(
        [folder], collection="once", models=[str(tiny_clip_dir)], settings=store.settings,
        store=store, captions=csv,
    )  # fmt: skip
    assert sorted(encoded_texts) == sorted(f"a plain {name[:-4]} square" for name in COLOURS)


def test_cli_filters_by_metadata_and_reports_bad_filters(
    capsys: pytest.CaptureFixture[str], photos: tuple[Path, Path], store: Store, tiny_clip_dir: Path
) -> None:
    folder, csv = photos
    data = ["--data-dir", str(store.settings.data_dir)]
    index = ["index", str(folder), "--collection", "c", "--model", str(tiny_clip_dir)]
    assert main([*index, "--captions", str(csv), *data]) == 0
    capsys.readouterr()
    search_args = ["search", "--collection", "c", "--text", "square", *data]

    assert main([*search_args, "--where", "price>=4", "--caption-weight", "0.7", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["results"]
    assert sorted(row["file_name"] for row in rows) == ["black.png", "white.png"]
    assert main([*search_args, "--where", "price < cheap"]) == 1
    assert "needs a number" in capsys.readouterr().err
    assert main([*search_args, "--caption-weight", "2"]) == 1
    assert "caption weight must be between 0 and 1" in capsys.readouterr().err
