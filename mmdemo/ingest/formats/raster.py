"""The raster formats Pillow reads by itself: JPEG (and MPO), PNG, WebP, GIF, BMP, TIFF."""

from __future__ import annotations

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
    ),
    ImageFormat(
        "PNG",
        frozenset({".png"}),
        lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"),
        ".png",
        frozenset({"PNG"}),
    ),
    ImageFormat("WEBP", frozenset({".webp"}), _webp, ".webp", frozenset({"WEBP"})),
    ImageFormat(
        "GIF",
        frozenset({".gif"}),
        lambda data: data.startswith((b"GIF87a", b"GIF89a")),
        ".gif",
        frozenset({"GIF"}),
    ),
    ImageFormat("BMP", frozenset({".bmp"}), _never, ".bmp", frozenset({"BMP"})),
    ImageFormat(
        "TIFF",
        frozenset({".tif", ".tiff"}),
        lambda data: data.startswith((b"II*\x00", b"MM\x00*")),
        ".tif",
        frozenset({"TIFF"}),
    ),
)
