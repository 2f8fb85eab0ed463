"""The raster formats Pillow reads by itself: JPEG (and MPO), PNG, WebP, GIF, BMP, TIFF.

A TIFF has no scrubber: its EXIF is its own header, so a copy that must not share it is
a re-encoding."""

from __future__ import annotations

from mmdemo.ingest.formats import scrub
from mmdemo.ingest.formats.base import ImageFormat


def _webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _never(data: bytes) -> bool:
    return False


FORMATS = (
    ImageFormat(
        "JPEG",
        frozenset({".jpg", ".jpeg"}),
        lambda data: data.startswith(b"\xff\xd8\xff"),
        ".jpg",
        frozenset({"JPEG", "MPO"}),  # MPO: the multi-picture JPEG many cameras write
        scrub=scrub.jpeg,
    ),
    ImageFormat(
        "PNG",
        frozenset({".png"}),
        lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
        ".png",
        frozenset({"PNG"}),
        scrub=scrub.png,
    ),
    ImageFormat(
        "WEBP", frozenset({".webp"}), _webp, ".webp", frozenset({"WEBP"}), scrub=scrub.webp
    ),
    ImageFormat(
        "GIF",
        frozenset({".gif"}),
        lambda data: data.startswith((b"GIF87a", b"GIF89a")),
        ".gif",
        frozenset({"GIF"}),
        scrub=scrub.gif,
    ),
    ImageFormat(
        "BMP", frozenset({".bmp"}), _never, ".bmp", frozenset({"BMP"}), scrub=scrub.unchanged
    ),
    ImageFormat(
        "TIFF",
        frozenset({".tif", ".tiff"}),
        lambda data: data.startswith((b"II*\x00", b"MM\x00*")),
        ".tif",
        frozenset({"TIFF"}),
    ),
)
