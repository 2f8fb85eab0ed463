"""Will a model fit? Its preset's size against the memory free on the device it loads to.

A model that does not fit is refused before loading starts, with the reason, instead of
the process dying half-way through (or being killed by the kernel). On Linux containers
(Hugging Face Spaces) the free CPU memory is the smaller of what the kernel reports and
what the container's cgroup limit leaves. Models of unknown size (Hub ids and folders
that are not presets) are not checked.
"""

from __future__ import annotations

from pathlib import Path

from mmdemo.config import Settings
from mmdemo.errors import ModelLoadError
from mmdemo.models.registry import Preset, Resolved

MB = 1024 * 1024
GB = 1024 * MB
#: A loaded model takes more than its files: activations, buffers, allocator slack.
OVERHEAD = 1.25
_MEMINFO = Path("/proc/meminfo")
_CGROUP = Path("/sys/fs/cgroup")


def _meminfo_available() -> int | None:
    try:
        for line in _MEMINFO.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_available() -> int | None:
    """What the container's cgroup (v2) limit leaves, or None when there is no limit."""
    try:
        limit = (_CGROUP / "memory.max").read_text().strip()
        used = int((_CGROUP / "memory.current").read_text().strip())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - used, 0)


def free_bytes(device: str) -> int | None:
    """Free memory on ``device`` in bytes (GPU memory for CUDA), or None when unknown."""
    if device.startswith("cuda"):
        # lazy: torch: keeps it out of commands that load no torch model
        import torch

        if not torch.cuda.is_available():
            return None
        free, _total = torch.cuda.mem_get_info(torch.device(device))
        return int(free)
    known = [n for n in (_meminfo_available(), _cgroup_available()) if n is not None]
    return min(known) if known else None


def needed_bytes(preset: Preset | None) -> int | None:
    """Memory a preset needs once loaded, or None when its size is unknown or negligible."""
    if preset is None or preset.size_mb <= 0:
        return None
    return int(preset.size_mb * MB * OVERHEAD)


def fit_problem(preset: Preset | None, settings: Settings) -> str | None:
    """Why ``preset`` cannot load on this machine, or None when it fits (or is unknown)."""
    need = needed_bytes(preset)
    device = settings.load_device
    free = free_bytes(device) if need else None
    if need is None or free is None or need <= free:
        return None
    return (
        f"it needs about {need / GB:.1f} GB of {device} memory and only {free / GB:.1f} GB is free"
    )


def check_fits(resolved: Resolved, settings: Settings) -> None:
    """Raise :class:`ModelLoadError` before loading a preset that will not fit."""
    problem = fit_problem(resolved.preset, settings)
    if problem:
        raise ModelLoadError(f"Not loading {resolved.kind} {resolved.key!r}: {problem}.")
