"""The lite reranker from stored features, and the controls that must move its order.

Uses the offline models' real weights (marker ``realmodel``) on the 14 demo photos.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from mmdemo.config import Settings
from mmdemo.demos import PHOTOS_DIR, SAMPLE_PHOTOS
from mmdemo.ingest.images import fit_for_models, load_image
from mmdemo.ingest.indexer import index_paths
from mmdemo.models.loading import load_reranker
from mmdemo.rerank import Candidate, Reranker
from mmdemo.rerank_features.cache import RowCache
from mmdemo.rerank_features.rows import FeatureStore
from mmdemo.search.engine import SearchResults, search
from mmdemo.search.query import Query
from mmdemo.store import Store

PHOTOS = PHOTOS_DIR

pytestmark = pytest.mark.realmodel


NAMES = ["astronaut.jpg", "rocket.jpg", "chelsea.jpg", "coffee.jpg", "hubble_deep_field.jpg"]


def _candidates() -> list[Candidate]:
    return [
        Candidate(hashlib.sha256((PHOTOS / n).read_bytes()).hexdigest(), PHOTOS / n) for n in NAMES
    ]


@pytest.fixture(scope="module")
def reranker(tmp_path_factory: pytest.TempPathFactory) -> Reranker:
    return load_reranker("lite", Settings(data_dir=tmp_path_factory.mktemp("r"), device="cpu"))


def _features(reranker: Reranker, settings: Settings) -> FeatureStore:
    """The reranker's stored rows in ``settings``' data dir (lite always has some)."""
    features = reranker.feature_store(settings)
    assert features is not None
    return features


def _search(
    settings: Settings, store: Store, collection: str, query: Query, top_k: int
) -> SearchResults:
    """A search with the lite embedder and reranker."""
    return search(
        query,
        collection=collection,
        model="lite",
        settings=settings,
        store=store,
        reranker="lite",
        top_k=top_k,
    )


def _ranked(reranker: Reranker, query: object, candidates: list[Candidate]) -> np.ndarray:
    """Scores through the plain CrossEncoder path: every candidate image decoded and scored."""
    docs = [fit_for_models(load_image(c.path)) for c in candidates]
    scores = np.zeros(len(docs), dtype=np.float32)
    for entry in reranker.model.rank(query, docs, show_progress_bar=False):
        scores[entry["corpus_id"]] = entry["score"]
    return scores


def test_stored_features_give_the_recomputed_scores(reranker: Reranker, tmp_path: Path) -> None:
    features = _features(reranker, Settings(data_dir=tmp_path))
    candidates = _candidates()
    query_image = fit_for_models(load_image(PHOTOS / "rocket.jpg"))
    first = reranker.score_parts(
        candidates, text="a space rocket", image=query_image, features=features
    )
    assert all(features.path(c.id).is_file() for c in candidates)
    again = reranker.score_parts(
        candidates, text="a space rocket", image=query_image, features=features
    )
    assert first.text is not None and again.text is not None
    assert first.image is not None and again.image is not None
    np.testing.assert_allclose(again.text, first.text, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        again.text, _ranked(reranker, "a space rocket", candidates), rtol=1e-4, atol=1e-4
    )
    np.testing.assert_allclose(
        again.image, _ranked(reranker, query_image, candidates), rtol=1e-4, atol=1e-4
    )


def test_stored_features_are_used_instead_of_the_images(reranker: Reranker, tmp_path: Path) -> None:
    features = _features(reranker, Settings(data_dir=tmp_path))
    candidates = _candidates()
    reference = reranker.score_parts(candidates, text="a cat", features=features).text
    moved = [Candidate(c.id, tmp_path / "gone.jpg") for c in candidates]
    stored = reranker.score_parts(moved, text="a cat", features=features).text
    assert stored is not None and reference is not None
    np.testing.assert_allclose(stored, reference, rtol=1e-5, atol=1e-5)


def test_rows_read_once_are_kept_in_memory(reranker: Reranker, tmp_path: Path) -> None:
    features = _features(reranker, Settings(data_dir=tmp_path))
    candidates = _candidates()
    reference = reranker.score_parts(candidates, text="a cat", features=features).text
    for candidate in candidates:
        features.path(candidate.id).unlink()
    # Neither the files nor the images are there: only the kept rows can score them.
    moved = [Candidate(c.id, tmp_path / "gone.jpg") for c in candidates]
    kept = reranker.score_parts(moved, text="a cat", features=features).text
    assert kept is not None and reference is not None
    np.testing.assert_allclose(kept, reference, rtol=1e-5, atol=1e-5)


def test_the_row_cache_keeps_the_most_recent_rows_within_its_bytes(tmp_path: Path) -> None:
    store = FeatureStore(Settings(data_dir=tmp_path), "lite", "rows of 100 floats")
    rows = np.arange(300, dtype=np.float32).reshape(3, 100)  # 400 bytes each
    cache = RowCache(max_bytes=900)
    cache.save(store, ["a", "b", "c"], rows)
    cache.load(store, ["b"])  # used: now more recent than c
    cache.save(store, ["d"], rows[:1])
    for item_id in "abcd":
        store.path(item_id).unlink()
    kept = cache.load(store, list("abcd"))
    assert sorted(kept) == ["b", "d"]
    np.testing.assert_array_equal(kept["b"], rows[1])


def test_images_indexed_before_features_existed_still_rerank(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    store = Store(settings)
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in NAMES:
        shutil.copy(PHOTOS / name, folder / name)
    index_paths([folder], collection="c", models=["lite"], settings=settings, store=store)
    features_dir = _features(load_reranker("lite", settings), settings).folder
    assert len(list(features_dir.rglob("*.npy"))) == len(NAMES)
    query = Query(text="a space rocket")
    fresh = _search(settings, store, "c", query, top_k=5)
    shutil.rmtree(features_dir)
    load_reranker("lite", settings).feature_rows.clear()  # as a process that never read them
    legacy = _search(settings, store, "c", query, top_k=5)
    assert len(list(features_dir.rglob("*.npy"))) == len(NAMES)
    assert legacy.table["id"].tolist() == fresh.table["id"].tolist()
    np.testing.assert_allclose(
        legacy.table["rerank_score"], fresh.table["rerank_score"], rtol=1e-4, atol=1e-4
    )


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Store]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("demo"), device="cpu")
    store = Store(settings)
    photos = [PHOTOS / name for name in SAMPLE_PHOTOS]
    index_paths(photos, collection="demo", models=["lite"], settings=settings, store=store)
    return settings, store


def _top(indexed: tuple[Settings, Store], query: Query) -> list[str]:
    results = _search(*indexed, "demo", query, top_k=3)
    return list(results.table["file_name"])


def test_the_weight_slider_moves_the_reranked_order(indexed: tuple[Settings, Store]) -> None:
    rocket = PHOTOS / "rocket.jpg"
    text_side = _top(indexed, Query(text="a tabby cat", image=rocket, weight=0.9))
    image_side = _top(indexed, Query(text="a tabby cat", image=rocket, weight=0.1))
    assert text_side[0] == "chelsea.jpg"
    assert image_side[0] == "rocket.jpg"


def test_a_negative_prompt_moves_the_reranked_order(indexed: tuple[Settings, Store]) -> None:
    plain = _top(indexed, Query(text="astronaut and rocket"))
    negated = _top(
        indexed, Query(text="astronaut and rocket", negative="a rocket", negative_weight=0.8)
    )
    assert plain[0] == "rocket.jpg"
    assert "rocket.jpg" not in negated
    assert "astronaut.jpg" in negated


def test_reranker_parts_alone_follow_the_weight(reranker: Reranker, tmp_path: Path) -> None:
    from mmdemo.search.fusion import weighted_parts

    features = _features(reranker, Settings(data_dir=tmp_path))
    candidates = _candidates()
    image = fit_for_models(load_image(PHOTOS / "rocket.jpg"))
    parts = reranker.score_parts(candidates, text="a tabby cat", image=image, features=features)
    by_text = weighted_parts(parts.text, parts.image, 1.0)
    by_image = weighted_parts(parts.text, parts.image, 0.0)
    assert NAMES[int(np.argmax(by_text))] == "chelsea.jpg"
    assert NAMES[int(np.argmax(by_image))] == "rocket.jpg"


def test_reranker_parts_alone_subtract_the_negative(reranker: Reranker, tmp_path: Path) -> None:
    from mmdemo.search.fusion import weighted_parts

    features = _features(reranker, Settings(data_dir=tmp_path))
    parts = reranker.score_parts(
        _candidates(), text="astronaut and rocket", negative="a rocket", features=features
    )
    plain = weighted_parts(parts.text, None)
    negated = weighted_parts(parts.text, None, negative=parts.negative, negative_weight=0.8)
    assert NAMES[int(np.argmax(plain))] == "rocket.jpg"
    assert NAMES[int(np.argmin(negated))] == "rocket.jpg"


@pytest.mark.parametrize("flip", [False, True])
def test_indexing_shares_the_cnn_pass_of_embedder_and_reranker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, flip: bool
) -> None:
    """The embeddings that come with the stored features equal the embedder's own, and
    the rows equal the reranker's recomputed features, with one view (the preset) or two."""
    from mmdemo.ingest.embedding import embed_at_index
    from mmdemo.models.loading import load_embedder

    # Torch: ``flip`` is set on the reranker's module (graphs read it from the recipe).
    settings = Settings(data_dir=tmp_path / "data", device="cpu", backend="torch")
    images = [fit_for_models(load_image(PHOTOS / name)) for name in NAMES]
    ids = [c.id for c in _candidates()]
    embedder = load_embedder("lite", settings)
    reranker = load_reranker("lite", settings)
    module = reranker.model[0]
    monkeypatch.setattr(module, "flip", flip)
    shared = embed_at_index(settings, embedder, ids, embedder.prepare_images(images))
    assert np.allclose(shared, embedder.encode_images(images), atol=1e-5)
    stored = _features(reranker, settings).load(ids)
    with reranker.inference():
        recomputed = module.image_features(images).float().numpy()
    assert np.allclose(np.stack([stored[i] for i in ids]), recomputed, atol=1e-5)


def test_the_shipped_reranker_sees_one_view(reranker: Reranker) -> None:
    """One CNN pass an image, shared with the embedder: the mirror view bought no relevance
    through the app's fusion (bench/README.md, "Reranker views") and cost half of indexing."""
    module = reranker.model[0]
    assert module.flip is False
    assert module.features_layout == "lite0 views=1"


def test_rows_of_another_layout_are_dropped_and_computed_again(
    reranker: Reranker, tmp_path: Path
) -> None:
    """Rows stored by an older preset (two views) are never mixed in: their layout's folder
    is removed when the reranker first opens its own, and the rows recomputed. (Rows from
    before layouts were named go in the data dir's migration: tests/test_layout.py.)"""
    settings = Settings(data_dir=tmp_path / "data")
    candidates = _candidates()
    expected = reranker.score_parts(
        candidates, text="a cat", features=_features(reranker, settings)
    ).text
    folder = _features(reranker, settings).folder
    older = folder.rename(folder.with_name("lite0_views_2"))  # as an older preset's rows
    stale = np.full_like(np.load(next(older.rglob("*.npy"))), 7.0)
    for path in older.rglob("*.npy"):
        np.save(path, stale)
    reranker.feature_rows.clear()
    features = _features(reranker, settings)
    assert not list(folder.parent.rglob("*.npy"))
    assert features.folder == folder and folder.name == "lite0_views_1"
    again = reranker.score_parts(candidates, text="a cat", features=features).text
    assert again is not None and expected is not None
    np.testing.assert_allclose(again, expected, rtol=1e-5, atol=1e-5)
    assert len(list(folder.rglob("*.npy"))) == len(candidates)
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # nothing left aside


def test_mirror_view_of_prepared_pixels_equals_preparing_the_mirrored_images() -> None:
    """The reranker's mirror view flips the pixels the embedder prepared instead of
    preparing each image again; that must be exactly the mirrored image's own pixels."""
    from mmdemo.models.lite import backbone as bb

    images = [fit_for_models(load_image(PHOTOS / name)) for name in NAMES]
    size = 224
    flipped = bb.pixel_batch(images, size).flip(-1)
    assert flipped.equal(bb.pixel_batch(images, size, flip=True))


def test_reranker_reads_the_query_from_the_embedders_text_vectors(
    reranker: Reranker, tmp_path: Path
) -> None:
    """Given the lite embedder's embeddings of the query texts, the reranker scores exactly
    as when it encodes the texts itself, without encoding them."""
    from mmdemo.models.loading import load_embedder

    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    features = _features(reranker, settings)
    texts = {"text": "astronaut and rocket", "negative": "a rocket"}
    encoded = load_embedder("lite", settings).encode_texts(list(texts.values()))
    vectors = dict(zip(texts.values(), encoded, strict=True))
    own = reranker.score_parts(_candidates(), **texts, features=features)
    module = reranker._features_module
    calls: list[str] = []
    original = module.encode_query_text
    module.encode_query_text = lambda text: calls.append(text) or original(text)
    try:
        shared = reranker.score_parts(
            _candidates(), **texts, features=features, text_vectors=vectors
        )
    finally:
        del module.encode_query_text
    assert calls == []
    assert np.allclose(shared.text, own.text, atol=1e-5)
    assert np.allclose(shared.negative, own.negative, atol=1e-5)


def test_a_reranked_lite_search_encodes_its_query_text_once(
    indexed: tuple[Settings, Store],
) -> None:
    settings, _ = indexed
    module = load_reranker("lite", settings)._features_module
    calls: list[str] = []
    original = module.encode_query_text
    module.encode_query_text = lambda text: calls.append(text) or original(text)
    try:
        assert _top(indexed, Query(text="astronaut and rocket", negative="a cat"))
    finally:
        del module.encode_query_text
    assert calls == []


def test_concurrent_first_opens_keep_every_row_written(tmp_path: Path) -> None:
    """Searches and an ingest opening a folder of an old layout at once: each claim looks
    again when its turn comes, so none removes a row another has already written."""
    import threading

    settings = Settings(data_dir=tmp_path / "data")
    old = FeatureStore(settings, "lite", "old layout")
    old.save([f"{i:02x}old" for i in range(200)], np.ones((200, 4), dtype=np.float32))
    barrier = threading.Barrier(8)
    written: list[str] = []

    def open_and_write(index: int) -> None:
        barrier.wait()
        store = FeatureStore(settings, "lite", "new layout")
        store.save([f"{index:02x}new"], np.full((1, 4), index, dtype=np.float32))
        written.append(f"{index:02x}new")

    threads = [threading.Thread(target=open_and_write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store = FeatureStore(settings, "lite", "new layout")
    assert sorted(store.load(written)) == sorted(written) and len(written) == 8
    assert not store.load(["00old"])
