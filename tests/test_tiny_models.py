"""The tiny test models load through the real loaders, with the right modalities and shapes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from tiny_models import build_tiny_clip, build_tiny_siglip, build_tiny_vlm_reranker


def _images(count: int) -> list[Image.Image]:
    """Small random RGB images of an odd size, so the processors must resize them."""
    rng = np.random.default_rng(7)
    return [
        Image.fromarray(rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)) for _ in range(count)
    ]


@pytest.mark.parametrize(("fixture", "dim"), [("tiny_clip_dir", 16), ("tiny_siglip_dir", 32)])
def test_embedder_loads_with_text_and_image(
    fixture: str, dim: int, request: pytest.FixtureRequest
) -> None:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(request.getfixturevalue(fixture)), device="cpu")

    assert set(model.modalities) >= {"text", "image"}
    assert model.encode(["a photo of a cat", "a red car", "dog"]).shape == (3, dim)
    image_vectors = model.encode(_images(2))
    assert image_vectors.shape == (2, dim)
    assert not np.allclose(image_vectors[0], image_vectors[1])


@pytest.mark.parametrize("builder", [build_tiny_clip, build_tiny_siglip])
def test_embedder_builds_are_deterministic(builder: Callable[[Path], Path], tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    first, second = (
        SentenceTransformer(str(builder(tmp_path / name)), device="cpu") for name in ("a", "b")
    )
    images = _images(2)
    np.testing.assert_array_equal(first.encode(images), second.encode(images))
    np.testing.assert_array_equal(first.encode(["the cat"]), second.encode(["the cat"]))


def test_reranker_reloads_the_full_chain(tiny_reranker_dir: Path) -> None:
    from sentence_transformers import CrossEncoder
    from sentence_transformers.cross_encoder.modules import LogitScore

    reranker = CrossEncoder(str(tiny_reranker_dir), device="cpu")

    assert isinstance(reranker[-1], LogitScore)
    assert reranker[-1].true_token_id != reranker[-1].false_token_id


def _ranked_ids(ranking: list[dict[str, Any]]) -> list[int]:
    return sorted(int(entry["corpus_id"]) for entry in ranking)


def test_reranker_ranks_every_query_and_document_shape(tiny_reranker_dir: Path) -> None:
    from sentence_transformers import CrossEncoder

    reranker = CrossEncoder(str(tiny_reranker_dir), device="cpu")
    images = _images(3)
    pairs_of_docs = [{"text": "a cat", "image": images[0]}, {"text": "a car", "image": images[1]}]

    by_text = reranker.rank("a red car", images)
    by_image = reranker.rank(images[2], images)
    by_both = reranker.rank({"text": "the dog", "image": images[2]}, pairs_of_docs)

    assert _ranked_ids(by_text) == [0, 1, 2]
    assert _ranked_ids(by_image) == [0, 1, 2]
    assert _ranked_ids(by_both) == [0, 1]
    scores = [entry["score"] for entry in by_text]
    assert scores == sorted(scores, reverse=True)
    assert len(set(scores)) == 3
    assert reranker.rank("a red car", images, top_k=1) == by_text[:1]


def test_reranker_builds_are_deterministic(tmp_path: Path) -> None:
    from sentence_transformers import CrossEncoder

    first, second = (
        CrossEncoder(str(build_tiny_vlm_reranker(tmp_path / name)), device="cpu")
        for name in ("a", "b")
    )
    pairs = [("a red car", image) for image in _images(2)]
    np.testing.assert_array_equal(first.predict(pairs), second.predict(pairs))
