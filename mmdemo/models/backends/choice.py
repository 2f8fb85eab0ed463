"""Which backend an embedder runs on: ``--backend`` / ``MMDEMO_BACKEND``, or ``auto``.

``auto`` (the default) picks, per model family, the backend measured fastest on this kind
of CPU by ``bench/perf_backends.py`` (bench/README.md, "Backends"), and torch on a GPU:
ONNX Runtime and OpenVINO run the exported graphs on the CPU only. bf16 is a torch
precision (autocast), so it runs on torch too. Rerankers always run on torch.
"""

from __future__ import annotations

from pathlib import Path

from mmdemo.config import Settings
from mmdemo.models.registry import Resolved

#: The fastest backend per family on 2 CPU cores (bench/README.md, "Backends").
FASTEST = {"lite": "openvino", "transformer": "openvino"}


def family(resolved: Resolved) -> str:
    """``lite`` for the offline models (and models fine-tuned from them), else ``transformer``."""
    if resolved.preset is not None:
        return "lite" if resolved.preset.offline else "transformer"
    modules = Path(resolved.location) / "modules.json"
    try:
        ours = "mmdemo.models.lite." in modules.read_text(encoding="utf-8")
    except OSError:
        ours = False
    return "lite" if ours else "transformer"


def choose(resolved: Resolved, settings: Settings) -> tuple[str, str | None]:
    """The backend ``resolved`` runs on under ``settings``, and a sentence when that is not
    the one asked for (None when it is, or when ``auto`` chose)."""
    asked = settings.backend or "auto"
    if resolved.kind != "embedder" or asked == "torch":
        return "torch", None
    device, precision = settings.resolved_device, settings.resolved_precision
    why = None
    if device != "cpu":
        why = f"it runs on the CPU only, and models run on {device}"
    elif precision == "bf16":
        why = "bf16 is a torch precision"
    if why is not None:
        return "torch", None if asked == "auto" else f"Backend {asked} not used: {why}."
    return (FASTEST[family(resolved)] if asked == "auto" else asked), None
