"""Spaces: ZeroGPU wrapping of model work, precision and device, memory checks, the
Hugging Face cache on persistent storage, and the app starting under a fake ZeroGPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from finetune_data import write_captioned

from mmdemo.config import Settings
from mmdemo.errors import ModelLoadError, TrainingError
from mmdemo.finetune import job
from mmdemo.finetune.pairs import Pair
from mmdemo.models import loading, memory, zerogpu
from mmdemo.models.placement import Placement
from mmdemo.models.registry import presets, resolve
from mmdemo.ui.deploy import EPHEMERAL_NOTE, resolve_deployment

from helpers import WebApp, _serve_app
from imagefactory import write_image

ROOT = Path(__file__).resolve().parents[1]
FAKE_SPACES = ROOT / "tests" / "fake_spaces"
MODEL_WORK = {
    "Embedder.encode_prepared",
    "Reranker.score_parts",
    "Reranker.store_features",
}


def _zero_gpu_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "SPACES_ZERO_GPU": "true",
        "PYTHONPATH": os.pathsep.join([str(FAKE_SPACES), str(ROOT)]),
        "HF_HUB_OFFLINE": "1",
        **extra,
    }


# --- the decorator ----------------------------------------------------------------------


def test_gpu_task_is_a_no_op_off_zero_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)

    def work() -> int:
        return 1

    assert zerogpu.gpu_task(12)(work) is work
    assert zerogpu.GPU_TASKS["test_gpu_task_is_a_no_op_off_zero_gpu.<locals>.work"] == 12


def test_gpu_task_wraps_with_spaces_gpu_on_zero_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[Any] = []

    def fake_gpu(*, duration: int) -> Any:
        asked.append(duration)
        return lambda fn: SimpleNamespace(wrapped=fn)

    monkeypatch.setitem(sys.modules, "spaces", SimpleNamespace(GPU=fake_gpu))
    monkeypatch.setenv("SPACES_ZERO_GPU", "True")

    def work() -> int:
        return 1

    decorated: Any = zerogpu.gpu_task(45)(work)
    assert decorated.wrapped is work and asked == [45]


@pytest.mark.parametrize(
    ("value", "expected"), [("1", True), ("true", True), ("0", False), ("", False)]
)
def test_zero_gpu_is_read_as_the_spaces_package_reads_it(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("SPACES_ZERO_GPU", value)
    assert zerogpu.on_zero_gpu() is expected


def test_model_work_runs_only_inside_gpu_calls_under_zero_gpu(
    tiny_clip_dir: Path, tiny_reranker_dir: Path, tmp_path: Path
) -> None:
    images = tmp_path / "images"
    for index, color in enumerate([(250, 0, 0), (0, 250, 0), (0, 0, 250)]):
        write_image(images / f"{index}.png", color, size=(40, 40))
    probe = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "zerogpu_probe.py"), str(tiny_clip_dir),
         str(tiny_reranker_dir), str(tmp_path / "data"), str(images)],
        env=_zero_gpu_env(FAKE_SPACES_LOG=str(tmp_path / "spaces.log")),
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert (found["added"], found["results"], found["reranked"]) == (3, 2, True)
    assert found["forwards"]["inside"] > 0
    assert found["forwards"]["outside"] == 0
    assert set(found["tasks"]) >= MODEL_WORK
    log = [json.loads(line) for line in (tmp_path / "spaces.log").read_text().splitlines()]
    wrapped = {e["name"]: e["duration"] for e in log if e["event"] == "wrapped"}
    assert set(wrapped) == MODEL_WORK and all(d > 0 for d in wrapped.values())
    # store_features runs only for rerankers with stored features (lite), not this one.
    assert {e["name"] for e in log if e["event"] == "call"} == MODEL_WORK - {
        "Reranker.store_features"
    }


# --- device, precision, memory ------------------------------------------------------------


def test_the_page_line_names_device_precision_and_zero_gpu() -> None:
    cpu = Placement("cpu", "fp32", False, "cpu", None)
    zero = Placement("cuda", "bf16", True, "cpu", 8 * memory.GB)
    assert cpu.line() == "Models run on CPU in fp32."
    assert zero.line() == "Models run on GPU (cuda) via ZeroGPU in bf16."
    assert zero.free_words == "cpu memory free: 8.0 GB"


def test_a_model_that_does_not_fit_is_refused_before_loading(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(memory, "free_bytes", lambda device: 2 * memory.GB)

    def never(*_: Any) -> None:
        raise AssertionError("loading started")

    monkeypatch.setattr(loading, "_checked_load", never)
    settings = Settings(data_dir=tmp_path, device="cpu")
    with pytest.raises(ModelLoadError) as refused:
        loading.load_reranker("qwen3-vl-reranker-2b", settings)
    assert str(refused.value) == (
        "Not loading reranker 'qwen3-vl-reranker-2b': it needs about 5.4 GB of cpu memory "
        "and only 2.0 GB is free."
    )
    with pytest.raises(ModelLoadError, match=r"only 2\.0 GB is free"):
        loading.load_for_training("qwen3-vl-embedding-2b", settings)
    assert memory.fit_problem(resolve("clip-b32", "embedder").preset, settings) is None
    assert memory.fit_problem(resolve("lite", "embedder").preset, settings) is None


def test_free_cpu_memory_obeys_the_container_limit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A fixed meminfo: the real one changes between two reads on a busy machine.
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 16777216 kB\nMemAvailable: 8388608 kB\n")
    monkeypatch.setattr(memory, "_MEMINFO", meminfo)
    (tmp_path / "memory.max").write_text(f"{4 * memory.GB}\n")
    (tmp_path / "memory.current").write_text(f"{3 * memory.GB}\n")
    monkeypatch.setattr(memory, "_CGROUP", tmp_path)
    assert memory.free_bytes("cpu") == 1 * memory.GB
    (tmp_path / "memory.max").write_text("max\n")
    assert memory.free_bytes("cpu") == 8 * memory.GB
    (tmp_path / "memory.max").write_text(f"{16 * memory.GB}\n")
    assert memory.free_bytes("cpu") == 8 * memory.GB


def test_every_sized_preset_has_a_need_and_offline_ones_none() -> None:
    for preset in presets():
        need = memory.needed_bytes(preset)
        assert (need is None) == preset.offline
        assert need is None or need > preset.size_mb * memory.MB


# --- the Hugging Face cache and the data dir on Spaces ------------------------------------


def test_spaces_with_storage_keep_the_model_cache_there(tmp_path: Path) -> None:
    deployment = resolve_deployment({"SPACE_ID": "me/demo"}, spaces_storage=tmp_path)
    assert deployment.hf_home == tmp_path / "huggingface"
    assert deployment.notes == ()
    chosen = resolve_deployment({"SPACE_ID": "me/demo", "HF_HOME": "/x"}, spaces_storage=tmp_path)
    assert chosen.hf_home is None


def test_spaces_without_storage_warn_about_uploads_and_downloads(tmp_path: Path) -> None:
    env = {"SPACE_ID": "me/demo", "MMDEMO_DATA_DIR": "/srv/data"}
    deployment = resolve_deployment(env, spaces_storage=tmp_path / "none")
    assert deployment.hf_home is None
    assert deployment.notes == (EPHEMERAL_NOTE,)
    assert "models are downloaded again" in EPHEMERAL_NOTE
    assert resolve_deployment({}, spaces_storage=tmp_path).hf_home is None


# --- the app on a (fake) ZeroGPU Space ----------------------------------------------------


@pytest.fixture(scope="module")
def zero_gpu_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    log = tmp_path_factory.mktemp("zerogpu-log") / "spaces.log"
    extra = _zero_gpu_env(SPACE_ID="me/mmdemo", FAKE_SPACES_LOG=str(log))
    for app in _serve_app(tmp_path_factory, "zerogpu-app", extra):
        app.log = log
        yield app


def test_the_app_starts_on_a_zero_gpu_space(zero_gpu_app: WebApp) -> None:
    with urllib.request.urlopen(f"{zero_gpu_app.url}/config", timeout=60) as answer:
        config = answer.read().decode()
    assert "via ZeroGPU in fp32" in config
    assert EPHEMERAL_NOTE in config  # no /data here
    events = [json.loads(line) for line in zero_gpu_app.log.read_text().splitlines()]
    assert {e["name"] for e in events if e["event"] == "wrapped"} == MODEL_WORK
    assert "Embedder.encode_prepared" in {e["name"] for e in events if e["event"] == "call"}


def test_fine_tuning_trains_inside_one_streaming_gpu_call_under_zero_gpu(
    tiny_clip_dir: Path, tmp_path: Path
) -> None:
    images, captions = write_captioned(tmp_path / "src")
    out = tmp_path / "tuned"
    probe = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "zerogpu_finetune_probe.py"), str(tiny_clip_dir),
         str(tmp_path / "data"), str(images), str(captions), str(out)],
        env=_zero_gpu_env(FAKE_SPACES_LOG=str(tmp_path / "spaces.log")),
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    forwards, steps, report = found["forwards"], found["steps"], found["report"]
    assert forwards["train inside"] > 0 and forwards["other inside"] > 0
    assert forwards["train outside"] == 0 and forwards["other outside"] == 0
    # Progress streamed back step by step, ending at the run's last step.
    assert len(steps) >= report["steps"] > 0
    assert steps[-1][:2] == [report["steps"], report["steps"]]
    assert [s[0] for s in steps] == sorted(s[0] for s in steps)
    assert steps[-1][2] == pytest.approx(report["final_loss"])
    assert any(out.rglob("*.safetensors"))
    assert report["after"] and report["before"]
    log = [json.loads(line) for line in (tmp_path / "spaces.log").read_text().splitlines()]
    name = "train_and_save"
    wrapped = [e for e in log if e["event"] == "wrapped" and e["name"] == name]
    assert wrapped == [{"event": "wrapped", "name": name, "duration": "dynamic", "generator": True}]
    calls = [e for e in log if e["event"] == "call" and e["name"] == name]
    train_pairs = report["train_pairs"]
    assert [c["duration"] for c in calls] == [
        job.LOAD_AND_SAVE_SECONDS + job.SECONDS_PER_STEP * 2 * -(-train_pairs // 8)
    ]
    # Only progress and the small report cross back; the weights stay in the out folder.
    yielded = {e["type"] for e in log if e["event"] == "yield" and e["name"] == name}
    assert yielded == {"TrainStep", "Trained"}


def test_training_asks_for_gpu_time_by_steps_and_refuses_past_zero_gpu_s_cap(
    tmp_path: Path,
) -> None:
    pair = Pair("id", "a caption", tmp_path / "x.png")
    settings = Settings(data_dir=tmp_path)

    def of(pairs: int, **hyper: Any) -> job.TrainJob:
        return job.TrainJob("lite", (pair,) * pairs, tmp_path / "out", settings, **hyper)

    assert job.training_seconds(of(100, epochs=2, batch_size=10)) == 60 + 20
    # Not given: the recipe defaults that make the most steps (4 epochs, batch 32).
    assert job.training_seconds(of(64)) == 60 + 8
    assert (
        job.training_seconds(of(240 * 16, epochs=1, batch_size=16)) == zerogpu.ZERO_GPU_MAX_SECONDS
    )
    with pytest.raises(TrainingError, match=r"up to 241 training steps, .* allows \(240\)"):
        job.training_seconds(of(241 * 16, epochs=1, batch_size=16))
