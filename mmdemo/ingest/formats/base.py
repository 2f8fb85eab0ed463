"""What every image format module declares: its :class:`ImageFormat` entry, what its own
decoder returns (:class:`OwnDecoded`) and the helpers the signatures share.

Apart from the registry (:mod:`mmdemo.ingest.formats`), which imports every format module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
    patient data); ``scrub`` rewrites a kept original to carry only shareable metadata
    (:mod:`mmdemo.ingest.formats.scrub`), None where the copy is then a re-encoding.
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
    scrub: Callable[[bytes], bytes] | None = None


def iso_brands(data: bytes) -> frozenset[bytes]:
    """The brands of an ISO base media file's leading ``ftyp`` box (HEIF, AVIF), if any."""
    if data[4:8] != b"ftyp":
        return frozenset()
    size = min(int.from_bytes(data[:4], "big"), len(data), 256)
    brands = [data[8:12]] + [data[i : i + 4] for i in range(16, size - 3, 4)]
    return frozenset(brands)
