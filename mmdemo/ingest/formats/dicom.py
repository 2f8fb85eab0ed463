"""DICOM images: ``.dcm`` files and files with the ``DICM`` preamble, read with pydicom
(pylibjpeg plugins decode the JPEG, JPEG-LS, JPEG 2000 and RLE transfer syntaxes).

Pixels become what a viewer shows: the modality LUT (rescale) applied, then the VOI LUT,
else the first window (WindowCenter/WindowWidth), else the 1st to 99th percentile
stretched to 0..255; MONOCHROME1 inverted; RGB, YBR and palette colour as RGB. A
multi-frame image is indexed as its middle frame, with ``frames`` and ``frame`` (1-based)
in its metadata. A file without pixel data, with a transfer syntax nothing here decodes,
or marked as having patient data burned into its pixels is rejected with that reason.

Patient data never leaves the file: only the attributes of :data:`KEPT` are read out
(and SOPInstanceUID, only to join a captions CSV, never stored); the stored copy is a PNG
rendering of the pixels, never the file itself.
"""

from __future__ import annotations

import io
import re
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.dates import parse_span
from mmdemo.errors import ImageRejected
from mmdemo.ingest.formats.base import ImageFormat, OwnDecoded

#: The only attributes whose values leave the file: DICOM keyword -> metadata key.
KEPT = {
    "Modality": "modality",
    "BodyPartExamined": "body_part",
    "StudyDescription": "study_description",
    "SeriesDescription": "series_description",
    "StudyDate": "study_date",
    "Manufacturer": "manufacturer",
}
#: Attributes a captions CSV may name an item by; used for the join and then dropped.
JOIN_KEYS = ("SOPInstanceUID",)
_PREAMBLE = 128
_MAX_TEXT = 200
_MODALITIES = {
    "CR": "computed radiography",
    "CT": "computed tomography",
    "DX": "digital radiography",
    "ES": "endoscopy",
    "IO": "intra-oral radiography",
    "MG": "mammography",
    "MR": "magnetic resonance",
    "NM": "nuclear medicine",
    "OP": "ophthalmic photography",
    "OT": "other",
    "PT": "positron emission tomography",
    "PX": "panoramic X-ray",
    "RF": "radiofluoroscopy",
    "SC": "secondary capture",
    "SM": "slide microscopy",
    "US": "ultrasound",
    "XA": "X-ray angiography",
    "XC": "external camera photography",
}
_PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def _is_dicom(data: bytes) -> bool:
    return data[_PREAMBLE : _PREAMBLE + 4] == b"DICM"


def _read(data: bytes) -> Any:
    """The dataset; ``force`` reads files written without the preamble too."""
    import pydicom

    try:
        return pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception as exc:  # pydicom raises many types for a damaged header
        raise ImageRejected("corrupt or truncated DICOM file") from exc


def _transfer_syntax(ds: Any) -> Any:
    """The file's transfer syntax; one a file without meta information implies."""
    from pydicom.uid import UID, ExplicitVRLittleEndian, ImplicitVRLittleEndian

    given = getattr(ds, "file_meta", None) and ds.file_meta.get("TransferSyntaxUID")
    if given:
        return UID(str(given))
    implicit, _ = getattr(ds, "original_encoding", (True, True))
    syntax = ImplicitVRLittleEndian if implicit is not False else ExplicitVRLittleEndian
    ds.file_meta = getattr(ds, "file_meta", None) or _file_meta()
    ds.file_meta.TransferSyntaxUID = syntax
    return syntax


def _file_meta() -> Any:
    from pydicom.dataset import FileMetaDataset

    return FileMetaDataset()


def _check_decodable(ds: Any) -> None:
    """Refuse what cannot be shown: no pixels, burned-in patient data, no decoder."""
    from pydicom.pixels import get_decoder

    if not any(keyword in ds for keyword in _PIXEL_KEYWORDS):
        modality = str(ds.get("Modality") or "").strip()
        kind = f" (a {modality} object)" if modality else ""
        raise ImageRejected(f"DICOM file without pixel data{kind}")
    if str(ds.get("BurnedInAnnotation") or "").strip().upper() == "YES":
        raise ImageRejected("DICOM image with burned-in annotation (patient data in the pixels)")
    syntax = _transfer_syntax(ds)
    try:
        available = get_decoder(syntax).is_available
    except (NotImplementedError, ValueError):  # no decoder, or not a transfer syntax pydicom knows
        available = False
    if not available:
        raise ImageRejected(f"DICOM transfer syntax {syntax.name} cannot be decoded here")


def _first(value: Any) -> float | None:
    """The first number of a (possibly multi-valued) attribute, None when not a number."""
    if value is not None and not isinstance(value, str | bytes | int | float):
        value = value[0] if len(value) else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _window(values: np.ndarray, ds: Any) -> np.ndarray | None:
    """The first VOI window applied (PS3.3 C.11.2.1.2: LINEAR, LINEAR_EXACT, SIGMOID) as
    0..1, or None when the file has no usable window."""
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    if center is None or width is None or width <= 0:
        return None
    function = str(ds.get("VOILUTFunction") or "LINEAR").strip().upper()
    if function == "SIGMOID":
        return 1.0 / (1.0 + np.exp(-4.0 * (values - center) / width))
    if function == "LINEAR_EXACT":
        return np.clip((values - center) / width + 0.5, 0.0, 1.0)
    if width < 1:
        return None
    return np.clip((values - (center - 0.5)) / max(width - 1.0, 1.0) + 0.5, 0.0, 1.0)


def _voi_lut(values: np.ndarray, ds: Any) -> np.ndarray | None:
    """The first VOI LUT applied, as 0..1 of its output range; None without one."""
    from pydicom.pixels import apply_voi

    if "VOILUTSequence" not in ds or not ds.VOILUTSequence:
        return None
    bits = int(ds.VOILUTSequence[0].LUTDescriptor[2]) or 16
    mapped = apply_voi(np.rint(values).astype(np.int64), ds, index=0)
    unit: np.ndarray = np.clip(mapped.astype(np.float64) / (2**bits - 1), 0.0, 1.0)
    return unit


def _stretched(values: np.ndarray) -> np.ndarray:
    """The 1st to 99th percentile as 0..1 (the full range when those meet)."""
    low, high = (float(v) for v in np.percentile(values, [1, 99]))
    if high <= low:
        low, high = float(values.min()), float(values.max())
    span = high - low
    return np.clip((values - low) / span, 0.0, 1.0) if span else np.zeros_like(values)


def _grey(pixels: np.ndarray, ds: Any) -> np.ndarray:
    """A greyscale frame as 8-bit display values."""
    from pydicom.pixels import apply_modality_lut

    values = np.asarray(apply_modality_lut(pixels, ds), dtype=np.float64)
    values = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
    shown = _voi_lut(values, ds)
    if shown is None:
        shown = _window(values, ds)
    if shown is None:
        shown = _stretched(values)
    if str(ds.get("PhotometricInterpretation") or "").strip() == "MONOCHROME1":
        shown = 1.0 - shown
    return np.rint(shown * 255.0).astype(np.uint8)


def _colour(pixels: np.ndarray, ds: Any) -> np.ndarray:
    """A colour frame (RGB, YBR already converted, or palette colour) as 8-bit RGB."""
    from pydicom.pixels import apply_color_lut

    if str(ds.get("PhotometricInterpretation") or "").strip() == "PALETTE COLOR":
        pixels = apply_color_lut(pixels, ds)
        bits = int(ds.RedPaletteColorLookupTableDescriptor[2]) or 16
    else:
        bits = int(ds.get("BitsStored") or ds.get("BitsAllocated") or 8)
    if pixels.dtype == np.uint8 and bits <= 8:
        return pixels
    scaled = pixels.astype(np.float64) * (255.0 / (2 ** min(bits, 32) - 1))
    eight_bit: np.ndarray = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
    return eight_bit


def _frame(ds: Any, frames: int) -> np.ndarray:
    """The decoded middle frame (the only one of a single-frame file)."""
    from pydicom.pixels import pixel_array

    try:
        return pixel_array(ds, index=(frames - 1) // 2 if frames > 1 else None)
    except Exception as exc:  # decoders raise many types for damaged or short pixel data
        raise ImageRejected("corrupt or truncated DICOM pixel data") from exc


def _text(value: Any) -> str:
    """An attribute's value as one line of plain text, bounded."""
    text = re.sub(r"[\x00-\x1f\x7f]+", " ", str(value if value is not None else ""))
    return " ".join(text.split())[:_MAX_TEXT]


def kept_details(ds: Any) -> dict[str, Any]:
    """The allow-listed attributes (:data:`KEPT`) as metadata, StudyDate as an ISO date,
    and a caption built from the modality, body part and descriptions."""
    details: dict[str, Any] = {}
    for keyword, key in KEPT.items():
        value = _text(ds.get(keyword))
        if keyword == "StudyDate":
            value = (
                f"{value[:4]}-{value[4:6]}-{value[6:8]}" if re.fullmatch(r"\d{8}", value) else ""
            )
            value = value if value and parse_span(value) else ""
        if value:
            details[key] = value
    modality = details.get("modality", "")
    name = _MODALITIES.get(modality.upper())
    head = f"{name} ({modality})" if name else modality
    head = " ".join(p for p in (head, details.get("body_part", "").lower()) if p)
    said = [details[k] for k in ("study_description", "series_description") if k in details]
    caption = head + (": " if head and said else "") + "; ".join(said)
    if caption:
        details["caption"] = caption
    return details


def decode(data: bytes, max_pixels: int) -> OwnDecoded:
    """A DICOM file's display image (its middle frame), kept metadata and join keys."""
    ds = _read(data)
    _check_decodable(ds)
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    if rows * columns > max_pixels:
        raise ImageRejected(f"too many pixels ({columns} x {rows} > {max_pixels:,})")
    frames = max(1, int(_first(ds.get("NumberOfFrames")) or 1))
    pixels = _frame(ds, frames)
    palette = str(ds.get("PhotometricInterpretation") or "").strip() == "PALETTE COLOR"
    colour = palette or int(ds.get("SamplesPerPixel") or 1) > 1
    shown = _colour(pixels, ds) if colour else _grey(pixels, ds)
    image = Image.fromarray(shown).convert("RGB")
    details = kept_details(ds)
    if frames > 1:
        details.update(frames=frames, frame=(frames - 1) // 2 + 1)
    aliases = tuple(_text(ds.get(k)) for k in JOIN_KEYS if _text(ds.get(k)))
    return OwnDecoded(image, image.width, image.height, details, aliases)


DICOM = ImageFormat(
    "DICOM",
    frozenset({".dcm", ".dicom"}),
    _is_dicom,
    ".png",
    decode=decode,
    stored_as="PNG",
    reads_text=False,
)
