"""Fixtures for the formats of issue 26, generated here or shipped by a package (never
downloaded): HEIC/AVIF photos with camera EXIF, DICOM files from pydicom's own test data
(with planted patient data), and images of rendered text for OCR."""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imagefactory import BLUE, RED, encode

#: The camera metadata every generated photo carries, and what items should make of it.
TAKEN = "2021:06:14 09:30:05"
MAKE, MODEL, LENS = "Apple", "iPhone 13 mini", "iPhone 13 mini back dual wide camera 5.1mm f/1.6"
LAT, LON = (48.0, 51.0, 29.88), (2.0, 17.0, 40.2)  # Paris, 48.8583 N 2.2945 E
EXPECTED = {
    "taken": "2021-06-14T09:30:05",
    "camera": "Apple iPhone 13 mini",
    "lens": LENS,
    "lat": 48.8583,
    "lon": 2.2945,
}


def camera_exif(orientation: int = 1, taken: str = TAKEN, gps: bool = True) -> Image.Exif:
    """EXIF as a phone writes it: make, model, orientation, DateTimeOriginal, lens, GPS."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0x0112] = MAKE, MODEL, orientation
    sub = exif.get_ifd(0x8769)
    sub[0x9003], sub[0xA434] = taken, LENS
    if gps:
        position = exif.get_ifd(0x8825)
        position.update({1: "N", 2: LAT, 3: "E", 4: LON})
    return exif


def sideways(size: tuple[int, int] = (64, 32)) -> Image.Image:
    """Red on the left half, blue on the right: which way it was turned can be read back."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image


def photo(image_format: str, orientation: int = 1, **exif_options: Any) -> bytes:
    """A ``sideways`` photo as HEIF, AVIF or JPEG with the camera's EXIF."""
    if image_format == "HEIF":
        import pillow_heif

        pillow_heif.register_heif_opener()
    exif = camera_exif(orientation, **exif_options)
    return encode(sideways(), image_format, quality=90, exif=exif.tobytes())


def heic_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small HEIC whose header claims ``width`` x ``height`` pixels (its ispe box; a
    square of whole coding blocks, so no clean-aperture box crops the claim back)."""
    photo("HEIF")  # registers the encoder
    data = bytearray(encode(Image.new("RGB", (64, 64), RED), "HEIF", quality=50))
    at = data.index(b"ispe") + 8  # box type, then version and flags
    data[at : at + 8] = width.to_bytes(4, "big") + height.to_bytes(4, "big")
    return bytes(data)


def dicom_path(name: str) -> Path:
    """A DICOM file pydicom ships in its wheel (never one it would download)."""
    from pydicom.data import get_testdata_file

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        found = get_testdata_file(name, download=False)
    assert found is not None, f"pydicom does not ship {name}"
    return Path(str(found))


def dicom_bytes(name: str, **changes: Any) -> bytes:
    """A shipped DICOM file with some attributes changed (keyword -> value; None deletes),
    or ``TransferSyntaxUID`` set in its file meta."""
    import pydicom

    ds = pydicom.dcmread(dicom_path(name))
    for keyword, value in changes.items():
        if keyword == "TransferSyntaxUID":
            ds.file_meta.TransferSyntaxUID = value
        elif value is None:
            delattr(ds, keyword)
        else:
            setattr(ds, keyword, value)
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=False)
    return out.getvalue()


def text_image(lines: list[str], size: int = 28, width: int = 900) -> Image.Image:
    """Black text on white, one line per entry, in Pillow's own scalable font."""
    font = ImageFont.load_default(size=size)
    image = Image.new("RGB", (width, 40 + int(size * 1.8) * len(lines)), "white")
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((24, 20 + int(size * 1.8) * row), line, fill="black", font=font)
    return image


def noise(seed: int, size: tuple[int, int] = (64, 48)) -> Image.Image:
    """A distinct random image."""
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(pixels)
