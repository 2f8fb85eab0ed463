"""Captioned image sets built from offline sources, for training and benchmarking lite models.

- ``tux``: Tux Paint stamps (Debian ``tuxpaint-stamps-default``, GPL-2+), keeping the photo
  cut-outs only (no ``symbols/`` or ``cartoon`` folders, no SVG, at least
  ``MIN_PHOTO_COLOURS`` distinct colours); each is put on a white page like a product photo
  and captioned with the English line of its ``.txt`` file. Split by a hash of the caption
  into train / dev / test, so no caption (concept) is in two splits.
- ``photos``: the 14 scikit-image / scikit-learn photos of ``assets/demos/photos`` with
  their captions (test only).
- ``emoji``: npm ``emoji-datasource-google`` PNGs named by their Unicode names (train only).
- ``clipart``: Debian ``openclipart-svg`` drawings, rendered with ``rsvg-convert``, captioned
  by title and keywords (train only).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mmdemo.demos import PHOTOS_DIR, SAMPLE_PHOTOS

REPO = Path(__file__).resolve().parents[1]
MIN_PHOTO_COLOURS = 1500
SPLIT_SHARES = (("train", 0.5), ("dev", 0.2), ("test", 0.3))


@dataclass(frozen=True)
class Item:
    """One captioned image: ``path`` is a PNG/JPEG file readable by PIL."""

    item_id: str
    path: Path
    caption: str


def split_of(key: str) -> str:
    """Stable split name for ``key`` from its sha1, in the shares of ``SPLIT_SHARES``."""
    unit = int(hashlib.sha1(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    edge = 0.0
    for name, share in SPLIT_SHARES:
        edge += share
        if unit <= edge:
            return name
    return SPLIT_SHARES[-1][0]


def _distinct_colours(path: Path) -> int:
    with Image.open(path) as image:  # the alpha channel itself is measured here
        rgba = np.asarray(image.convert("RGBA"))
    opaque = rgba[..., 3] > 128
    return len(np.unique(rgba[..., :3][opaque], axis=0)) if opaque.any() else 0


def tux_items(share_dir: Path, split: str) -> list[Item]:
    """Photo-like Tux Paint stamps of one split (see the module docstring)."""
    root = share_dir / "tuxpaint" / "stamps"
    items = []
    for png in sorted(root.rglob("*.png")):
        rel = png.relative_to(root).as_posix()
        text = png.with_suffix(".txt")
        if rel.startswith("symbols/") or "cartoon" in rel or rel.endswith("_mirror.png"):
            continue
        if not text.is_file():
            continue
        caption = text.read_text(encoding="utf-8", errors="replace").splitlines()[0].strip()
        # The cheap split test first: counting colours decodes the whole stamp.
        if not caption or split_of(caption.lower()) != split:
            continue
        if _distinct_colours(png) >= MIN_PHOTO_COLOURS:
            items.append(Item(f"tux:{rel}", png, caption))
    return items


def photo_items() -> list[Item]:
    """The 14 scikit-image / scikit-learn photos of the photos demo and their captions
    (the same set since before the demos grew, so figures stay comparable)."""
    with (PHOTOS_DIR / "captions.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["file_name"] in SAMPLE_PHOTOS]
    return [
        Item(f"photo:{r['file_name']}", PHOTOS_DIR / r["file_name"], r["caption"]) for r in rows
    ]


def emoji_items(emoji_dir: Path) -> list[Item]:
    """Google emoji PNGs (64 px) captioned by their lower-cased Unicode names."""
    rows = json.loads((emoji_dir / "emoji.json").read_text(encoding="utf-8"))
    items = []
    for row in rows:
        path = emoji_dir / "img" / "google" / "64" / row["image"]
        if row.get("has_img_google") and path.is_file() and row.get("name"):
            items.append(Item(f"emoji:{row['image']}", path, row["name"].lower()))
    return items


def _svg_caption(svg: Path) -> str:
    text = svg.read_text(encoding="utf-8", errors="replace")
    titles = [t for t in re.findall(r"<dc:title>([^<]*)</dc:title>", text) if t.strip()]
    keywords = re.findall(r"<rdf:li>([^<]*)</rdf:li>", text)
    title = titles[0].strip() if titles else svg.stem.replace("_", " ")
    return ", ".join(dict.fromkeys([title, *[k.strip() for k in keywords[:6] if k.strip()]]))


def clipart_items(
    share_dir: Path, cache_dir: Path, limit: int, size: int = 256, skip: int = 0
) -> list[Item]:
    """Up to ``limit`` openclipart drawings rendered to PNG in ``cache_dir`` (cached),
    after the first ``skip`` of the fixed hash order (those lite was trained on are the
    first 2998)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    svgs = sorted((share_dir / "openclipart" / "svg").rglob("*.svg"))
    svgs = sorted(svgs, key=lambda p: hashlib.sha1(p.name.encode()).hexdigest())[
        skip : skip + limit
    ]
    items = []
    for svg in svgs:
        png = cache_dir / (hashlib.sha1(str(svg).encode()).hexdigest()[:16] + ".png")
        if not png.is_file():
            result = subprocess.run(
                [
                    "rsvg-convert",
                    "-w",
                    str(size),
                    "-h",
                    str(size),
                    "-a",
                    "-b",
                    "white",
                    "-o",
                    str(png),
                    str(svg),
                ],
                capture_output=True,
                timeout=20,
                check=False,
            )
            if result.returncode != 0:
                continue
        items.append(Item(f"clipart:{svg.name}", png, _svg_caption(svg)))
    return items


def load_image(item: Item) -> Image.Image:
    """The image of ``item`` as RGB on a white page, through the app's one decoder."""
    from mmdemo.ingest.images import load_image as decode

    return decode(item.path)
