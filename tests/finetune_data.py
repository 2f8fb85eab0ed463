"""A small captioned image folder for fine-tuning tests (library, CLI and browser)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image

COLOUR_WORDS = ("red", "blue", "green", "black")
THING_WORDS = ("car", "cat", "dog", "cup", "hat", "box")


def write_captioned(folder: Path, count: int = 24) -> tuple[Path, Path]:
    """``count`` distinct patterned PNGs and a captions CSV (one caption per image).

    Each caption names a colour and a thing; the image is that colour with a seeded noise
    pattern, so every file has its own bytes. Returns (image folder, captions CSV).
    """
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    palette = {
        "red": (220, 30, 30),
        "blue": (30, 40, 210),
        "green": (30, 190, 50),
        "black": (10, 10, 10),
    }
    rows = []
    for i in range(count):
        colour = COLOUR_WORDS[i % len(COLOUR_WORDS)]
        thing = THING_WORDS[i % len(THING_WORDS)]
        pixels = np.clip(np.array(palette[colour]) + rng.integers(-25, 25, (40, 48, 3)), 0, 255)
        name = f"img{i:02d}.png"
        Image.fromarray(pixels.astype(np.uint8)).save(images / name)
        rows.append({"file_name": name, "caption": f"a {colour} {thing} number {i}"})
    captions = folder / "captions.csv"
    pd.DataFrame(rows).to_csv(captions, index=False)
    return images, captions
