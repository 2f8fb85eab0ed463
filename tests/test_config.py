"""Settings from the environment: defaults, overrides and clear errors for bad values."""

from pathlib import Path

import pytest

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.errors import InputError

VARIABLES = ("MMDEMO_DATA_DIR", "MMDEMO_CHROMA_URL", "MMDEMO_DEVICE", "MMDEMO_PRECISION")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*VARIABLES, "MMDEMO_READONLY", "MMDEMO_MAX_MODELS", "MMDEMO_MAX_SESSIONS"):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    settings = Settings.from_env()
    assert settings.data_dir == Path("data") and settings.chroma_url is None
    assert (settings.precision, settings.readonly, settings.max_models) == (None, False, 3)
    assert settings.images_dir == Path("data/images")
    assert settings.limits.sessions == 2000


def test_environment_then_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MMDEMO_DATA_DIR", "/srv/mm")
    monkeypatch.setenv("MMDEMO_PRECISION", "bf16")
    monkeypatch.setenv("MMDEMO_READONLY", "Yes")
    monkeypatch.setenv("MMDEMO_MAX_MODELS", "5")
    monkeypatch.setenv("MMDEMO_MAX_SESSIONS", "300")
    settings = Settings.from_env(data_dir="/tmp/x", precision=None)
    assert settings.data_dir == Path("/tmp/x")  # a given override wins
    assert (settings.precision, settings.readonly, settings.max_models) == ("bf16", True, 5)
    assert settings.limits.sessions == 300


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MMDEMO_PRECISION", "fp8", "Unknown precision 'fp8'"),
        ("MMDEMO_MAX_MODELS", "abc", "MMDEMO_MAX_MODELS must be a whole number"),
        ("MMDEMO_MAX_MODELS", "0", "MMDEMO_MAX_MODELS must be a whole number"),
        ("MMDEMO_MAX_SESSIONS", "many", "MMDEMO_MAX_SESSIONS must be a whole number"),
    ],
)
def test_bad_values_are_clear_errors(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(InputError, match=message):
        Settings.from_env()
    assert main(["models"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {message}")


@pytest.mark.parametrize(
    ("device", "chosen", "expected"),
    [("cpu", None, "fp32"), ("cuda", None, "bf16"), ("cuda:1", None, "bf16"),
     ("cuda", "fp32", "fp32"), ("cpu", "bf16", "bf16")],
)  # fmt: skip
def test_precision_defaults_to_bf16_on_cuda_and_fp32_on_cpu(
    device: str, chosen: str | None, expected: str
) -> None:
    assert Settings(device=device, precision=chosen).resolved_precision == expected


def test_models_load_on_the_cpu_on_zero_gpu_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPACES_ZERO_GPU", raising=False)
    assert Settings(device="cuda").load_device == "cuda"
    monkeypatch.setenv("SPACES_ZERO_GPU", "true")
    assert Settings(device="cuda").load_device == "cpu"
