"""HEIF/HEIC, the iPhone's default photo format, read through the pillow-heif plugin.

libheif applies the file's rotation and mirroring while decoding and pillow-heif then
resets the EXIF orientation to 1, so the decoder's own EXIF rotation never turns it twice.
Browsers other than Safari cannot show HEIC, so the stored copy is a JPEG rendering; the
item id stays the hash of the original bytes.
"""

from __future__ import annotations

from functools import cache

from mmdemo.ingest.formats.base import ImageFormat, iso_brands

#: ``ftyp`` brands of HEIF images coded with HEVC (and the generic HEIF brands).
_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"})


def _is_heif(data: bytes) -> bool:
    brands = iso_brands(data)
    return bool(brands & _BRANDS) and b"avif" not in brands


@cache
def _register() -> None:
    """Register pillow-heif's opener once; thumbnails, depth and auxiliary images are not
    read (they cost memory and are never indexed)."""
    import pillow_heif

    pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


HEIF = ImageFormat(
    "HEIF",
    frozenset({".heic", ".heif", ".hif"}),
    _is_heif,
    ".jpg",
    frozenset({"HEIF"}),
    enable=_register,
    stored_as="JPEG",
)
