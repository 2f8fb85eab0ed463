"""Which backend an embedder runs on: ``--backend`` / ``MMDEMO_BACKEND``, or ``auto``.

``auto`` (the default) picks, per model family, the backend measured fastest on this kind
of CPU by ``bench/backend_speed.py`` (bench/README.md, "Backends"), and torch on a GPU:
ONNX Runtime and OpenVINO run the exported graphs on the CPU only. bf16 is a torch
precision (autocast), so it runs on torch too. Rerankers always run on torch.
"""

from __future__ import annotations

from pathlib import Path

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.models.registry import Resolved
from mmdemo.models.zerogpu import on_zero_gpu

#: The fastest backend per family on 2 CPU cores (bench/README.md, "Backends"): for lite,
#: ONNX Runtime (lite-b2's images 1.29x OpenVINO's, queries faster on both, lite's images
#: within 3 %); for the transformers, OpenVINO (ViT-B/32 images 1.74x torch vs 1.25x).
FASTEST = {"lite": "onnx", "transformer": "openvino"}
#: The (family, backend) pairs whose int8 graphs are offered: none. ONNX Runtime's dynamic
#: int8 of lite's text tower lost 1.7 points of R@10 and 1.5 of nDCG@10 on lite-b2's dev
#: split (bench/README.md, "Backends: int8"), outside the 1-point margin, and the random
#: CLIP weights here cannot show that it holds for CLIP; bench/offline_relevance.py
#: ``--backend onnx --precision int8`` measures it again.
INT8: set[tuple[str, str]] = set()
INT8_REFUSED = (
    "its int8 graphs lost more than a point of R@10 and nDCG@10 on an offline split "
    "(bench/README.md, 'Backends: int8')"
)


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
    if on_zero_gpu():
        why = "ZeroGPU runs models on its GPU"
    elif device != "cpu":
        why = f"it runs on the CPU only, and models run on {device}"
    elif precision == "bf16":
        why = "bf16 is a torch precision"
    if why is not None:
        return "torch", None if asked == "auto" else f"Backend {asked} not used: {why}."
    kind = family(resolved)
    if precision == "int8":
        return _int8_backend(resolved, kind, asked), None
    return (FASTEST[kind] if asked == "auto" else asked), None


def _int8_backend(resolved: Resolved, kind: str, asked: str) -> str:
    """The backend of an int8 model: a graph backend's int8 graphs where :data:`INT8` offers
    them, else torch's own int8 under ``auto``; a graph backend asked for where they are
    not offered is refused with the reason."""
    graph = "onnx" if asked == "auto" else asked
    if (kind, graph) in INT8:
        return graph
    if asked == "auto":
        return "torch"
    raise InputError(
        f"int8 on {asked} is not offered for {resolved.key}: {INT8_REFUSED}. "
        "Use --precision fp32, or --backend torch for torch's own int8."
    )
