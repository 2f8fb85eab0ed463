"""The image formats the one decoder reads: one module per format family, one entry each.

:mod:`mmdemo.ingest.images` asks this registry which extensions, signatures and Pillow
format names count as images, which Pillow plugin a file needs (HEIF), which formats
bring their own decoder (DICOM) and what is kept of each as the stored copy. A new format
is a module with an :class:`ImageFormat` entry added to :data:`FORMATS`, not a branch in
the decoder, the sources and the copies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from PIL import Image


@dataclass(frozen=True)
class OwnDecoded:
    """What a format's own decoder makes of a file: upright RGB pixels, the file's full
    size, the metadata it lets out (an allow-list) and other names the file goes by
    (``aliases``: keys a captions CSV may join on, never stored)."""

    image: Image.Image
    width: int
    height: int
    details: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


def _nothing() -> None:
    """The plugin set-up of a format Pillow reads without help."""


@dataclass(frozen=True)
class ImageFormat:
    """One image format: how it is recognised, read and stored.

    ``signature`` tells from the first bytes that a file is of this format (so a damaged
    one is "corrupt", not "not an image"); ``pillow_names`` are the Pillow format names it
    opens as; ``enable`` registers the Pillow plugin it needs, once; ``decode`` is its own
    decoder (bytes, the pixel limit) when Pillow does not read it; ``copy_suffix`` names
    the stored copy; ``stored_as`` is the Pillow format the copy is rendered in when the
    original bytes are not kept (a browser cannot show them, or they carry data that must
    not be kept); ``reads_text`` is False where OCR must not run (pixels that may show
    patient data).
    """

    name: str
    extensions: frozenset[str]
    signature: Callable[[bytes], bool]
    copy_suffix: str
    pillow_names: frozenset[str] = frozenset()
    enable: Callable[[], None] = _nothing
    decode: Callable[[bytes, int], OwnDecoded] | None = None
    stored_as: str | None = None
    reads_text: bool = True


@cache
def registry() -> tuple[ImageFormat, ...]:
    """Every format the decoder reads, in the order signatures are tried: DICOM first,
    since a DICOM preamble may itself start like a TIFF (dual-format files)."""
    from mmdemo.ingest.formats import avif, dicom, heif, raster

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


def iso_brands(data: bytes) -> frozenset[bytes]:
    """The brands of an ISO base media file's leading ``ftyp`` box (HEIF, AVIF), if any."""
    if data[4:8] != b"ftyp":
        return frozenset()
    size = min(int.from_bytes(data[:4], "big"), len(data), 256)
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, size - 3, 4)]
    return frozenset(brands)
