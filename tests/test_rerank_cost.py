"""What a reranked search is expected to cost here, and the refusal past the budget."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

from mmdemo.config import Settings
from mmdemo.errors import TooSlowError
from mmdemo.models import rerank_cost
from mmdemo.models.registry import presets, resolve
from mmdemo.ui.shared import reranker_choices

CPU = Settings(device="cpu")


def test_a_vlm_reranker_on_this_cpu_is_estimated_from_its_measured_cost() -> None:
    found = rerank_cost.estimate("qwen3-vl-reranker-2b", 20, CPU)
    assert found is not None and found.device == "cpu"
    cores = rerank_cost.cpu_cores()
    per_candidate = rerank_cost.MEASURED_SECONDS["qwen3-vl-reranker-2b"] * 2 / cores
    assert found.seconds == pytest.approx(20 * per_candidate)
    larger = rerank_cost.estimate("Qwen/Qwen3-VL-Reranker-8B", 20, CPU)
    assert larger is not None and larger.seconds > found.seconds
    gpu = rerank_cost.estimate("qwen3-vl-reranker-2b", 20, Settings(device="cuda"))
    assert gpu is not None and gpu.seconds < found.seconds and gpu.where == "on this GPU"


def test_the_offline_reranker_and_unknown_ones_are_not_estimated() -> None:
    assert rerank_cost.estimate("lite", 20, CPU) is None
    assert rerank_cost.estimate("someone/some-reranker", 20, CPU) is None
    rerank_cost.check_budget("lite", 1000, replace(CPU, rerank_budget_s=0.001))


def test_a_rerank_over_the_budget_is_refused_with_the_estimate_and_the_fix() -> None:
    with pytest.raises(TooSlowError) as refusal:
        rerank_cost.check_budget("qwen3-vl-reranker-2b", 20, CPU)
    message = str(refusal.value)
    assert "Qwen3-VL-Reranker 2B would take about" in message
    assert "on this CPU" in message and "for the top 20" in message
    assert "over the 20 s budget (MMDEMO_RERANK_BUDGET_S): use a GPU Space, or rerank" in message


def test_a_budget_large_enough_or_infinite_lets_it_run() -> None:
    found = rerank_cost.estimate("qwen3-vl-reranker-2b", 20, CPU)
    assert found is not None
    rerank_cost.check_budget(
        "qwen3-vl-reranker-2b", 20, replace(CPU, rerank_budget_s=found.seconds)
    )
    rerank_cost.check_budget("qwen3-vl-reranker-2b", 20, replace(CPU, rerank_budget_s=math.inf))
    with pytest.raises(TooSlowError, match=r"rerank at most \d+ results"):
        rerank_cost.check_budget(
            "qwen3-vl-reranker-2b", 20, replace(CPU, rerank_budget_s=found.seconds_each * 3)
        )


def test_the_budget_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMDEMO_RERANK_BUDGET_S", "90000")
    assert Settings.from_env().rerank_budget_s == 90000
    monkeypatch.setenv("MMDEMO_RERANK_BUDGET_S", "soon")
    with pytest.raises(Exception, match="MMDEMO_RERANK_BUDGET_S must be a number of seconds"):
        Settings.from_env()


def test_a_search_over_the_budget_is_refused_before_any_model_loads(tmp_path: Path) -> None:
    """The reranker needs the Hub here: were it loaded first, the error would say so."""
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query
    from mmdemo.store import Store

    settings = Settings(data_dir=tmp_path, device="cpu")
    store = Store(settings)
    store.ensure_indexed = lambda *args: None  # type: ignore[method-assign]
    with pytest.raises(TooSlowError, match="would take about"):
        search(
            Query(text="a cat"),
            collection="c",
            model="lite",
            settings=settings,
            store=store,
            reranker="qwen3-vl-reranker-2b",
        )


def test_the_reranker_choice_shows_what_it_costs_here() -> None:
    labels = {key: label for label, key in reranker_choices()}
    settings = Settings.from_env()
    note = rerank_cost.choice_note("qwen3-vl-reranker-2b", 20, settings)
    assert note and labels["qwen3-vl-reranker-2b"].endswith(note)
    assert "for 20 on this" in note
    assert labels["lite"] == resolve("lite", "reranker").preset.display_name  # type: ignore[union-attr]


def test_every_vlm_preset_bounds_its_image_size() -> None:
    vlms = [p for p in presets() if p.key.startswith("qwen3-vl")]
    assert len(vlms) >= 3
    for preset in vlms:
        bound = dict(preset.processor_kwargs).get("max_pixels")
        assert bound is not None and bound <= 1280 * 32 * 32
