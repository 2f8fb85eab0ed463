"""The base class every loaded model shares: identity, device, precision, inference context."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mmdemo.config import Settings
from mmdemo.models.precision import autocast_dtype
from mmdemo.models.registry import Resolved, display_key


class ModelHandle:
    """A loaded model plus what it was loaded as.

    Subclasses (:class:`mmdemo.embed.Embedder`, :class:`mmdemo.rerank.Reranker`) add the
    predict step; this class owns the lifecycle parts they share, so device and precision
    handling live in one place. A handle pickles by reference (:mod:`mmdemo.models.loading`
    registers how), naming the cache that loaded it.
    """

    #: The :attr:`~mmdemo.models.cache.ModelCache.token` of the cache that loaded it.
    cache_token: str = ""

    def __init__(self, resolved: Resolved, model: Any, settings: Settings) -> None:
        self.resolved = resolved
        self.model = model
        self.settings = settings
        self.device = settings.resolved_device
        self.precision = settings.resolved_precision

    @property
    def key(self) -> str:
        """The canonical model name (a preset key, Hub id or absolute folder path)."""
        return self.resolved.key

    @property
    def label(self) -> str:
        """A short human name for messages and the UI."""
        preset = self.resolved.preset
        return preset.display_name if preset else display_key(self.key)

    def supports(self, modality: str | tuple[str, ...]) -> bool:
        """Whether the model takes this input modality (``"text"``, ``"image"``, or a tuple)."""
        return bool(self.model.supports(modality))

    @contextmanager
    def inference(self) -> Iterator[None]:
        """The model on its run device, no autograd, and autocast when the precision asks
        for it (bf16).

        Models are loaded where :attr:`Settings.load_device` says: on ZeroGPU that is the
        CPU, and the model moves to the GPU here, inside the ``spaces.GPU`` call.
        """
        # lazy: torch: keeps it out of searches on exported graphs
        import torch

        if self.device != self.settings.load_device:
            self.model.to(self.device)
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        dtype = autocast_dtype(self.precision)
        with (
            torch.inference_mode(),
            torch.autocast(device_type, dtype=dtype, enabled=dtype is not None),
        ):
            yield
