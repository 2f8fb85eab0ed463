"""Sorting one encode/predict batch into texts and images."""

from __future__ import annotations

from typing import Any

import numpy as np
from PIL import Image


def as_image(value: Any) -> Image.Image | None:
    """``value`` as a PIL image when it is one (or an HWC uint8 array), else None."""
    if isinstance(value, Image.Image):
        return value
    if isinstance(value, np.ndarray) and value.ndim in (2, 3):
        return Image.fromarray(value.astype(np.uint8))
    return None


def split_batch(inputs: list[Any]) -> tuple[list[str] | None, list[Image.Image] | None]:
    """``(texts, None)`` for a batch of strings, ``(None, images)`` for a batch of images.

    Raises ValueError for a batch that mixes the two or holds anything else: texts and images
    are encoded in separate calls.
    """
    if all(isinstance(item, str) for item in inputs):
        return list(inputs), None
    images = [as_image(item) for item in inputs]
    if all(image is not None for image in images):
        return None, [image for image in images if image is not None]
    raise ValueError(
        "A lite embedder batch must be all texts or all PIL images; encode them separately."
    )
