"""Settings: the one place that reads ``MMDEMO_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mmdemo.errors import InputError

PRECISIONS = ("fp32", "bf16")


def _default_device() -> str:
    """CUDA when torch sees a GPU, else CPU; torch is imported only when asked."""
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def is_set(value: str | None) -> bool:
    """Whether an environment flag is on ("1", "true", "yes" or "on", any case)."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _positive_int(name: str, value: str | None, default: int) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        number = 0
    if number < 1:
        raise InputError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return number


@dataclass(frozen=True)
class Settings:
    """Where data lives and how models run.

    ``data_dir`` holds the Chroma database (unless ``chroma_url`` points at a server),
    the stored image copies and their thumbnails.
    """

    data_dir: Path = Path("data")
    chroma_url: str | None = None
    device: str | None = None
    precision: str = "fp32"
    readonly: bool = False
    max_models: int = 3

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Build settings from ``MMDEMO_*`` variables; keyword overrides win when not None."""
        env = os.environ
        settings = cls(
            data_dir=Path(env.get("MMDEMO_DATA_DIR") or "data"),
            chroma_url=env.get("MMDEMO_CHROMA_URL") or None,
            device=env.get("MMDEMO_DEVICE") or None,
            precision=env.get("MMDEMO_PRECISION") or "fp32",
            readonly=is_set(env.get("MMDEMO_READONLY")),
            max_models=_positive_int("MMDEMO_MAX_MODELS", env.get("MMDEMO_MAX_MODELS"), 3),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        if "data_dir" in given:
            given["data_dir"] = Path(given["data_dir"])
        settings = replace(settings, **given)
        if settings.precision not in PRECISIONS:
            raise InputError(
                f"Unknown precision {settings.precision!r}: use one of {', '.join(PRECISIONS)}."
            )
        return settings

    @property
    def resolved_device(self) -> str:
        """The torch device models run on."""
        return self.device or _default_device()

    @property
    def images_dir(self) -> Path:
        """Stored copies of every indexed image, named by content hash."""
        return self.data_dir / "images"

    @property
    def thumbs_dir(self) -> Path:
        """Thumbnails of the stored images, named by content hash."""
        return self.data_dir / "thumbs"

    @property
    def chroma_dir(self) -> Path:
        """The persistent Chroma database (local mode)."""
        return self.data_dir / "chroma"

    @property
    def finetuned_dir(self) -> Path:
        """Models fine-tuned from the web app, one folder per name."""
        return self.data_dir / "finetuned"
