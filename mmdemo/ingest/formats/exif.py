"""A photo's camera metadata (EXIF in JPEG, HEIF, AVIF, TIFF, WebP, PNG) as item fields.

``taken`` (DateTimeOriginal, else DateTimeDigitized, as ISO text), ``camera`` (make and
model), ``lens`` and ``lat``/``lon`` (decimal degrees, 6 places). Damaged EXIF loses only
the fields it damages, never the photo. Which of them an item keeps (GPS) is decided by
:mod:`mmdemo.ingest.metadata`.

:func:`shareable_exif` is the EXIF a stored copy keeps where GPS is dropped (multi-visitor
mode): no position, nothing that names the owner or the very device, no free text;
the rest (make and model, dates, exposure, orientation, Artist and Copyright, which
credit the photographer) stays.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from PIL import ExifTags, Image

#: The other fields a photo's EXIF gives.
CAMERA_KEYS = ("taken", "camera", "lens")
#: IFD0 tags a shared copy drops: free text (ImageDescription, Windows' XPTitle,
#: XPComment, XPAuthor, XPKeywords, XPSubject) and the computer that wrote the file.
PRIVATE_IFD0_TAGS = (0x010E, 0x013C, 0x9C9B, 0x9C9C, 0x9C9D, 0x9C9E, 0x9C9F)
#: Exif IFD tags a shared copy drops: MakerNote (a vendor blob with serial numbers and,
#: for some makers, a position), UserComment, ImageUniqueID, CameraOwnerName,
#: BodySerialNumber and LensSerialNumber.
PRIVATE_EXIF_TAGS = (0x927C, 0x9286, 0xA420, 0xA430, 0xA431, 0xA435)
#: IFD0 tags of blocks that repeat the position and name people and places: XMP, IPTC
#: and Photoshop's resources (TIFF keeps them as tags).
PRIVATE_BLOCK_TAGS = (0x02BC, 0x83BB, 0x8649)
_MAX_TEXT = 120
_EXIF_DATE = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")


def _text(value: Any) -> str:
    """An EXIF text value as one clean line ('' for bytes that are not text)."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = re.sub(r"[\x00-\x1f\x7f\ufffd]+", " ", str(value or ""))
    return " ".join(text.split())[:_MAX_TEXT]


def _taken(sub: Mapping[int, Any]) -> str:
    """DateTimeOriginal (else DateTimeDigitized) as ``YYYY-MM-DDTHH:MM:SS``; '' if unset
    or not a real date (cameras write ``0000:00:00 00:00:00`` when the clock was not set)."""
    for tag in (ExifTags.Base.DateTimeOriginal, ExifTags.Base.DateTimeDigitized):
        match = _EXIF_DATE.match(_text(sub.get(tag)))
        if match is None:
            continue
        try:
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            return datetime(year, month, day, hour, minute, second).isoformat()
        except ValueError:
            continue
    return ""


def _camera(exif: Mapping[int, Any]) -> str:
    """Make and model, without the make twice ("Canon Canon EOS R5" -> "Canon EOS R5")."""
    make, model = _text(exif.get(ExifTags.Base.Make)), _text(exif.get(ExifTags.Base.Model))
    if make and model.lower().startswith(make.split()[0].lower()):
        return model
    return " ".join(part for part in (make, model) if part)


def _lens(sub: Mapping[int, Any]) -> str:
    make, model = _text(sub.get(ExifTags.Base.LensMake)), _text(sub.get(ExifTags.Base.LensModel))
    if make and model.lower().startswith(make.lower()):
        return model
    return " ".join(part for part in (make, model) if part)


def _degrees(value: Any, ref: Any, limit: float) -> float | None:
    """Degrees, minutes, seconds and a hemisphere (N/S, E/W) as signed decimal degrees."""
    try:
        parts = [float(part) for part in value]
        degrees = parts[0] + (parts[1] if len(parts) > 1 else 0) / 60
        degrees += (parts[2] if len(parts) > 2 else 0) / 3600
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    if _text(ref).upper() in ("S", "W"):
        degrees = -degrees
    if not math.isfinite(degrees) or abs(degrees) > limit:
        return None
    return round(degrees, 6)


def _position(gps: Mapping[int, Any]) -> dict[str, float]:
    lat = _degrees(gps.get(ExifTags.GPS.GPSLatitude), gps.get(ExifTags.GPS.GPSLatitudeRef), 90)
    lon = _degrees(gps.get(ExifTags.GPS.GPSLongitude), gps.get(ExifTags.GPS.GPSLongitudeRef), 180)
    return {"lat": lat, "lon": lon} if lat is not None and lon is not None else {}


def exif_details(image: Image.Image) -> dict[str, Any]:
    """The camera metadata of an opened image: taken, camera, lens, lat/lon where present."""
    try:
        exif = image.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # a damaged EXIF block must not reject otherwise good pixels
        return {}
    found: dict[str, Any] = {
        "taken": _taken(sub),
        "camera": _camera(exif),
        "lens": _lens(sub),
        **_position(gps),
    }
    return {key: value for key, value in found.items() if value != ""}


def carries_private(image: Image.Image) -> bool:
    """Whether an opened image carries what :func:`shareable_exif` leaves out (a position,
    an owner, serial numbers, free text) or XMP, IPTC or comments. Damaged EXIF counts as
    private: it cannot be told apart."""
    if any(key in image.info for key in ("xmp", "comment", "XML:com.adobe.xmp")):
        return True
    try:
        exif = image.getexif()
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    except Exception:  # damaged EXIF
        return True
    tags = (*PRIVATE_IFD0_TAGS, *PRIVATE_BLOCK_TAGS, ExifTags.IFD.GPSInfo)
    return bool(gps) or any(tag in exif for tag in tags) or any(t in sub for t in PRIVATE_EXIF_TAGS)


def shareable_exif(raw: bytes) -> bytes:
    """``raw`` EXIF (with or without its ``Exif\\0\\0`` header) without the GPS block and the
    :data:`PRIVATE_IFD0_TAGS` and :data:`PRIVATE_EXIF_TAGS`, as ``Exif\\0\\0`` + TIFF data.

    The embedded thumbnail (IFD1) is not written either: it may show the photo before it
    was cropped; nor is the Interop pointer, whose offset Pillow does not rewrite. EXIF
    that cannot be read becomes none at all (b"").
    """
    exif = Image.Exif()
    try:
        exif.load(raw)
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        sub.pop(ExifTags.IFD.Interop, None)
        for tag in PRIVATE_EXIF_TAGS:
            sub.pop(tag, None)
        for tag in (*PRIVATE_IFD0_TAGS, ExifTags.IFD.GPSInfo):
            exif.pop(tag, None)
        return exif.tobytes()
    except Exception:  # damaged EXIF: nothing of it is worth the risk of keeping
        return b""
