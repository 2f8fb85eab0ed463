"""Metadata records as the store keeps them: each item's metadata made Chroma-ready (None
dropped, numpy scalars made plain) beside its folded caption document. Pure functions;
only mmdemo.store talks to Chroma.
"""

from __future__ import annotations

from typing import Any

import numpy as np

CAPTION_KEY = "caption"
#: The metadata keys of a photo's position (from its EXIF GPS), shared only where
#: ``Settings.keeps_gps``.
GPS_KEYS = ("lat", "lon")
MetadataValue = str | int | float | bool


def record(
    metadata: dict[str, Any], caption: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Chroma-ready (metadata, document) of one item; the document is the folded caption."""
    clean = clean_metadata(metadata)
    if caption:
        clean[CAPTION_KEY] = caption
    return clean or None, caption.casefold() if caption else None


def clean_metadata(metadata: dict[str, Any]) -> dict[str, MetadataValue]:
    """Drop None values and turn numpy scalars into Python ones, as Chroma requires."""
    clean: dict[str, MetadataValue] = {}
    for key, value in metadata.items():
        plain = value.item() if isinstance(value, np.generic) else value
        if plain is None:
            continue
        if not isinstance(plain, str | int | float | bool):
            raise TypeError(f"Metadata {key!r} has unsupported type {type(value).__name__}.")
        clean[str(key)] = plain
    return clean
