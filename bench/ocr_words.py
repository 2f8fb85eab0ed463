"""OCR quality and cost on generated images: words recovered, and ms per image.

Sets ``DETECT_SIDE`` in ``mmdemo/ingest/ocr.py``.

Renders charts (title, axis labels, legend, bar values), receipts (shop, items, prices,
totals) and screenshots (window title, menu, buttons, a form, a status line) with seeded
random words, in fonts found on the machine (Pillow's own scalable font, DejaVu Sans and
Liberation Sans when present) at text heights of 16, 20 and 28 px (12, 15 and 21 pt at
96 dpi: "12 pt or larger"), reads each through :func:`mmdemo.ingest.ocr.read_text`, and
prints, per kind and per size, the share of the drawn words found in what OCR read (each
drawn word counts once per occurrence; case and punctuation ignored) and the median ms per
image. ``--detect-sides`` compares detector input sizes (the long side RapidOCR's
detector sees) in the same process.

    python -m bench.ocr_words [--per-kind 8] [--detect-sides 1280 960 736] [--out FILE.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from mmdemo.ingest import ocr

_VOCABULARY = (
    "revenue region forecast quarter sales growth margin budget supplier invoice coffee "
    "pastry sandwich receipt cashier change total subtotal discount delivery station "
    "network password settings account profile window update install cancel confirm "
    "export import report monthly weekly warehouse battery storage display keyboard "
    "printer scanner harbour garden museum library airport ticket platform journey"
)
_WORDS = _VOCABULARY.split()
_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)
Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
#: An image and the words drawn on it.
Drawn = tuple[Image.Image, list[str]]
Draw = Callable[[random.Random, Font, int], Drawn]


def _fonts(size: int) -> dict[str, Font]:
    found = {"pillow": ImageFont.load_default(size=size)}
    for path in _FONT_FILES:
        if Path(path).is_file():
            found[Path(path).stem] = ImageFont.truetype(path, size)
    return found


def _phrase(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(_WORDS) for _ in range(n)).capitalize()


def _chart(rng: random.Random, font: Font, px: int) -> Drawn:
    image = Image.new("RGB", (1200, 800), "white")
    draw = ImageDraw.Draw(image)
    texts = [_phrase(rng, 4)]
    draw.text((60, 30), texts[0], fill="black", font=font)
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]
    for i in range(4):
        height = rng.randint(100, 450)
        x = 150 + i * 230
        draw.rectangle((x, 650 - height, x + 120, 650), fill=colours[i])
        value = f"{rng.randint(10, 999)}"
        label = rng.choice(_WORDS)
        draw.text((x + 20, 650 - height - px - 12), value, fill="black", font=font)
        draw.text((x + 10, 665), label, fill="black", font=font)
        texts += [value, label]
    draw.line((120, 100, 120, 650, 1150, 650), fill="black", width=2)
    legend = _phrase(rng, 2)
    draw.text((860, 100), legend, fill="#444444", font=font)
    return image, [*texts, legend]


def _receipt(rng: random.Random, font: Font, px: int) -> Drawn:
    lines = [_phrase(rng, 2).upper(), f"Receipt {rng.randint(1000, 9999)}"]
    for _ in range(rng.randint(6, 10)):
        lines.append(f"{rng.choice(_WORDS)} {rng.randint(1, 99)}.{rng.randint(0, 99):02d}")
    lines += [f"Total {rng.randint(100, 400)}.{rng.randint(0, 99):02d} EUR", "Thank you"]
    step = int(px * 1.7)
    image = Image.new("RGB", (700, 60 + step * len(lines)), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((40, 30 + step * row), line, fill=(30, 30, 30), font=font)
    return image, lines


def _screenshot(rng: random.Random, font: Font, px: int) -> Drawn:
    image = Image.new("RGB", (1280, 800), (240, 240, 244))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 1280, px + 24), fill=(52, 58, 70))
    title = _phrase(rng, 3)
    draw.text((20, 12), title, fill="white", font=font)
    texts = [title]
    for i in range(5):
        item = rng.choice(_WORDS).capitalize()
        draw.text((30, 90 + i * (px + 30)), item, fill=(20, 20, 20), font=font)
        texts.append(item)
    for i in range(3):
        label = _phrase(rng, 2)
        y = 110 + i * (px + 50)
        draw.text((330, y), label, fill=(20, 20, 20), font=font)
        draw.rectangle((700, y - 8, 1180, y + px + 8), fill="white", outline=(150, 150, 150))
        texts.append(label)
    for i, word in enumerate(("Cancel", "Confirm")):
        x = 880 + i * 180
        draw.rounded_rectangle((x, 620, x + 150, 620 + px + 24), 8, fill=(0, 102, 204))
        draw.text((x + 20, 632), word, fill="white", font=font)
        texts.append(word)
    status = _phrase(rng, 5)
    draw.text((20, 760), status, fill=(90, 90, 90), font=font)
    return image, [*texts, status]


KINDS: dict[str, Draw] = {"chart": _chart, "receipt": _receipt, "screenshot": _screenshot}


def _tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"[a-z0-9]+(?:[.,][0-9]+)?", text.lower()))


def recovered(drawn: list[str], read: str) -> tuple[int, int]:
    """(drawn words found in what was read, drawn words), each occurrence counted once."""
    want, got = _tokens(" ".join(drawn)), _tokens(read)
    return sum(min(n, got[w]) for w, n in want.items()), sum(want.values())


def run(per_kind: int, sizes: list[int], detect_side: int) -> dict[str, Any]:
    """Every kind x size x font, ``per_kind`` images each: recall and ms per image."""
    ocr.DETECT_SIDE = detect_side
    ocr._SETTINGS["Det.limit_side_len"] = detect_side
    ocr._ENGINE.clear()
    ocr.read_text(Image.new("RGB", (64, 64), "white"), 60, 2000)  # loads the models
    rows = []
    for kind, draw in KINDS.items():
        for px in sizes:
            for font_name, font in _fonts(px).items():
                rng = random.Random(f"{kind}-{px}-{font_name}")
                found = total = 0
                times = []
                for _ in range(per_kind):
                    image, drawn = draw(rng, font, px)
                    start = time.perf_counter()
                    reading = ocr.read_text(image, 600, 100_000)
                    times.append((time.perf_counter() - start) * 1000)
                    hit, want = recovered(drawn, reading.text)
                    found, total = found + hit, total + want
                rows.append(
                    {
                        "kind": kind,
                        "px": px,
                        "font": font_name,
                        "recall": round(found / total, 4),
                        "words": total,
                        "ms_median": round(statistics.median(times), 1),
                    }
                )
                print(json.dumps(rows[-1]), flush=True)
    return {"detect_side": detect_side, "rows": rows}


def _summary(result: dict[str, Any]) -> None:
    rows = result["rows"]
    words = sum(r["words"] for r in rows)
    recall = sum(r["recall"] * r["words"] for r in rows) / words
    print(f"detect side {result['detect_side']}: recall {recall:.3f} over {words} words")
    for kind in KINDS:
        mine = [r for r in rows if r["kind"] == kind]
        n = sum(r["words"] for r in mine)
        kind_recall = sum(r["recall"] * r["words"] for r in mine) / n
        ms = statistics.median(r["ms_median"] for r in mine)
        print(f"  {kind:10} recall {kind_recall:.3f}  median {ms:.0f} ms/image")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=6)
    parser.add_argument("--sizes", type=int, nargs="+", default=[16, 20, 28])
    parser.add_argument("--detect-sides", type=int, nargs="+", default=[ocr.DETECT_SIDE])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = [run(args.per_kind, args.sizes, side) for side in args.detect_sides]
    print(f"cores {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    for result in results:
        _summary(result)
    if args.out:
        args.out.write_text(json.dumps({"load": os.getloadavg(), "runs": results}, indent=1))


if __name__ == "__main__":
    main()
