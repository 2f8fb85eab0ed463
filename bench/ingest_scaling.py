"""Ingest throughput and memory: does peak memory stay flat as the collection grows?

Each size runs in a fresh process (peak RSS only ever grows within one), indexing that
many generated JPEG photos-of-noise (640x480 by default, ``--width/--height`` to change)
with the chosen model into a fresh data dir.
Prints images/s and peak RSS per size, and the ratio of the largest run's peak to the
smallest's: near 1.0 means memory is flat in collection size.

    python -m bench.ingest_scaling --model lite --sizes 64 256
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from mmdemo.demos import PHOTOS_DIR, SAMPLE_PHOTOS

ROOT = Path(__file__).resolve().parents[1]


def make_images(folder: Path, count: int, width: int, height: int) -> None:
    """Write ``count`` distinct noisy JPEGs (distinct bytes, so nothing deduplicates)."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        pixels = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{i:05d}.jpg", quality=80)


def make_photos(folder: Path, count: int, width: int, height: int, seed: int = 0) -> None:
    """Write ``count`` distinct JPEGs cut from the 14 sample photos of assets/demos/photos.

    Each is a random crop (60-100 % of each side) of one photo, resized to ``width`` x
    ``height``, sometimes mirrored, saved at quality 85: what a photo costs to decode, hash
    and copy (noise JPEGs cost about twice as much to decode and are four times larger).
    Another ``seed`` gives other crops, so a second folder is not already stored.
    """
    rng = np.random.default_rng(seed)
    photos = []
    for path in sorted(PHOTOS_DIR / name for name in SAMPLE_PHOTOS):
        with Image.open(path) as opened:
            photos.append(opened.convert("RGB"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        photo = photos[i % len(photos)]
        w, h = (round(side * rng.uniform(0.6, 1.0)) for side in photo.size)
        left = int(rng.integers(0, photo.width - w + 1))
        top = int(rng.integers(0, photo.height - h + 1))
        crop = photo.crop((left, top, left + w, top + h))
        image = crop.resize((width, height), Image.Resampling.LANCZOS)
        if rng.random() < 0.5:
            image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        image.save(folder / f"photo{i:05d}.jpg", quality=85)


def peak_rss_mb() -> float:
    """This process's own peak resident memory, in MB.

    Linux's ``VmHWM``, not ``getrusage``'s ``ru_maxrss``: a child started with
    fork + exec inherits the parent's ``ru_maxrss``, so a child of a large bench process
    reported the parent's 11-15 GB peak for every size (a flat but meaningless 1.0x).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(size: int, model: str, width: int, height: int) -> dict[str, float]:
    """Index ``size`` images in this process; report time and peak memory."""
    from mmdemo.config import Settings
    from mmdemo.ingest.indexer import index_paths
    from mmdemo.models.loading import load_embedder
    from mmdemo.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        make_images(folder, size, width, height)
        settings = Settings.from_env(data_dir=Path(tmp) / "data")
        load_embedder(model, settings)
        baseline = peak_rss_mb()
        start = time.perf_counter()
        report = index_paths(
            [folder], collection="bench", models=[model], settings=settings, store=Store(settings)
        )
        seconds = time.perf_counter() - start
    peak = peak_rss_mb()
    return {
        "images": report.added,
        "seconds": round(seconds, 2),
        "images_per_s": round(report.added / seconds, 2),
        "peak_rss_mb": round(peak, 1),
        "rss_growth_mb": round(peak - baseline, 1),
    }


def main() -> None:
    """Run each size in a child process and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="lite")
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.model, args.width, args.height)))
        return
    rows = []
    command = [sys.executable, "-m", "bench.ingest_scaling", "--model", args.model]
    command += ["--width", str(args.width), "--height", str(args.height)]
    for size in args.sizes:
        out = subprocess.run(
            [*command, "--child", str(size)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(f"{size:6d} images: {rows[-1]}")
    ratio = rows[-1]["peak_rss_mb"] / rows[0]["peak_rss_mb"]
    print(f"peak RSS ratio, {args.sizes[-1]} vs {args.sizes[0]} images: {ratio:.3f}")


if __name__ == "__main__":
    main()
