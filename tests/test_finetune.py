"""Fine-tuning: pairs and splits, the training step, the saved model, the CLI and its errors."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from finetune_data import write_captioned

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.errors import InputError, TrainingError
from mmdemo.finetune.job import TrainJob, TrainStep, train_and_save
from mmdemo.finetune.pairs import MIN_TRAIN_PAIRS, Pair, collection_pairs, split_pairs
from mmdemo.finetune.recipes import TRANSFORMERS
from mmdemo.finetune.run import FinetuneRequest, finetune
from mmdemo.finetune.trainer import Hyper, train
from mmdemo.ingest.indexer import index_paths
from mmdemo.models.loading import load_embedder, load_for_training
from mmdemo.store import Store


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu")


@pytest.fixture
def captioned(tmp_path: Path, settings: Settings, tiny_clip_dir: Path) -> Store:
    """Collection "pets": 24 captioned images indexed with the tiny CLIP."""
    images, captions = write_captioned(tmp_path / "src")
    store = Store(settings)
    index_paths(
        [images],
        collection="pets",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
        captions=captions,
    )
    return store


def mnrl_loss(model: object, pairs: list[Pair], scale: float = 20.0) -> float:
    """MultipleNegativesRankingLoss over all pairs as one batch (captions -> images)."""
    from PIL import Image

    with torch.no_grad():
        texts = model.encode([p.caption for p in pairs], convert_to_tensor=True)  # type: ignore[attr-defined]
        images = model.encode([Image.open(p.image) for p in pairs], convert_to_tensor=True)  # type: ignore[attr-defined]
    scores = scale * torch.nn.functional.normalize(texts) @ torch.nn.functional.normalize(images).T
    return float(torch.nn.functional.cross_entropy(scores, torch.arange(len(pairs))))


def test_a_few_steps_lower_the_loss(
    tmp_path: Path, settings: Settings, captioned: Store, tiny_clip_dir: Path
) -> None:
    pairs = collection_pairs(captioned, settings, "pets")
    model = load_for_training(str(tiny_clip_dir), settings)
    before = mnrl_loss(model, pairs)
    log = train(
        model,
        pairs,
        recipe=TRANSFORMERS,
        hyper=Hyper(epochs=5, batch_size=8, learning_rate=1e-3, loss_scale=20.0),
        settings=settings,
        work_dir=tmp_path / "work",
    )
    assert log.steps == 15 and len(log.losses) == 15
    assert mnrl_loss(model, pairs) < before - 0.1


def test_split_by_caption_keeps_concepts_apart() -> None:
    pairs = [Pair(f"id{i}", f"caption {i % 20}", Path(f"{i}.png")) for i in range(60)]
    train_pairs, held = split_pairs(pairs, 0.25, "caption")
    assert {p.caption for p in train_pairs}.isdisjoint({p.caption for p in held})
    assert 5 <= len(held) <= 30
    by_image_train, by_image_held = split_pairs(pairs, 0.25, "image")
    assert {p.caption for p in by_image_train} & {p.caption for p in by_image_held}
    assert split_pairs(pairs, 0.25, "caption") == (train_pairs, held)


def test_too_few_pairs_names_the_minimum() -> None:
    pairs = [Pair(f"id{i}", f"caption {i}", Path(f"{i}.png")) for i in range(6)]
    with pytest.raises(InputError, match=f"at least {MIN_TRAIN_PAIRS}"):
        split_pairs(pairs, 0.2)


def test_collection_without_captions_is_refused(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    images, _ = write_captioned(tmp_path / "src", count=10)
    store = Store(settings)
    index_paths(
        [images], collection="bare", models=[str(tiny_clip_dir)], settings=settings, store=store
    )
    with pytest.raises(InputError, match="has no captions"):
        collection_pairs(store, settings, "bare")


def test_out_of_memory_is_named_with_the_batch_size(
    tmp_path: Path,
    settings: Settings,
    captioned: Store,
    tiny_clip_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from sentence_transformers import SentenceTransformerTrainer

    def run_out(*args: object, **kwargs: object) -> None:
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(SentenceTransformerTrainer, "train", run_out)
    out = tmp_path / "tuned"
    request = FinetuneRequest("pets", str(tiny_clip_dir), out, batch_size=16, epochs=1)
    with pytest.raises(TrainingError, match=r"Out of memory .* batch size 16: try a smaller"):
        finetune(request, settings=settings, store=captioned)
    assert not out.exists()


def test_closing_the_training_stream_stops_training_and_saves_nothing(
    tmp_path: Path, settings: Settings, captioned: Store, tiny_clip_dir: Path
) -> None:
    pairs = tuple(collection_pairs(captioned, settings, "pets"))
    out = tmp_path / "tuned"
    job = TrainJob(str(tiny_clip_dir), pairs, out, settings, epochs=3, batch_size=4)
    stream = train_and_save(job)
    first = next(stream)
    assert isinstance(first, TrainStep) and (first.step, first.total) == (1, 3 * 24 // 4)
    stream.close()  # returns once the training thread has stopped
    assert "mmdemo-train" not in {thread.name for thread in threading.enumerate()}
    assert not out.exists()


def test_cli_trains_saves_evaluates_and_reports_push_failure(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    settings: Settings,
    captioned: Store,
    tiny_clip_dir: Path,
) -> None:
    out = tmp_path / "tuned"
    data = ["--data-dir", str(settings.data_dir), "--device", "cpu"]
    args = ["finetune", "--collection", "pets", "--base", str(tiny_clip_dir), "--out", str(out)]
    tune = [*args, "--epochs", "2", "--batch-size", "8", "--eval-split", "0.25", *data]
    assert main([*tune, "--json", "--push-to-hub", "me/tuned"]) == 1
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    error = captured.err.strip().splitlines()[-1]
    assert error.startswith(f"error: The model is saved in {out} but was not pushed to me/tuned")
    assert "HF_HUB_OFFLINE" in error
    assert report["train_pairs"] + report["eval_pairs"] == 24 and report["steps"] > 0
    assert set(report["before"]) == {"recall@1", "recall@5", "recall@10", "mrr", "ndcg@10"}
    card = (out / "README.md").read_text()
    assert "base_model: " + str(tiny_clip_dir) in card
    for name, value in report["after"].items():
        assert f"| {name} | {report['before'][name]:.4f} | {value:.4f} |" in card
    text = ["a red car"]
    tuned = load_embedder(str(out), settings).encode_texts(text)
    assert not np.allclose(tuned, load_embedder(str(tiny_clip_dir), settings).encode_texts(text))
    search = ["search", "--collection", "pets", "--model", str(out), "--text", "red car"]
    assert main([*search, "--json", *data]) == 0
    assert len(json.loads(capsys.readouterr().out)["results"]) == 10

    assert main(tune) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "README.md").read_text() == card


@pytest.mark.realmodel
def test_lite_trains_only_its_projection_and_reloads(tmp_path: Path, settings: Settings) -> None:
    from mmdemo.finetune.recipes import LITE
    from mmdemo.ingest.indexer import index_existing

    images, captions = write_captioned(tmp_path / "src", count=12)
    store = Store(settings)
    index_paths(
        [images],
        collection="few",
        models=["lite"],
        settings=settings,
        store=store,
        captions=captions,
    )
    model = load_for_training("lite", settings)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    pairs = collection_pairs(store, settings, "few")
    log = train(
        model,
        pairs,
        recipe=LITE,
        hyper=Hyper(1, 4, 1e-2, 20.0),
        settings=settings,
        work_dir=tmp_path / "work",
    )
    assert log.steps == 3 and log.trainable_parameters == 1280 * 384 + 384
    changed = {n for n, p in model.named_parameters() if not torch.equal(p, before[n])}
    assert changed == {"0.projection.weight", "0.projection.bias"}
    out = tmp_path / "lite-tuned"
    model.save(str(out))
    reloaded = load_embedder(str(out), settings.with_backend("torch"))  # to read its weights
    assert torch.equal(reloaded.model[0].projection.weight, model[0].projection.weight)
    report = index_existing(collection="few", models=[str(out)], settings=settings, store=store)
    assert report.added == 12


def test_models_lists_the_web_apps_fine_tuned_folders(
    capsys: pytest.CaptureFixture[str], settings: Settings
) -> None:
    tuned = settings.finetuned_dir / "mine"
    tuned.mkdir(parents=True)
    (tuned / "modules.json").write_text("[]")
    (settings.finetuned_dir / "not-a-model").mkdir()
    assert main(["models", "--json", "--data-dir", str(settings.data_dir)]) == 0
    local = [row["key"] for row in json.loads(capsys.readouterr().out) if row.get("local")]
    assert local == [str(tuned.resolve())]


def test_page_push_without_network_keeps_the_model_and_says_so_in_the_summary(
    settings: Settings, captioned: Store, tiny_clip_dir: Path
) -> None:
    from mmdemo.ui.actions import finetune as page
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.requests import FinetuneRequest as PageRequest

    ctx = AppContext(settings, Bootstrap(settings, None, str(tiny_clip_dir)))
    options = {"epochs": 1, "batch_size": 8, "lr": 0, "eval_split": 0.25, "overwrite": False}
    options |= {"collection": "pets", "base": str(tiny_clip_dir)}

    def quiet(*args: object, **kwargs: object) -> None:
        """Gradio's progress callback, which this test does not watch."""

    def run_finetune(**named: object) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        summary, rows, facts = page.finetune(ctx, ctx.admit(PageRequest, named, None), quiet)
        return summary, pd.DataFrame(rows, columns=page.TABLE_COLUMNS), facts

    summary, table, facts = run_finetune(**options, name="mine", push_to_hub=" me/tuned ")
    out = settings.finetuned_dir / "mine"
    # The page names the saved model by its name, never by its server path.
    sentence = "The model is saved in “mine” but was not pushed to me/tuned:"
    assert summary.splitlines()[-1].startswith(sentence) and "HF_HUB_OFFLINE" in summary
    assert str(settings.data_dir) not in summary
    assert list(table["metric"]) == list(facts["before"]) and (out / "README.md").is_file()
    summary, _, _ = run_finetune(**options, name="again", push_to_hub="")
    assert "pushed" not in summary
