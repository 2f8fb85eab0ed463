"""Where indexed images live: a copy of each original and a thumbnail, named by content hash.

Results are shown from these copies, so they survive whatever happens to the upload.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.ingest.images import DecodedImage, make_thumbnail

_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif", "BMP": ".bmp"}
THUMB_SUFFIX = ".jpg"


def copy_name(decoded: DecodedImage) -> str:
    """The stored file name: content hash plus an extension that matches the bytes."""
    return decoded.sha256 + _EXTENSIONS.get(decoded.format.upper(), ".tif")


def image_path(settings: Settings, metadata: dict[str, Any]) -> Path:
    """The stored copy of an indexed image, from its metadata."""
    return settings.images_dir / str(metadata["image_file"])


def thumb_path(settings: Settings, item_id: str) -> Path:
    """The stored thumbnail of an indexed image."""
    return settings.thumbs_dir / f"{item_id}{THUMB_SUFFIX}"


def save_copies(settings: Settings, decoded: DecodedImage, data: bytes) -> str:
    """Write the original bytes and a thumbnail unless already there; returns the copy's name.

    Files are written to a temporary name and renamed, so a crash never leaves half a file
    under the final name.
    """
    name = copy_name(decoded)
    original = settings.images_dir / name
    if not original.exists():
        original.parent.mkdir(parents=True, exist_ok=True)
        tmp = original.with_suffix(original.suffix + ".part")
        tmp.write_bytes(data)
        tmp.replace(original)
    thumb = thumb_path(settings, decoded.sha256)
    if not thumb.exists():
        thumb.parent.mkdir(parents=True, exist_ok=True)
        tmp = thumb.with_suffix(".part")
        make_thumbnail(decoded.image).save(tmp, format="JPEG", quality=85)
        tmp.replace(thumb)
    return name
