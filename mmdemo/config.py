"""Settings: the one place that reads ``MMDEMO_*`` environment variables."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mmdemo.errors import InputError
from mmdemo.models.zerogpu import on_zero_gpu

PRECISIONS = ("fp32", "bf16", "int8")
#: How models run: ``auto`` picks per model and device (mmdemo/models/backends/choice.py).
BACKENDS = ("auto", "torch", "onnx", "openvino")
#: Seconds a reranked search may be expected to take before it is refused.
RERANK_BUDGET_S = 20.0
#: Where a GPU driver shows itself on Linux: without one, CUDA cannot be available.
_GPU_DRIVER_PATHS = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/kfd")


def _default_device() -> str:
    """CUDA when torch sees a GPU, else CPU; torch is imported only when asked, and only
    when a GPU driver exists (a CPU-only Linux machine answers without importing it)."""
    no_driver = not any(Path(path).exists() for path in _GPU_DRIVER_PATHS)
    if sys.platform.startswith("linux") and no_driver and not on_zero_gpu():
        return "cpu"
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def is_set(value: str | None) -> bool:
    """Whether an environment flag is on ("1", "true", "yes" or "on", any case)."""
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _choice(name: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise InputError(f"Unknown {name} {value!r}: use one of {', '.join(allowed)}.")
    return value


def _positive_int(name: str, value: str | None, default: int) -> int:
    try:
        number = int(value) if value else default
    except ValueError:
        number = 0
    if number < 1:
        raise InputError(f"{name} must be a whole number of at least 1, got {value!r}.")
    return number


def _positive_seconds(name: str, value: str | None, default: float) -> float:
    try:
        number = float(value) if value else default
    except ValueError:
        number = 0.0
    if not 0 < number < float("inf"):
        raise InputError(f"{name} must be a number of seconds above 0, got {value!r}.")
    return number


def _idle_seconds(name: str, value: str | None) -> float | None:
    """Seconds of 0 (never) or more, or None when ``value`` is unset."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < float("inf"):
        raise InputError(f"{name} must be a number of seconds, 0 or more, got {value!r}.")
    return number


MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """How much work one ingest, and memory many sessions, may cause, so that hostile use
    cannot exhaust the server.

    Every cap is checked while reading, never after: a zip member that lies about its size
    stops at the cap. Read from ``MMDEMO_MAX_*`` variables (README's configuration table).
    """

    archive_bytes: int = 1024 * MB
    upload_bytes: int = 4096 * MB
    archive_members: int = 20_000
    upload_images: int = 20_000
    caption_chars: int = 2_000
    #: Pages indexed per PDF; later pages are reported, not indexed.
    pdf_pages: int = 200
    #: Gradio's own upload route refuses larger files (the page and the API alike).
    upload_file_bytes: int = 1024 * MB
    #: Browser or API sessions whose state gradio keeps (about 375 KiB each for this page:
    #: gradio builds every block's config for each; least recently used dropped first): a
    #: flood of new sessions cannot exhaust memory.
    sessions: int = 2_000
    #: Seconds of OCR per image (``index --ocr``); an image past it is indexed without text.
    ocr_seconds: float = 30.0

    @classmethod
    def from_env(cls) -> Limits:
        """Limits from ``MMDEMO_MAX_*`` variables; sizes are given in MB."""
        env = os.environ
        default = cls()

        def megabytes(name: str, value: int) -> int:
            return _positive_int(name, env.get(name), value // MB) * MB

        def count(name: str, value: int) -> int:
            return _positive_int(name, env.get(name), value)

        return cls(
            archive_bytes=megabytes("MMDEMO_MAX_ARCHIVE_MB", default.archive_bytes),
            upload_bytes=megabytes("MMDEMO_MAX_UPLOAD_MB", default.upload_bytes),
            archive_members=count("MMDEMO_MAX_ARCHIVE_MEMBERS", default.archive_members),
            upload_images=count("MMDEMO_MAX_UPLOAD_IMAGES", default.upload_images),
            caption_chars=count("MMDEMO_MAX_CAPTION_CHARS", default.caption_chars),
            pdf_pages=count("MMDEMO_MAX_PDF_PAGES", default.pdf_pages),
            upload_file_bytes=megabytes("MMDEMO_MAX_FILE_MB", default.upload_file_bytes),
            sessions=count("MMDEMO_MAX_SESSIONS", default.sessions),
            ocr_seconds=_positive_seconds(
                "MMDEMO_MAX_OCR_SECONDS", env.get("MMDEMO_MAX_OCR_SECONDS"), default.ocr_seconds
            ),
        )


#: The limits when no ``MMDEMO_MAX_*`` variable is set.
DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class Settings:
    """Where data lives and how models run.

    ``data_dir`` holds the Chroma database (unless ``chroma_url`` points at a server),
    the stored image copies and their thumbnails. ``multiuser`` (on by default on Spaces,
    ``MMDEMO_MULTIUSER``) makes a visitor's collections private to their session, removed
    after ``visitor_idle_min`` idle minutes, within ``visitor_max_images`` and
    ``visitor_max_mb`` per visitor (see mmdemo/tenancy.py).
    """

    data_dir: Path = Path("data")
    chroma_url: str | None = None
    device: str | None = None
    #: None: bf16 on CUDA, fp32 on CPU (see :attr:`resolved_precision`).
    precision: str | None = None
    readonly: bool = False
    max_models: int = 3
    limits: Limits = DEFAULT_LIMITS
    #: Whether a model name may be a server folder in the web app (the CLI always may).
    allow_local_models: bool = False
    multiuser: bool = False
    visitor_idle_min: int = 60
    visitor_max_images: int = 500
    visitor_max_mb: int = 200
    #: Whether photos' GPS position is kept in multi-visitor mode (``MMDEMO_ALLOW_GPS``).
    allow_gps: bool = False
    #: Demos to add or replace at start-up (``MMDEMO_DEMO_SOURCES``, see mmdemo/demos.py).
    demo_sources: str = ""
    #: None: ``auto`` (see :mod:`mmdemo.models.backends.choice`).
    backend: str | None = None
    #: Exported ONNX / OpenVINO graphs; None: beside the Hugging Face cache.
    graph_cache: Path | None = None
    #: A reranked search expected to take longer is refused (``MMDEMO_RERANK_BUDGET_S``).
    rerank_budget_s: float = RERANK_BUDGET_S
    #: Whether the web app also serves its API as MCP tools (``MMDEMO_MCP``, ``--mcp``).
    mcp: bool = False
    #: Seconds a loaded model nobody uses stays loaded (``MMDEMO_MODEL_IDLE_S``; 0: forever);
    #: None: the entry point's default (mmdemo/runtime.py: the app 900, the CLI never).
    model_idle_s: float | None = None

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Build settings from ``MMDEMO_*`` variables; keyword overrides win when not None."""
        env = os.environ
        settings = cls(
            data_dir=Path(env.get("MMDEMO_DATA_DIR") or "data"),
            chroma_url=env.get("MMDEMO_CHROMA_URL") or None,
            device=env.get("MMDEMO_DEVICE") or None,
            precision=env.get("MMDEMO_PRECISION") or None,
            readonly=is_set(env.get("MMDEMO_READONLY")),
            max_models=_positive_int("MMDEMO_MAX_MODELS", env.get("MMDEMO_MAX_MODELS"), 3),
            limits=Limits.from_env(),
            allow_local_models=is_set(env.get("MMDEMO_ALLOW_LOCAL_MODELS")),
            multiuser=is_set(env.get("MMDEMO_MULTIUSER", "1" if env.get("SPACE_ID") else "")),
            visitor_idle_min=_positive_int(
                "MMDEMO_VISITOR_IDLE_MIN", env.get("MMDEMO_VISITOR_IDLE_MIN"), 60
            ),
            visitor_max_images=_positive_int(
                "MMDEMO_VISITOR_MAX_IMAGES", env.get("MMDEMO_VISITOR_MAX_IMAGES"), 500
            ),
            visitor_max_mb=_positive_int(
                "MMDEMO_VISITOR_MAX_MB", env.get("MMDEMO_VISITOR_MAX_MB"), 200
            ),
            allow_gps=is_set(env.get("MMDEMO_ALLOW_GPS")),
            demo_sources=env.get("MMDEMO_DEMO_SOURCES", ""),
            backend=env.get("MMDEMO_BACKEND") or None,
            graph_cache=Path(env["MMDEMO_GRAPH_CACHE"]) if env.get("MMDEMO_GRAPH_CACHE") else None,
            rerank_budget_s=_positive_seconds(
                "MMDEMO_RERANK_BUDGET_S", env.get("MMDEMO_RERANK_BUDGET_S"), RERANK_BUDGET_S
            ),
            mcp=is_set(env.get("MMDEMO_MCP")),
            model_idle_s=_idle_seconds("MMDEMO_MODEL_IDLE_S", env.get("MMDEMO_MODEL_IDLE_S")),
        )
        given = {k: v for k, v in overrides.items() if v is not None}
        for folder in ("data_dir", "graph_cache"):
            if folder in given:
                given[folder] = Path(given[folder])
        settings = replace(settings, **given)
        _choice("precision", settings.precision, PRECISIONS)
        _choice("backend", settings.backend, BACKENDS)
        return settings

    @property
    def keeps_gps(self) -> bool:
        """Whether items keep the GPS position their photos carry: always for the operator,
        in multi-visitor mode only where ``allow_gps`` says so (a visitor's photos must not
        publish where they live)."""
        return not self.multiuser or self.allow_gps

    def with_backend(self, backend: str | None) -> Settings:
        """These settings with ``backend`` running embedders; None keeps the configured one."""
        return (
            self
            if backend is None
            else replace(self, backend=_choice("backend", backend, BACKENDS))
        )

    @property
    def resolved_device(self) -> str:
        """The torch device models run on."""
        return self.device or _default_device()

    @property
    def resolved_precision(self) -> str:
        """The precision models run in: as chosen, else bf16 on CUDA and fp32 on CPU."""
        if self.precision:
            return self.precision
        return "bf16" if self.resolved_device.startswith("cuda") else "fp32"

    @property
    def load_device(self) -> str:
        """Where models are loaded: the CPU on ZeroGPU, where the GPU exists only inside
        ``spaces.GPU`` calls (models move there at each call), else the run device."""
        return "cpu" if on_zero_gpu() else self.resolved_device

    @property
    def images_dir(self) -> Path:
        """Stored copies of every indexed image, named by content hash."""
        return self.data_dir / "images"

    @property
    def thumbs_dir(self) -> Path:
        """Thumbnails of the stored images, named by content hash."""
        return self.data_dir / "thumbs"

    @property
    def locks_dir(self) -> Path:
        """Inter-process lock files and the store's change marker."""
        return self.data_dir / "locks"

    @property
    def chroma_dir(self) -> Path:
        """The persistent Chroma database (local mode)."""
        return self.data_dir / "chroma"

    @property
    def finetuned_dir(self) -> Path:
        """Models fine-tuned from the web app, one folder per name."""
        return self.data_dir / "finetuned"
