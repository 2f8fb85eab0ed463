"""Pre-processing for the exported graphs with ``tokenizers``, Pillow and numpy alone.

A search with an accelerated backend must not import torch, transformers or
sentence-transformers, so the model's own pre-processing (its tokenizer and image
processor, which import them) is replayed from a spec the exporter wrote beside the
graphs. The exporter checks that this replay gives the model's own inputs for probe texts
and images (:func:`mmdemo.models.backends.export.check_replay`) before it publishes a set.

- Text: the model's fast tokenizer (``tokenizer.json``), with its truncation and padding,
  after the model's default prompt, if any.
- Images: ``square`` (the lite CNNs: centre square, ``(x - 127) / 128``) or ``processor``
  (CLIP / SigLIP image processors: resize by the shortest edge or to a size, centre crop,
  rescale, normalise), as transformers' PIL backend does them.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.ingest.images import to_rgb
from mmdemo.models.lite.backbone import pixel_array

TOKENIZER_FILE = "tokenizer.json"
#: Graph input name -> the ``tokenizers.Encoding`` attribute that gives it.
ENCODING_FIELDS = {
    "input_ids": "ids",
    "attention_mask": "attention_mask",
    "token_type_ids": "type_ids",
}


class TextPrep:
    """Token ids (and masks) for a batch of texts, as the model's tokenizer gives them."""

    def __init__(self, folder: Path, spec: dict[str, Any]) -> None:
        # lazy: tokenizers: keeps it out of image-only graph models
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(folder / spec.get("file", TOKENIZER_FILE)))
        self._prompt = str(spec.get("prompt") or "")
        self.names = tuple(spec["inputs"])

    def __call__(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """int64 arrays by graph input name, padded as the model pads."""
        encodings = self._tokenizer.encode_batch([self._prompt + text for text in texts])
        return {
            name: np.array([getattr(e, ENCODING_FIELDS[name]) for e in encodings], dtype=np.int64)
            for name in self.names
        }


def _resized_size(width: int, height: int, size: dict[str, int]) -> tuple[int, int]:
    """(width, height) after resizing by ``size``: ``shortest_edge`` keeps the aspect ratio
    (the long side truncated, as transformers computes it), else ``height`` x ``width``."""
    if size.get("shortest_edge"):
        short, long = sorted((width, height))
        edge = size["shortest_edge"]
        scaled = int(edge * long / short)
        return (edge, scaled) if width <= height else (scaled, edge)
    return size["width"], size["height"]


def _centre_crop(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """The centre ``height`` x ``width`` of an HWC array, zero-padded where it is smaller."""
    rows, cols = pixels.shape[:2]
    if rows < height or cols < width:
        padded = np.zeros((max(rows, height), max(cols, width), pixels.shape[2]), pixels.dtype)
        top, left = -(-(padded.shape[0] - rows) // 2), -(-(padded.shape[1] - cols) // 2)
        padded[top : top + rows, left : left + cols] = pixels
        pixels = padded
        rows, cols = padded.shape[:2]
    top, left = (rows - height) // 2, (cols - width) // 2
    return pixels[top : top + height, left : left + width]


def processor_view(image: Image.Image, spec: dict[str, Any]) -> np.ndarray:
    """CHW float32 pixels of ``image`` prepared as a CLIP / SigLIP image processor does."""
    rgb = to_rgb(image)
    if spec.get("resize"):
        rgb = rgb.resize(_resized_size(rgb.width, rgb.height, spec["resize"]), spec["resample"])
    pixels = np.asarray(rgb)
    if spec.get("crop"):
        pixels = _centre_crop(pixels, spec["crop"]["height"], spec["crop"]["width"])
    values = pixels.astype(np.float32)
    if spec.get("rescale"):
        values = values * np.float32(spec["rescale"])
    if spec.get("mean") is not None:
        mean, std = (np.asarray(spec[k], dtype=np.float32) for k in ("mean", "std"))
        values = (values - mean) / std
    return np.ascontiguousarray(values.transpose(2, 0, 1), dtype=np.float32)


class PixelPrep:
    """``pixel_values`` (NCHW float32) for a batch of images."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._spec = spec

    def __call__(self, images: Sequence[Image.Image]) -> dict[str, np.ndarray]:
        """The batch's pixels, one view per image."""
        if self._spec["kind"] == "square":
            return {"pixel_values": pixel_array(list(images), int(self._spec["size"]))}
        views = [processor_view(image, self._spec) for image in images]
        return {"pixel_values": np.ascontiguousarray(np.stack(views), dtype=np.float32)}
