"""`python -m mmdemo doctor` on this machine (no Hub, CPU only), and its verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmdemo import doctor
from mmdemo.config import Settings
from mmdemo.models import memory

from helpers import _doctor

ROOT = Path(__file__).resolve().parents[1]


def test_doctor_on_this_machine(tmp_path: Path) -> None:
    run = _doctor("--data-dir", str(tmp_path / "data"), MMDEMO_DEVICE="cpu")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "device: CPU, precision fp32"
    assert lines[1].startswith("memory: cpu memory free: ") and lines[1].endswith(" GB")
    assert lines[2] == "hub: unreachable (HF_HUB_OFFLINE is set)"
    assert lines[3].startswith("model cache: ") and lines[3].endswith("(persistent)")
    assert lines[4] == f"data dir: {tmp_path / 'data'} (writable, persistent)"
    assert lines[5].startswith("store: local Chroma (SQLite) on a local disk")
    assert lines[6] == "presets that fit and can load: lite, lite-b2, lite (reranker)"
    assert "clip-b32" in lines[7] and "the Hub is unreachable" in lines[7]
    assert lines[-1].startswith("default set-up: can start: with the offline model 'lite'")
    assert len(lines) <= 10


def test_doctor_json_and_a_bf16_choice(tmp_path: Path) -> None:
    run = _doctor("--data-dir", str(tmp_path), "--precision", "bf16", "--json")
    found = json.loads(run.stdout)
    assert run.returncode == 0 and found["can_start"] is True
    assert (found["runtime"]["device"], found["runtime"]["precision"]) == ("cpu", "bf16")
    assert {p["key"] for p in found["presets"] if p["ok"]} == {"lite", "lite-b2"}


def test_doctor_fails_when_the_data_dir_cannot_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    run = _doctor("--data-dir", str(blocker / "data"))
    assert run.returncode == 1
    assert run.stdout.splitlines()[-1].startswith("default set-up: CANNOT start")
    assert "NOT writable" in run.stdout


def test_doctor_on_a_space_without_storage_says_data_is_lost(tmp_path: Path) -> None:
    run = _doctor("--data-dir", str(tmp_path), SPACE_ID="me/demo")
    assert run.returncode == 0
    assert "(writable, lost at restart: no persistent storage)" in run.stdout


def test_without_offline_packages_or_memory_nothing_can_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(data_dir=tmp_path, device="cpu")
    monkeypatch.setattr(memory, "free_bytes", lambda device: 1 * memory.MB)
    small = doctor.diagnose(settings)
    assert small.can_start  # the offline models are bundled: no size to refuse
    assert {p.key: p.ok for p in small.presets if p.kind == "reranker"}[
        "qwen3-vl-reranker-2b"
    ] is False
    monkeypatch.setattr(doctor, "OFFLINE_PACKAGES", ("no_such_weights_package",))
    broken = doctor.diagnose(settings)
    assert not broken.can_start
    assert "missing packages: no_such_weights_package" in broken.default_why
