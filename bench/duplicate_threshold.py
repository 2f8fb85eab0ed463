"""Choose the near-duplicate threshold on measured data.

Positives: each sample photo (the 14 of ``assets/demos/photos``) against its own edited
copies (resized to half, re-encoded as JPEG quality 50, centre-cropped to 90 % and to
75 %). Negatives: every pair of distinct images: the sample photos plus, with
``--share-dir``, the photo-like Tux Paint stamps of every split. Prints, per model, the
lowest similarity of each kind of copy and the highest similarity between distinct
images, and the threshold midway between the weakest copy kind still kept apart and the
closest distinct pair.

    python -m bench.duplicate_threshold --model lite --share-dir /work/data/root/usr/share
"""

from __future__ import annotations

import argparse
import io
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from bench.offline_data import load_image, photo_items, tux_items


def _jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=50)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _crop(share: float) -> Callable[[Image.Image], Image.Image]:
    def crop(image: Image.Image) -> Image.Image:
        w, h = image.size
        dw, dh = int(w * (1 - share) / 2), int(h * (1 - share) / 2)
        return image.crop((dw, dh, w - dw, h - dh))

    return crop


EDITS: dict[str, Callable[[Image.Image], Image.Image]] = {
    "resized 50%": lambda im: im.resize((im.width // 2, im.height // 2)),
    "jpeg q50": _jpeg,
    "crop 90%": _crop(0.9),
    "crop 75%": _crop(0.75),
}


#: Candidate thresholds the table reports.
CANDIDATES = (0.85, 0.875, 0.9, 0.925, 0.95, 0.975)


def measure(model: str, share_dir: Path | None) -> None:
    """Print, per candidate threshold, the share of each kind of copy found and the
    number of distinct pairs wrongly joined; list the distinct pairs above the highest."""
    from mmdemo.config import Settings
    from mmdemo.ingest.images import fit_for_models
    from mmdemo.models.loading import load_embedder

    embedder = load_embedder(model, Settings.from_env())
    items = photo_items()
    if share_dir is not None:
        items += [i for split in ("train", "dev", "test") for i in tux_items(share_dir, split)]
    images = [fit_for_models(load_image(item)) for item in items]
    originals = embedder.encode_images(images)
    upper = np.triu(originals @ originals.T, k=1)
    pairs = len(items) * (len(items) - 1) // 2
    photos = len(photo_items())
    found = {
        name: np.sum(
            embedder.encode_images([edit(p) for p in images[:photos]]) * originals[:photos], axis=1
        )
        for name, edit in EDITS.items()
    }
    print(
        f"{model}: {len(items)} distinct files ({pairs} pairs), {photos} photos, {len(EDITS)} edits"
    )
    print("threshold | " + " | ".join(found) + " | distinct pairs above")
    for t in CANDIDATES:
        shares = " | ".join(f"{np.mean(sims >= t):.2f}" for sims in found.values())
        print(f"{t} | {shares} | {int(np.sum(upper >= t))}")
    for a, b in zip(*np.nonzero(upper >= CANDIDATES[-1]), strict=True):
        print(f"  distinct pair {upper[a, b]:.4f}: {items[a].item_id} ~ {items[b].item_id}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", action="append", help="embedder (repeatable; default lite)")
    parser.add_argument("--share-dir", type=Path, help="usr/share holding tuxpaint/")
    args = parser.parse_args()
    for model in args.model or ["lite"]:
        measure(model, args.share_dir)


if __name__ == "__main__":
    main()
