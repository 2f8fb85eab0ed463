"""Where indexed images live: a copy of each original and a thumbnail, named by content hash.

Results are shown from these copies, so they survive whatever happens to the upload; they
are written by :func:`mmdemo.store.space.write_stored`. The lock that keeps removers off
files an ingest is about to record is :class:`mmdemo.ingest.files_lock.FilesLock`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.ingest import formats
from mmdemo.ingest.images import DecodedImage, make_thumbnail
from mmdemo.store.space import write_stored

THUMB_SUFFIX = ".jpg"


def copy_name(item_id: str, decoded: DecodedImage) -> str:
    """The stored file name: the item id (content hash) plus an extension that matches the
    bytes (those of the rendering, for a format whose original is not kept)."""
    found = formats.named(decoded.stored_as or decoded.format)
    return item_id + (found.copy_suffix if found is not None else ".tif")


def image_path(settings: Settings, metadata: dict[str, Any]) -> Path:
    """The stored copy of an indexed image, from its metadata."""
    return settings.images_dir / str(metadata["image_file"])


def thumb_path(settings: Settings, item_id: str) -> Path:
    """The stored thumbnail of an indexed image."""
    return settings.thumbs_dir / f"{item_id}{THUMB_SUFFIX}"


def _rendering(decoded: DecodedImage, image_format: str) -> Callable[[Path], object]:
    """What writes a rendering of the decoded pixels, which carries no metadata of the file
    (no EXIF, no DICOM attributes)."""
    return lambda tmp: decoded.image.save(tmp, format=image_format, quality=92)


def shareable_writer(decoded: DecodedImage, data: bytes) -> Callable[[Path], object]:
    """What writes a copy that shares no private metadata: the original rewritten by its
    format's scrubber, else (no scrubber, or a structure it cannot follow) a rendering."""
    found = formats.named(decoded.format)
    if found is not None and found.scrub is not None:
        try:
            scrubbed = found.scrub(data)
        except ValueError:
            pass
        else:
            return lambda tmp: tmp.write_bytes(scrubbed)
    return _rendering(decoded, decoded.format)


def _copy_writer(decoded: DecodedImage, data: bytes, private: bool) -> Callable[[Path], object]:
    """What writes the stored copy: the bytes as given; with ``private`` (GPS is dropped),
    the bytes without private metadata; or, for a format whose original is not kept, the
    rendering."""
    if decoded.stored_as is not None:
        return _rendering(decoded, decoded.stored_as)
    if private:
        return shareable_writer(decoded, data)
    return lambda tmp: tmp.write_bytes(data)


def save_copies(settings: Settings, item_id: str, decoded: DecodedImage, data: bytes) -> str:
    """Write the original bytes (or, for HEIF and DICOM, a rendering of the decoded image in
    ``decoded.stored_as``) and a thumbnail of item ``item_id`` (the content hash of
    ``data``) unless already there; returns the copy's name.

    Where items drop GPS (``settings.keeps_gps`` false: multi-visitor mode), the copy is
    the original without its position and other private metadata
    (:mod:`mmdemo.ingest.formats.scrub`); the id stays the hash of the original bytes.
    """
    name = copy_name(item_id, decoded)
    original = settings.images_dir / name
    if not original.exists():
        write_stored(original, _copy_writer(decoded, data, not settings.keeps_gps))
    thumb = thumb_path(settings, item_id)
    if not thumb.exists():
        thumbnail = make_thumbnail(decoded.image)
        write_stored(thumb, lambda tmp: thumbnail.save(tmp, format="JPEG", quality=85))
    return name
