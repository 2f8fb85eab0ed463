"""The offline lite embedder and reranker with their real package-shipped weights."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from mmdemo.demos import PHOTOS_DIR, SAMPLE_PHOTOS
from mmdemo.models.lite import EMBEDDER_DIRS, RERANKER_DIRS

PHOTOS = PHOTOS_DIR

pytestmark = pytest.mark.realmodel


QUERIES = {
    "a cup of coffee": "coffee.jpg",
    "a space rocket": "rocket.jpg",
    "a cat": "chelsea.jpg",
    "an astronaut": "astronaut.jpg",
    "a flower": "flower.jpg",
}


@pytest.fixture(scope="session")
def photos() -> dict[str, Image.Image]:
    """The 14 sample photos of the photos demo (scikit-image / scikit-learn), by file name."""
    return {name: Image.open(PHOTOS / name).convert("RGB") for name in SAMPLE_PHOTOS}


@pytest.fixture(scope="session")
def embedder() -> Any:
    """The ``lite`` embedder, loaded once from its saved folder."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(EMBEDDER_DIRS["lite"]), device="cpu", trust_remote_code=True)


@pytest.fixture(scope="session")
def reranker() -> Any:
    """The ``lite`` reranker, loaded once from its saved folder."""
    from sentence_transformers import CrossEncoder

    return CrossEncoder(str(RERANKER_DIRS["lite"]), device="cpu", trust_remote_code=True)


@pytest.fixture(scope="session")
def photo_embeddings(embedder: Any, photos: dict[str, Image.Image]) -> np.ndarray:
    """Embeddings of all photos, in ``photos`` order."""
    return embedder.encode(list(photos.values()))


def near_duplicate(image: Image.Image) -> Image.Image:
    """Half-size, JPEG quality 50 copy."""
    buffer = io.BytesIO()
    image.resize((image.width // 2, image.height // 2)).save(buffer, format="JPEG", quality=50)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def test_saved_folder_declares_text_and_image(embedder: Any) -> None:
    assert {"text", "image"} <= set(embedder.modalities)
    assert type(embedder[0]).__module__ == "mmdemo.models.lite.embedder"


def test_texts_and_images_share_a_dimension_and_are_unit_length(
    embedder: Any, photo_embeddings: np.ndarray
) -> None:
    texts = embedder.encode(list(QUERIES))
    assert texts.shape[1] == photo_embeddings.shape[1] == embedder.get_embedding_dimension()
    assert np.allclose(np.linalg.norm(texts, axis=1), 1, atol=1e-4)
    assert np.allclose(np.linalg.norm(photo_embeddings, axis=1), 1, atol=1e-4)


def test_mixed_batches_are_refused(embedder: Any, photos: dict[str, Image.Image]) -> None:
    with pytest.raises(ValueError):
        embedder.encode(["a cat", photos["chelsea.jpg"]])


@pytest.mark.parametrize(("query", "expected"), QUERIES.items())
def test_text_query_puts_the_right_photo_first(
    embedder: Any,
    photos: dict[str, Image.Image],
    photo_embeddings: np.ndarray,
    query: str,
    expected: str,
) -> None:
    scores = embedder.encode([query])[0] @ photo_embeddings.T
    assert list(photos)[int(np.argmax(scores))] == expected


def test_image_query_finds_its_near_duplicate_first(
    embedder: Any, photos: dict[str, Image.Image], photo_embeddings: np.ndarray
) -> None:
    names = list(photos)
    queries = embedder.encode([near_duplicate(image) for image in photos.values()])
    best = np.argmax(queries @ photo_embeddings.T, axis=1)
    assert [names[i] for i in best] == names


def test_grey_textures_are_told_apart_by_what_the_cnn_sees(
    embedder: Any, photos: dict[str, Image.Image], photo_embeddings: np.ndarray
) -> None:
    textures = ["brick.jpg", "grass.jpg", "gravel.jpg"]
    names = list(photos)
    for name in textures:
        scores = embedder.encode([near_duplicate(photos[name]).rotate(3)])[0] @ photo_embeddings.T
        assert names[int(np.argmax(scores))] == name


def test_the_cnn_runs_a_few_images_a_pass_on_the_cpu_with_each_images_own_outputs(
    photos: dict[str, Image.Image],
) -> None:
    """Passes of a few images keep EfficientNet-Lite's activations in cache (3-4x faster
    than one pass of 32 on 2 cores); every image must still get the outputs it gets alone."""
    import torch

    from mmdemo.models.lite import backbone as bb

    net = bb.load_backbone("lite0")
    pixels = bb.pixel_batch(list(photos.values())[:10], 224)
    sizes: list[int] = []
    extract = net.extract_features

    def counted(part: torch.Tensor) -> torch.Tensor:
        sizes.append(len(part))
        return extract(part)

    net.extract_features = counted  # type: ignore[method-assign]
    with torch.inference_mode():
        logits, pooled = bb.logits_and_features(net, pixels)
        assert sizes == [bb.CPU_PASS, bb.CPU_PASS, 10 - 2 * bb.CPU_PASS]
        alone = [bb.logits_and_features(net, pixels[i : i + 1]) for i in range(10)]
    assert logits.shape == (10, 1000) and pooled.shape == (10, bb.FEATURE_DIM)
    torch.testing.assert_close(logits, torch.cat([one[0] for one in alone]), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(pooled, torch.cat([one[1] for one in alone]), rtol=1e-4, atol=1e-4)


def test_save_and_reload_round_trip(
    embedder: Any, photos: dict[str, Image.Image], tmp_path: Path
) -> None:
    from sentence_transformers import SentenceTransformer

    embedder.save(str(tmp_path / "copy"))
    again = SentenceTransformer(str(tmp_path / "copy"), device="cpu", trust_remote_code=True)
    image = photos["coffee.jpg"]
    assert np.allclose(again.encode([image]), embedder.encode([image]), atol=1e-5)
    assert np.allclose(again.encode(["a cup"]), embedder.encode(["a cup"]), atol=1e-5)


@pytest.mark.parametrize(("query", "expected"), QUERIES.items())
def test_reranker_keeps_the_right_photo_first(
    reranker: Any, photos: dict[str, Image.Image], query: str, expected: str
) -> None:
    ranked = reranker.rank(query, list(photos.values()))
    assert list(photos)[ranked[0]["corpus_id"]] == expected
    assert set(ranked[0]) == {"corpus_id", "score"}


def test_reranker_takes_images_and_dicts(reranker: Any, photos: dict[str, Image.Image]) -> None:
    names = list(photos)
    documents = [{"text": None, "image": image} for image in photos.values()]
    by_image = reranker.rank(near_duplicate(photos["rocket.jpg"]), documents, top_k=1)
    assert names[by_image[0]["corpus_id"]] == "rocket.jpg"
    both = {"text": "a cat", "image": near_duplicate(photos["chelsea.jpg"])}
    assert names[reranker.rank(both, documents, top_k=1)[0]["corpus_id"]] == "chelsea.jpg"
    scores = reranker.predict(
        [("a cup of coffee", photos["coffee.jpg"]), ("a cup of coffee", photos["coins.jpg"])]
    )
    assert scores[0] > scores[1]


def test_reranker_uses_document_captions(reranker: Any, photos: dict[str, Image.Image]) -> None:
    image = photos["gravel.jpg"]
    with_caption = reranker.predict([("a cat", {"text": "my cat", "image": image})])
    without = reranker.predict([("a cat", {"text": None, "image": image})])
    assert with_caption[0] > without[0]


def test_reranker_encodes_each_caption_once_and_scores_as_before(
    reranker: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from mmdemo.models.lite import reranker as lite
    from mmdemo.models.lite.text import embed_texts

    module = reranker[0]
    encoded: list[list[str]] = []

    def spy(minilm: Any, texts: list[str], batch_size: int = 64) -> torch.Tensor:
        encoded.append(list(texts))
        return embed_texts(minilm, texts, batch_size)

    monkeypatch.setattr(lite, "embed_texts", spy)
    query = embed_texts(module.base.text_encoder, ["a cat"])[0]
    captions = ["a tabby cat on a sofa", None, "a red rocket", "a tabby cat on a sofa"]
    first = module.caption_scores(query, captions)
    again = module.caption_scores(query, [*captions, "a cup of coffee"])
    fresh = embed_texts(module.base.text_encoder, ["a tabby cat on a sofa", "a red rocket"])
    expected = module.caption_weight * (fresh @ query)
    assert torch.allclose(first[[0, 2, 3]], expected[[0, 1, 0]], atol=1e-5)
    assert first[1] == 0
    assert torch.allclose(again[:4], first, atol=1e-6)
    assert encoded == [["a red rocket", "a tabby cat on a sofa"], ["a cup of coffee"]]


@pytest.fixture(scope="module")
def indexed_photos(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The 14 sample photos indexed with preset ``lite`` through the app's own pipeline."""
    from mmdemo.config import Settings
    from mmdemo.ingest.indexer import index_paths
    from mmdemo.store import Store

    settings = Settings(data_dir=tmp_path_factory.mktemp("lite-pipeline"), device="cpu")
    store = Store(settings)
    report = index_paths(
        [PHOTOS / name for name in SAMPLE_PHOTOS],
        collection="photos",
        models=["lite"],
        settings=settings,
        store=store,
    )
    assert report.added == len(SAMPLE_PHOTOS)
    return settings, store


@pytest.mark.parametrize("reranker_name", [None, "lite"])
@pytest.mark.parametrize(("query", "expected"), QUERIES.items())
def test_pipeline_search_by_preset_puts_the_right_photo_first(
    indexed_photos: Any, query: str, expected: str, reranker_name: str | None
) -> None:
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query

    settings, store = indexed_photos
    results = search(
        Query(text=query),
        collection="photos",
        model="lite",
        settings=settings,
        store=store,
        reranker=reranker_name,
        top_k=3,
    )
    assert results.table["file_name"].iloc[0] == expected


def test_pipeline_image_query_finds_the_near_duplicate(
    indexed_photos: Any, photos: dict[str, Image.Image]
) -> None:
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query

    settings, store = indexed_photos
    copy = near_duplicate(photos["gravel.jpg"])
    results = search(
        Query(image=copy), collection="photos", model="lite", settings=settings, store=store
    )
    assert results.table["file_name"].iloc[0] == "gravel.jpg"
