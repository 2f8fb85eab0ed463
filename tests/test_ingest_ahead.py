"""Overlapped ingest: decoding runs ahead in a thread, yet stores exactly what a serial run does."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmdemo.config import Settings
from mmdemo.errors import ModelLoadError
from mmdemo.ingest.ahead import run_ahead
from mmdemo.ingest.batches import BATCH_SIZE, FIRST_BATCH_SIZE
from mmdemo.ingest.images import content_hash, decode_image, fit_for_models
from mmdemo.ingest.indexer import index_paths
from mmdemo.models.loading import load_embedder
from mmdemo.store import Store


def _noise_images(folder: Path, count: int) -> Path:
    rng = np.random.default_rng(1)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 256, size=(24 + i % 5, 30, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"n{i:03d}.png")
    return folder


def test_run_ahead_keeps_order_and_raises_the_producers_error() -> None:
    def failing() -> Iterator[int]:
        yield from range(5)
        raise ValueError("broken source")

    seen: list[int] = []
    with pytest.raises(ValueError, match="broken source"), run_ahead(failing()) as items:
        seen.extend(items)
    assert seen == [0, 1, 2, 3, 4]


def test_run_ahead_stops_its_producer_when_the_consumer_leaves_early() -> None:
    produced: list[int] = []

    def counting() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    with run_ahead(counting(), depth=2) as items:
        assert next(items) == 0
    assert len(produced) <= 5


def test_overlapped_ingest_stores_the_serial_vectors_and_reports_per_batch(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    count = BATCH_SIZE * 2 + 5
    folder = _noise_images(tmp_path / "in", count)
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    store = Store(settings)
    seen: list[tuple[int, int]] = []
    report = index_paths(
        [folder],
        collection="noise",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert (report.added, report.present, report.rejected) == (count, 0, [])
    # A small first batch (the model starts early), then full ones.
    steps = [0, FIRST_BATCH_SIZE, FIRST_BATCH_SIZE + BATCH_SIZE, count, count]
    assert seen == [(step, count) for step in steps]

    embedder = load_embedder(str(tiny_clip_dir), settings)
    files = [path.read_bytes() for path in sorted(folder.iterdir())]
    expected = embedder.encode_images([fit_for_models(decode_image(data).image) for data in files])
    ids, vectors = store.embeddings("noise", embedder.key)
    order = [ids.index(content_hash(data)) for data in files]
    np.testing.assert_allclose(vectors[order], expected, atol=1e-5)


def test_a_model_that_cannot_load_fails_before_any_file_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    folder = _noise_images(tmp_path / "in", 3)
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    with pytest.raises(ModelLoadError, match="no-org/no-model"):
        index_paths(
            [folder], collection="c", models=["no-org/no-model"], settings=settings,
            store=Store(settings),
        )  # fmt: skip
    written = [
        p for d in (settings.images_dir, settings.thumbs_dir) if d.exists() for p in d.iterdir()
    ]
    assert written == []
