"""Where and how models run here: device, precision, ZeroGPU or not, free memory.

One description for the page's status line and the ``doctor`` command.
"""

from __future__ import annotations

from dataclasses import dataclass

from mmdemo.config import Settings
from mmdemo.models.memory import GB, free_bytes
from mmdemo.models.zerogpu import on_zero_gpu


def on_gpu(settings: Settings) -> bool:
    """Whether models run on a GPU here: CUDA, or ZeroGPU's GPU inside its calls."""
    return on_zero_gpu() or settings.resolved_device.startswith("cuda")


@dataclass(frozen=True)
class Placement:
    """The device models run on, their precision, and the memory free where they load
    (what the process's :class:`mmdemo.runtime.Runtime` holds is another matter)."""

    device: str
    precision: str
    zero_gpu: bool
    load_device: str
    free_bytes: int | None

    @classmethod
    def of(cls, settings: Settings) -> Placement:
        """The placement that ``settings`` give on this machine."""
        return cls(
            device=settings.resolved_device,
            precision=settings.resolved_precision,
            zero_gpu=on_zero_gpu(),
            load_device=settings.load_device,
            free_bytes=free_bytes(settings.load_device),
        )

    @property
    def device_words(self) -> str:
        """The device in words: ``CPU``, ``GPU (cuda)``, ``GPU (cuda) via ZeroGPU``."""
        words = f"GPU ({self.device})" if self.device.startswith("cuda") else self.device.upper()
        return f"{words} via ZeroGPU" if self.zero_gpu else words

    @property
    def free_words(self) -> str:
        """Free memory where models load, in words."""
        if self.free_bytes is None:
            return f"{self.load_device} memory free: unknown"
        return f"{self.load_device} memory free: {self.free_bytes / GB:.1f} GB"

    def line(self) -> str:
        """One sentence for the page: where models run and in which precision."""
        return f"Models run on {self.device_words} in {self.precision}."
