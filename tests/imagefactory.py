"""Tiny image files and zip archives generated with Pillow/zipfile for ingest tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)

# Pillow's format name for each image extension the project accepts.
FORMAT_BY_EXTENSION = {
    ".jpg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".gif": "GIF",
    ".bmp": "BMP",
    ".tiff": "TIFF",
}


def image_bytes(
    image_format: str = "PNG",
    size: tuple[int, int] = (8, 6),
    color: Any = RED,
    mode: str = "RGB",
    **save_options: Any,
) -> bytes:
    """A solid-colour image of ``mode`` encoded as ``image_format``."""
    return encode(Image.new(mode, size, color), image_format, **save_options)


def encode(image: Image.Image, image_format: str, **save_options: Any) -> bytes:
    """``image`` saved to bytes in ``image_format``."""
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save_options)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` (creating parent folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_image(path: Path, color: Any = RED, size: tuple[int, int] = (8, 6)) -> Path:
    """A small solid image at ``path``, its format taken from the extension."""
    return write(path, image_bytes(FORMAT_BY_EXTENSION[path.suffix.lower()], size, color))


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A deflated zip archive at ``path`` holding ``members`` (name -> bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def mark_encrypted(path: Path) -> None:
    """Set the "encrypted" flag bit on every member of a zip, as a password-protected zip has.

    zipfile cannot write encrypted archives, and the flag is all a reader sees before
    decrypting, so flipping it in both the local and the central headers is enough.
    """
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            data[start + flag_offset] |= 0x1
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))
