"""The image formats the one decoder reads: one module per format family, one entry each.

:mod:`mmdemo.ingest.images` asks this registry which extensions, signatures and Pillow
format names count as images, which Pillow plugin a file needs (HEIF), which formats
bring their own decoder (DICOM) and what is kept of each as the stored copy. A new format
is a module with an :class:`ImageFormat` entry added to :data:`FORMATS`, not a branch in
the decoder, the sources and the copies.
"""

from __future__ import annotations

from functools import cache

from mmdemo.ingest.formats import avif, dicom, heif, raster
from mmdemo.ingest.formats.base import ImageFormat


@cache
def registry() -> tuple[ImageFormat, ...]:
    """Every format the decoder reads, in the order signatures are tried: DICOM first,
    since a DICOM preamble may itself start like a TIFF (dual-format files)."""
    return (dicom.DICOM, *raster.FORMATS, avif.AVIF, heif.HEIF)


def extensions() -> frozenset[str]:
    """File extensions (lower case, with the dot) of every readable format."""
    return frozenset().union(*(f.extensions for f in registry()))


def pillow_names() -> frozenset[str]:
    """Pillow format names the decoder accepts from ``Image.open``."""
    return frozenset().union(*(f.pillow_names for f in registry()))


def sniff(data: bytes) -> ImageFormat | None:
    """The format whose signature ``data`` starts with, if any."""
    return next((f for f in registry() if f.signature(data)), None)


def identify(data: bytes, name: str) -> ImageFormat | None:
    """The format of a file: by its first bytes, else by the extension of ``name``."""
    found = sniff(data)
    if found is not None:
        return found
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return next((f for f in registry() if suffix in f.extensions), None)


def named(pillow_name: str) -> ImageFormat | None:
    """The format a decoded image's format name (``DecodedImage.format``) belongs to."""
    return next((f for f in registry() if f.name == pillow_name), None)
