"""Perceptual fingerprints of stored images, so a resized or re-encoded copy is found
whatever the model.

An embedding can move a lot under heavy JPEG compression: with the offline models a copy of
a fine-textured photo at 60 % size and JPEG quality 60 scores 0.70-0.78 against its original,
below pairs of distinct photos (up to 0.88; bench/duplicate_threshold.py). A DCT hash (the
sign of the 8 x 8 lowest frequencies of a 32 x 32 grey image against their median, as in
Zauner's pHash) barely moves under resizing and re-encoding (at most 4 of 63 bits) while distinct
images differ in 10 or more, so near-duplicates join on either signal. Crops still need the
embedding: they change a hash as much as a new picture does.

Each stored thumbnail is hashed once: ids are content hashes, so a fingerprint never goes
stale, and the cache under the data folder only grows with the collection.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PIL import Image

from mmdemo.atomic import write_atomically
from mmdemo.config import Settings
from mmdemo.errors import ImageRejected
from mmdemo.ingest.copies import thumb_path
from mmdemo.ingest.images import load_image

#: The grey image's side, and the side of the block of lowest frequencies kept.
HASH_SIDE, LOW_SIDE = 32, 8


def fingerprint(image: Image.Image) -> int:
    """A 63-bit perceptual hash of ``image`` (the DC term, which is only brightness, left out)."""
    from scipy.fft import dctn

    grey = image.convert("L").resize((HASH_SIDE, HASH_SIDE), Image.Resampling.LANCZOS)
    low = dctn(np.asarray(grey, dtype=np.float32), norm="ortho")[:LOW_SIDE, :LOW_SIDE]
    bits = low.flatten()[1:] > np.median(low.flatten()[1:])
    return int("".join("1" if bit else "0" for bit in bits), 2)


def distance(first: int, second: int) -> int:
    """How many bits two fingerprints differ in (0: the same picture to the eye)."""
    return (first ^ second).bit_count()


def _cache_file(settings: Settings) -> Path:
    return settings.data_dir / "fingerprints" / "dct.json"


def _read_cache(path: Path) -> dict[str, int]:
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # no cache yet, or an unreadable one: hash afresh
    return {str(k): int(v) for k, v in found.items()} if isinstance(found, dict) else {}


def fingerprints(settings: Settings, ids: Iterable[str]) -> dict[str, int]:
    """The fingerprint of each of ``ids`` whose thumbnail is stored, from the cache or hashed
    now (and then cached). A missing or unreadable thumbnail has none."""
    path = _cache_file(settings)
    cache = _read_cache(path)
    wanted = list(dict.fromkeys(ids))
    new = {}
    for item_id in wanted:
        if item_id in cache:
            continue
        try:
            new[item_id] = fingerprint(load_image(thumb_path(settings, item_id)))
        except ImageRejected:
            continue  # no thumbnail (deleted meanwhile): the embedding alone decides
    if new:
        cache = {**_read_cache(path), **cache, **new}  # keep what another process added
        write_atomically(path, json.dumps(cache))
    return {item_id: cache[item_id] for item_id in wanted if item_id in cache}
