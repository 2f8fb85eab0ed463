"""Text inside images (OCR), optional and off by default: RapidOCR's ONNX models.

The detector and recogniser (PP-OCRv6 small: Chinese, English and digits, with the spaces
between words) and the angle classifier ship inside the ``rapidocr`` wheel, run by ONNX
Runtime, so OCR works offline; the package is imported only when an ingest asks for OCR.
Each image is bounded twice: shrunk to :data:`OCR_MAX_SIDE` pixels on its long side (text
is detected on at most :data:`DETECT_SIDE`, read from the full crop), and stopped once it
has run ``Limits.ocr_seconds`` (checked after detection and between recognition batches).
An image whose OCR runs out of time is still indexed, without text, and the ingest report
says so.

What is read becomes the item's ``ocr_text``: plain metadata, so the caption vectors (the
text side, :mod:`mmdemo.ingest.caption_vectors`) and any lexical index can read it like a
caption. PDF pages with a text layer keep that text and are not read; DICOM pixels are
never read (they may show patient data).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.errors import MissingPackageError
from mmdemo.ingest import formats
from mmdemo.ingest.images import DecodedImage

#: The metadata key of the text read from an image.
OCR_KEY = "ocr_text"
#: The long side, in pixels, an image is shrunk to before OCR (RapidOCR's own default).
OCR_MAX_SIDE = 2000
#: The long side the text detector sees (RapidOCR's default scales the short side up to
#: 736, which made a 900 x 300 screenshot 1.6 MP: bench/ocr_words.py measured both).
DETECT_SIDE = 1280
_SETTINGS = {
    "Global.log_level": "error",
    "Global.max_side_len": OCR_MAX_SIDE,
    "Det.limit_type": "max",
    "Det.limit_side_len": DETECT_SIDE,
}
#: Text lines recognised between two looks at the clock.
_LINES_PER_STEP = 12
_ENGINE_LOCK = threading.Lock()
_ENGINE: list[Any] = []


@dataclass(frozen=True)
class Reading:
    """What OCR made of one image: the text in reading order, and whether the time bound
    stopped it first (then ``text`` is empty: a partial reading is not kept)."""

    text: str
    stopped: bool = False


def _engine() -> Any:
    """The RapidOCR engine, built once per process (its three ONNX sessions load on first
    use, about 1 s)."""
    with _ENGINE_LOCK:
        if not _ENGINE:
            try:
                from rapidocr import RapidOCR
            except ImportError as exc:
                raise MissingPackageError(
                    "OCR needs the rapidocr package: pip install -r requirements.txt."
                ) from exc
            _ENGINE.append(RapidOCR(params=_SETTINGS))
        return _ENGINE[0]


def _bounded(image: Image.Image) -> np.ndarray:
    """The image as the BGR array RapidOCR expects, its long side at most OCR_MAX_SIDE."""
    rgb = image.convert("RGB")
    if max(rgb.size) > OCR_MAX_SIDE:
        rgb = rgb.copy()
        rgb.thumbnail((OCR_MAX_SIDE, OCR_MAX_SIDE), Image.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])


def _lines(engine: Any, crops: list[np.ndarray]) -> list[str]:
    """The text of each cropped line confident enough to keep, in the crops' order."""
    from rapidocr.main import RapidOCRError

    try:
        turned, _ = engine.cls_and_rotate(crops)
        read = engine.recognize_txt(turned)
    except RapidOCRError:  # RapidOCR's way of saying "nothing recognised"
        return []
    pairs = zip(read.txts or (), read.scores, strict=False)
    return [str(text) for text, score in pairs if float(score) >= engine.text_score]


def read_text(image: Image.Image, seconds: float, max_chars: int) -> Reading:
    """The text found in ``image``, lines in reading order joined by spaces and cut at
    ``max_chars`` on a word boundary; stopped (no text) past ``seconds`` of work."""
    from rapidocr.main import RapidOCRError

    engine = _engine()
    start = time.perf_counter()
    pixels, record = engine.preprocess_img(_bounded(image))
    try:
        crops, _ = engine.detect_and_crop(pixels, record)
    except RapidOCRError:  # no text detected
        return Reading("")
    lines: list[str] = []
    for first in range(0, len(crops), _LINES_PER_STEP):
        if time.perf_counter() - start > seconds:
            return Reading("", stopped=True)
        lines += _lines(engine, crops[first : first + _LINES_PER_STEP])
    if time.perf_counter() - start > seconds:
        return Reading("", stopped=True)
    words = " ".join(" ".join(lines).split())
    if len(words) > max_chars:
        words = words[:max_chars].rsplit(" ", 1)[0]
    return Reading(words)


def wants_reading(decoded: DecodedImage, source: str, own: Mapping[str, Any]) -> bool:
    """Whether OCR should read this image: not a PDF page that has a text layer (its
    caption is that text), not a format whose pixels must not be read (DICOM)."""
    found = formats.named(decoded.format)
    if found is not None and not found.reads_text:
        return False
    return not (source == "pdf" and own.get("caption"))


def stopped_reason(seconds: float) -> str:
    """The report's sentence for an image whose OCR ran out of time."""
    return (
        f"OCR stopped at its bound of {seconds:g} s per image (MMDEMO_MAX_OCR_SECONDS); "
        "indexed without its text"
    )
