"""Near-duplicate threshold and fingerprint constants, chosen on measured data.

Sets ``DEFAULT_THRESHOLD``, ``FINGERPRINT_FLOOR`` and ``FINGERPRINT_DISTANCE`` in
``mmdemo/evaluate/duplicates.py``.

Positives: each sample photo (the 14 of ``assets/demos/photos``) against its own edited
copies (resized to half; resized to 60 % and saved as JPEG quality 60; re-encoded as JPEG
quality 50; centre-cropped to 90 % and to 75 %). Negatives: every pair of distinct images: the demo
photos plus, with ``--share-dir``, the photo-like Tux Paint stamps of every split (pairs of
pixel-identical files in two folders are true copies, left out). Prints, per model (every
offline model by default), the share of each kind of copy found per candidate threshold and
the closest distinct pair; then the fingerprint distances of the re-encoded copies and of
distinct images; and last the values it sets: ``DEFAULT_THRESHOLD``, ``FINGERPRINT_FLOOR``
and ``FINGERPRINT_DISTANCE``.

    python -m bench.duplicate_threshold --share-dir /path/to/usr/share
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.offline_data import load_image, photo_items, tux_items


def _jpeg(quality: int) -> Callable[[Image.Image], Image.Image]:
    def encode(image: Image.Image) -> Image.Image:
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")

    return encode


def _resized(share: float) -> Callable[[Image.Image], Image.Image]:
    def resize(image: Image.Image) -> Image.Image:
        return image.resize((round(image.width * share), round(image.height * share)))

    return resize


def _crop(share: float) -> Callable[[Image.Image], Image.Image]:
    def crop(image: Image.Image) -> Image.Image:
        w, h = image.size
        dw, dh = int(w * (1 - share) / 2), int(h * (1 - share) / 2)
        return image.crop((dw, dh, w - dw, h - dh))

    return crop


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "resized 50%": _resized(0.5),
    "60% + jpeg q60": lambda im: _jpeg(60)(_resized(0.6)(im)),
    "jpeg q50": _jpeg(50),
    "crop 90%": _crop(0.9),
    "crop 75%": _crop(0.75),
}


#: Candidate thresholds the table reports.
CANDIDATES = (0.85, 0.875, 0.9, 0.925, 0.95, 0.975)
#: The copies a fingerprint must find (crops move it as much as a new picture does).
RE_ENCODED = ("resized 50%", "60% + jpeg q60", "jpeg q50")


def _same_pixels(images: list[Image.Image]) -> np.ndarray:
    """Upper-triangle mask of pairs of distinct files with identical pixels (true copies)."""
    digests = [hash(image.tobytes()) for image in images]
    same = np.array([[a == b for b in digests] for a in digests])
    return np.triu(same, k=1)


def measure(
    model: str, items: list[Any], images: list[Image.Image], twins: np.ndarray
) -> tuple[float, float]:
    """Print, per candidate threshold, the share of each kind of copy found and the number
    of distinct pairs wrongly joined; return the closest distinct pair's similarity and the
    weakest re-encoded copy's."""
    from mmdemo.config import Settings
    from mmdemo.models.loading import load_embedder

    embedder = load_embedder(model, Settings.from_env())
    originals = embedder.encode_images(images)
    upper = np.triu(originals @ originals.T, k=1)
    upper[twins] = 0.0
    photos = len(photo_items())
    found = {
        name: np.sum(
            embedder.encode_images([edit(p) for p in images[:photos]]) * originals[:photos], axis=1
        )
        for name, edit in EDITS.items()
    }
    pairs = len(items) * (len(items) - 1) // 2
    print(f"\n{model}: {len(items)} files ({pairs} pairs, {int(twins.sum())} pixel-identical)")
    print("threshold | " + " | ".join(found) + " | distinct pairs above")
    for t in CANDIDATES:
        shares = " | ".join(f"{np.mean(sims >= t):.2f}" for sims in found.values())
        print(f"{t} | {shares} | {int(np.sum(upper >= t))}")
    for name, sims in found.items():
        worst = int(np.argmin(sims))
        print(f"  weakest {name}: {sims[worst]:.4f} ({items[worst].item_id})")
    a, b = np.unravel_index(int(np.argmax(upper)), upper.shape)
    print(f"  closest distinct pair: {upper[a, b]:.4f} ({items[a].item_id} ~ {items[b].item_id})")
    weakest = min(float(found[name].min()) for name in RE_ENCODED)
    return float(upper.max()), weakest


def _stored_fingerprint(image: Image.Image) -> int:
    """The fingerprint the app takes: of the stored thumbnail (384 px, JPEG quality 85)."""
    from mmdemo.evaluate.fingerprints import fingerprint
    from mmdemo.ingest.images import make_thumbnail

    buffer = io.BytesIO()
    make_thumbnail(image).save(buffer, "JPEG", quality=85)
    return fingerprint(Image.open(io.BytesIO(buffer.getvalue())))


def measure_fingerprints(images: list[Image.Image], twins: np.ndarray) -> tuple[int, int]:
    """Print the fingerprint distance of each re-encoded copy kind (most) and of distinct
    images (least); return both."""
    from mmdemo.evaluate.fingerprints import distance

    prints = [_stored_fingerprint(image) for image in images]
    photos = len(photo_items())
    copies = {
        name: [
            distance(_stored_fingerprint(EDITS[name](image)), prints[n])
            for n, image in enumerate(images[:photos])
        ]
        for name in RE_ENCODED
    }
    rows, cols = np.nonzero(np.triu(~twins, k=1))
    apart = min(distance(prints[r], prints[c]) for r, c in zip(rows, cols, strict=True))
    print(
        "\nfingerprints (bits of 63): "
        + ", ".join(f"{n} at most {max(d)}" for n, d in copies.items())
    )
    print(f"  distinct images at least {apart} apart")
    return max(max(d) for d in copies.values()), apart


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", help="embedder (repeatable; default: offline)")
    parser.add_argument("--share-dir", type=Path, help="usr/share holding tuxpaint/")
    args = parser.parse_args()
    from mmdemo.ingest.images import fit_for_models
    from mmdemo.models import registry

    models = args.model or [p.key for p in registry.presets("embedder") if p.offline]
    items = photo_items()
    if args.share_dir is not None:
        items += [i for split in ("train", "dev", "test") for i in tux_items(args.share_dir, split)]
    images = [fit_for_models(load_image(item)) for item in items]
    twins = _same_pixels(images)
    figures = [measure(model, items, images, twins) for model in models]
    closest = max(f[0] for f in figures)
    weakest = min(f[1] for f in figures)
    copies, apart = measure_fingerprints(images, twins)
    threshold = next((t for t in CANDIDATES if t > closest), CANDIDATES[-1])
    floor = np.floor(weakest * 20) / 20
    print("\nmmdemo/evaluate/duplicates.py, over " + ", ".join(models) + ":")
    print(f"  DEFAULT_THRESHOLD = {threshold}  (lowest candidate above {closest:.4f}, the")
    print("    closest distinct pair)")
    print(f"  FINGERPRINT_FLOOR = {floor:.2f}  (below {weakest:.4f}, the weakest re-encoded copy)")
    print(f"  FINGERPRINT_DISTANCE = {(copies + apart) // 2}  (midway between copies, at most")
    print(f"    {copies}, and distinct images, at least {apart})")


if __name__ == "__main__":
    main()
