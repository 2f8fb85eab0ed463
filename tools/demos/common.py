"""What every demo builder writes: JPEGs, the captions CSV and the SOURCES file."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

#: New photos are shrunk to this long side (the demo is for looking, not for pixels).
LONG_SIDE = 1024
PHOTO_QUALITY = 85


def save_jpeg(image: Image.Image, path: Path, *, long_side: int | None, quality: int) -> None:
    """``image`` as an RGB JPEG at ``path``, shrunk to ``long_side`` when larger (None: kept).

    Pillow's encoder is deterministic for a given image, quality and Pillow version, so a
    rebuild with the pinned packages reproduces the committed bytes.
    """
    image = image.convert("RGB")
    if long_side is not None and max(image.size) > long_side:
        scale = long_side / max(image.size)
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    image.save(path, "JPEG", quality=quality)


def write_captions(path: Path, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """The captions CSV: a header, then one row per item, in the order given."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows(rows)


def write_sources(path: Path, intro: str, lines: Sequence[str]) -> None:
    """The SOURCES file: what the folder holds and how it was made, then one line per file
    (or group of files) with its origin and licence."""
    path.write_text(intro.strip() + "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")


def clear(folder: Path, patterns: Sequence[str]) -> None:
    """Remove what an earlier build wrote, so a dropped item does not linger."""
    folder.mkdir(parents=True, exist_ok=True)
    for pattern in patterns:
        for old in folder.glob(pattern):
            old.unlink()
