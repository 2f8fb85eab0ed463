"""An item's own metadata, assembled: what its file says, what its source says, its
captions CSV row and the text OCR read, and the rules over them.

The file's fields (camera EXIF, :mod:`mmdemo.ingest.formats.exif`; DICOM's allow-list) come
first, then the source's (a PDF page's text, a dataset row's columns), then the captions
CSV row, found by file name or by another name the file goes by (a DICOM SOPInstanceUID),
each winning over the one before: the user named it explicitly. A photo's GPS position
is dropped in multi-visitor mode unless the operator allows it (``MMDEMO_ALLOW_GPS``);
every date gets the number it is compared by (:mod:`mmdemo.dates`); with OCR on, the text
read from the image is ``ocr_text`` (:mod:`mmdemo.ingest.ocr`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mmdemo import dates
from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.filters import Condition
from mmdemo.ingest import ocr
from mmdemo.ingest.captions import Captions
from mmdemo.ingest.entries import Rejection, SourceItem
from mmdemo.ingest.formats.dicom import KEPT as DICOM_KEPT
from mmdemo.ingest.formats.exif import CAMERA_KEYS
from mmdemo.ingest.images import DecodedImage
from mmdemo.records import GPS_KEYS

#: An item's own fields that its search results carry beside file name and caption, for
#: the detail panel and the API: camera EXIF, DICOM's kept attributes, the text OCR read.
RESULT_FIELDS = (
    *CAMERA_KEYS,
    *GPS_KEYS,
    *DICOM_KEPT.values(),
    "frames",
    ocr.OCR_KEY,
)


def result_fields(keeps_gps: bool) -> tuple[str, ...]:
    """The item fields a search result carries: :data:`RESULT_FIELDS`, less a photo's
    position where GPS is not kept (``Settings.keeps_gps``). Items stored before, by the
    operator in single-user mode, may hold one; a visitor of the same data dir never sees
    it."""
    return RESULT_FIELDS if keeps_gps else tuple(k for k in RESULT_FIELDS if k not in GPS_KEYS)


def check_shareable(where: tuple[Condition, ...], keeps_gps: bool) -> None:
    """Refuse a metadata condition on a photo's position where GPS is not kept: a filter
    such as ``lat>48.8`` would tell, one search at a time, where a photo was taken."""
    named = sorted({condition.key for condition in where} & set(GPS_KEYS))
    if named and not keeps_gps:
        raise InputError(
            f"Photo positions ({', '.join(named)}) are not shared on this server: "
            "filter on another field."
        )


def item_details(
    from_file: Mapping[str, Any],
    from_source: Mapping[str, Any],
    from_csv: Mapping[str, Any],
    *,
    keep_gps: bool,
) -> dict[str, Any]:
    """The file's, the source's and the CSV row's fields, each winning over the one before;
    the file's GPS position only when ``keep_gps``; every date with its number companion."""
    kept = {k: v for k, v in from_file.items() if keep_gps or k not in GPS_KEYS}
    return dates.with_companions({**kept, **from_source, **from_csv})


def csv_row(captions: Captions, file_name: str, aliases: tuple[str, ...]) -> dict[str, Any]:
    """The captions CSV row of a file: by its name, else by one of its aliases."""
    for name in (file_name, *aliases):
        if name in captions.by_name:
            return dict(captions.by_name[name])
    return {}


def describe(
    entry: SourceItem,
    decoded: DecodedImage,
    *,
    captions: Captions,
    settings: Settings,
    read_text: bool,
    warnings: list[Rejection],
) -> dict[str, Any]:
    """One decoded item's own metadata; with ``read_text``, the text OCR finds in it, or a
    warning in ``warnings`` when OCR ran out of time (the item is indexed without text)."""
    own = entry.details()
    row = csv_row(captions, entry.file_name, decoded.aliases)
    details = item_details(decoded.details, own, row, keep_gps=settings.keeps_gps)
    if read_text and ocr.wants_reading(decoded, entry.source, own):
        limits = settings.limits
        reading = ocr.read_text(decoded.image, limits.ocr_seconds, limits.caption_chars)
        if reading.stopped:
            warnings.append(Rejection(entry.origin, ocr.stopped_reason(limits.ocr_seconds)))
        elif reading.text:
            details[ocr.OCR_KEY] = reading.text
    return details
