"""`python -m bench.perf` prints the goals it checks from the JSON its sections return.

bench/goals.py reads the keys the sections write; a section renamed or reshaped without
it would print no goal. The shipped results are what the sections wrote, so they check it.
"""

from __future__ import annotations

import json
from pathlib import Path

from bench.backend_speed import targets
from bench.goals import goals

RESULTS = Path(__file__).resolve().parents[1] / "bench" / "results"


def test_every_section_of_the_latest_full_run_gives_its_goals() -> None:
    lines = goals(json.loads((RESULTS / "perf_2026-11-27_full_8.json").read_text()))
    for start in (
        "ingest lite, photos",
        "ingest vit-b32, noise",
        "warm reranked / plain search",
        "first reranked search after warm-up",
        "store insert / lite embed rate at 100000",
        "top-50 agreement with exact at 100000, ef_search 1024",
        "Store.query at 100000",
        "cli --help / models / list",
        "peak RSS",
    ):
        assert any(line.startswith(start) for line in lines), start
    assert "ingest lite, photos: e2e / model-only (pairs) 0.954 (>= 0.95)" in lines
    assert "ingest lite, noise: e2e / model-only (pairs) 0.879 (worst case, no goal)" in lines


def test_a_section_that_did_not_run_adds_no_goal() -> None:
    assert goals({}) == []
    assert goals({"rerank": {"skipped": "not in this checkout"}}) == []


def test_the_backends_targets_cover_each_model_measured() -> None:
    found = json.loads((RESULTS / "backend_speed_2026-12-07.json").read_text())
    lines = targets(found)
    assert lines and lines == goals({"backends": {**found, "targets": lines}})
    for name in found["embed"]:
        assert any(line.startswith(f"{name}: images ") for line in lines), name
    assert any(line.startswith("ViT-B/32 best fp32 backend") for line in lines)
