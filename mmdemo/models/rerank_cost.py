"""What a reranked search is expected to cost here, and the refusal past the budget.

A VLM reranker (Qwen3-VL) runs one forward pass of the whole model per candidate, over the
candidate's image tokens (bounded by the preset's ``max_pixels``) and the query. On a CPU
that is tens of seconds per candidate, so a reranked top 20 is minutes: before such a
search starts, :func:`check_budget` refuses it when the estimate exceeds
``MMDEMO_RERANK_BUDGET_S`` (20 s by default), saying how long it would take and what to do.

The estimate is the per-candidate cost ``bench/rerank_cost.py`` measured for each preset
(its architecture with random weights, fp32, a photo at the preset's ``max_pixels``, on 2
CPU cores: :data:`MEASURED_SECONDS`), or for a preset not measured the 2B figure scaled by
its size (a forward pass's work grows with the parameters), then scaled by the device:
the CPU cores this process may use, or a GPU. No GPU was measured here; a GPU's figure is
a stated assumption (:data:`GPU_SPEEDUP`). The offline ``lite`` reranker scores stored
features in milliseconds and is never refused; rerankers that are not presets have no
size to scale by and are not estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mmdemo.config import Settings
from mmdemo.errors import TooSlowError
from mmdemo.models.backends.base import cpu_cores
from mmdemo.models.registry import Preset, presets

#: Seconds per candidate (a photo at the bound), bench/rerank_cost.py on 2 CPU cores,
#: 2026-12-07: the 2B model whole, the 8B from its blocks (bench/README.md, "Reranker cost").
MEASURED_SECONDS = {"qwen3-vl-reranker-2b": 50.1, "qwen3-vl-reranker-8b": 294.0}
MEASURED_CORES = 2
#: The measured preset others are scaled from by size.
SCALED_FROM = "qwen3-vl-reranker-2b"
#: How many times faster than those 2 cores a GPU runs the same pass. Not measured here
#: (no GPU was lent): a T4-class GPU in bf16 has some 700 times their peak FLOP rate, of
#: which a seventh is assumed reachable for one candidate at a time.
GPU_SPEEDUP = 100.0


@dataclass(frozen=True)
class Estimate:
    """The expected cost of reranking ``candidates`` results with one preset here."""

    preset: Preset
    candidates: int
    seconds_each: float
    device: str

    @property
    def seconds(self) -> float:
        """The whole reranking, in seconds."""
        return self.seconds_each * self.candidates

    @property
    def where(self) -> str:
        """The device in words: ``on this CPU`` or ``on this GPU``."""
        return "on this CPU" if self.device == "cpu" else "on this GPU"

    def sentence(self) -> str:
        """``about 4 min on this CPU (about 12 s a result) for the top 20``."""
        return (
            f"about {duration_words(self.seconds)} {self.where} "
            f"(about {duration_words(self.seconds_each)} a result) for the top {self.candidates}"
        )


def duration_words(seconds: float) -> str:
    """A duration as a person says it: ``40 s``, ``4 min``, ``1.5 h``."""
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _preset(reranker: str) -> Preset | None:
    name = reranker.strip()
    return next((p for p in presets("reranker") if name in (p.key, p.source)), None)


def estimate(reranker: str, candidates: int, settings: Settings) -> Estimate | None:
    """The expected cost of reranking ``candidates`` results with ``reranker`` here; None
    where nothing is known to scale (not a preset) or the cost is negligible (``lite``)."""
    preset = _preset(reranker)
    if preset is None or preset.offline:
        return None
    seconds = MEASURED_SECONDS.get(preset.key)
    if seconds is None:
        base = next(p for p in presets("reranker") if p.key == SCALED_FROM)
        seconds = MEASURED_SECONDS[SCALED_FROM] * preset.size_mb / base.size_mb
    device = settings.resolved_device
    if device == "cpu":
        seconds *= MEASURED_CORES / cpu_cores()
    else:
        seconds /= GPU_SPEEDUP
    return Estimate(preset, candidates, seconds, "cpu" if device == "cpu" else "gpu")


def check_budget(reranker: str, candidates: int, settings: Settings) -> None:
    """Raise :class:`TooSlowError` when reranking ``candidates`` results with ``reranker``
    is expected to take longer than ``settings.rerank_budget_s``."""
    found = estimate(reranker, candidates, settings)
    budget = settings.rerank_budget_s
    if found is None or math.isinf(budget) or found.seconds <= budget:
        return
    fewer = math.floor(budget / found.seconds_each)
    hint = f"rerank at most {fewer} results" if 0 < fewer < candidates else "rerank fewer results"
    fix = f"use a GPU Space, or {hint}" if found.device == "cpu" else hint
    raise TooSlowError(
        f"Reranking with {found.preset.display_name} would take {found.sentence()}, over the "
        f"{duration_words(budget)} budget (MMDEMO_RERANK_BUDGET_S): {fix}."
    )


def choice_note(reranker: str, candidates: int, settings: Settings) -> str:
    """What a reranker choice says beside its name: `` · about 23 min for 20 on this CPU``,
    or nothing for a reranker with no estimate."""
    found = estimate(reranker, candidates, settings)
    if found is None:
        return ""
    return f" · about {duration_words(found.seconds)} for {candidates} {found.where}"
