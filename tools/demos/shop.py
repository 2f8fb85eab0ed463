"""The shop demo: products with a picture, a description and metadata columns.

Pictures are Noto Color Emoji glyphs (Apache-2.0) from Debian's fonts-noto-color-emoji,
drawn at the font's native 136 px strike on a white square, as a shop's product shots
are; emoji-datasource-google (MIT) names them. Colour variants turn the picture's hues on
the colour wheel, and every colour word is measured from the finished picture, so a "red
shoe" is red. Prices are fixed by a hash of the product's name: rebuilds are identical.
"""

from __future__ import annotations

import colorsys
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tools.demos import fetch
from tools.demos.catalogue import CATEGORIES, MODELS, Category, Kind
from tools.demos.common import clear, write_captions, write_sources

SIDE = 256
MARGIN = 20
QUALITY = 90
#: The font's only bitmap strike (CBDT): its glyphs are 136 px images.
STRIKE = 109
FONT = "usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
#: Price ranges per category in euros (low, high).
PRICES = {
    "shoes": (39, 149), "clothing": (12, 89), "hats": (15, 59), "bags": (25, 180),
    "accessories": (9, 220), "drinkware": (6, 39), "kitchen": (8, 79), "fruit": (1, 6),
    "vegetables": (1, 5), "bakery": (2, 24), "tools": (9, 119), "toys": (6, 49),
    "sports": (9, 399), "electronics": (19, 899), "home": (4, 599), "stationery": (2, 29),
    "music": (29, 899),
}  # fmt: skip


@dataclass(frozen=True)
class Product:
    """One product as the captions CSV lists it."""

    file_name: str
    description: str
    name: str
    brand: str
    category: str
    colour: str
    price: float
    emoji: str


def _glyph(font: ImageFont.FreeTypeFont, char: str) -> Image.Image:
    canvas = Image.new("RGBA", (160, 160), (0, 0, 0, 0))
    ImageDraw.Draw(canvas).text((4, 4), char, font=font, embedded_color=True)
    box = canvas.getbbox()
    return canvas.crop(box) if box else canvas


def _recolour(glyph: Image.Image, target: int, dominant: float | None) -> Image.Image:
    """The glyph in another colour: every hue turned so that its dominant hue lands on
    ``target`` or, for a pale picture (a white mug), its pale parts dyed ``target``."""
    rgba = np.asarray(glyph)
    hsv = np.asarray(glyph.convert("RGB").convert("HSV")).astype(np.float32)
    if dominant is None:
        pale = (hsv[..., 1] < 90) & (hsv[..., 2] > 100)
        hsv[..., 0] = np.where(pale, target / 360 * 256, hsv[..., 0])
        hsv[..., 1] = np.where(pale, 150 + hsv[..., 1] / 2, hsv[..., 1])
        hsv[..., 2] = np.where(pale, hsv[..., 2] * 0.9, hsv[..., 2])
    else:
        hsv[..., 0] = (hsv[..., 0] + (target - dominant) / 360 * 256) % 256
    turned = np.asarray(Image.fromarray(hsv.astype(np.uint8), "HSV").convert("RGB"))
    return Image.fromarray(np.dstack([turned, rgba[..., 3]]), "RGBA")


def _hsv(glyph: Image.Image) -> np.ndarray:
    """(h degrees, s, v) of the glyph's opaque pixels."""
    rgba = np.asarray(glyph.convert("RGBA")).astype(np.float32) / 255
    opaque = rgba[rgba[..., 3] > 0.5][:, :3]
    return np.array([colorsys.rgb_to_hsv(*px) for px in opaque[::2]]) * [360, 1, 1]


def _cluster(glyph: Image.Image) -> np.ndarray | None:
    """The glyph's chromatic pixels around its most common hue; None for a pale or grey
    picture (under 30 % of its area in colour)."""
    hsv = _hsv(glyph)
    vivid = hsv[(hsv[:, 1] > 0.25) & (hsv[:, 2] > 0.25)]
    if len(vivid) < 0.3 * len(hsv):
        return None
    counts, edges = np.histogram(vivid[:, 0], bins=36, range=(0, 360))
    peak = edges[int(np.argmax(counts))] + 5
    near: np.ndarray = vivid[np.abs((vivid[:, 0] - peak + 180) % 360 - 180) < 20]
    return near


def dominant_hue(glyph: Image.Image) -> float | None:
    """The median hue (degrees) of the glyph's main colour; None when it has none."""
    cluster = _cluster(glyph)
    if cluster is None:
        return None
    shifted = (cluster[:, 0] - cluster[0, 0] + 180) % 360 - 180  # no wrap at red
    return float((cluster[0, 0] + np.median(shifted)) % 360)


def colour_name(glyph: Image.Image) -> str:
    """The colour word a shopper would use for the glyph, measured from its pixels.

    Thresholds were set by looking at every product picture: warm hues that are not
    vivid read as brown (wood, leather, bread), pale ones as beige or pink.
    """
    cluster = _cluster(glyph)
    if cluster is None:
        value = float(np.median(_hsv(glyph)[:, 2]))
        return "black" if value < 0.3 else "white" if value > 0.8 else "grey"
    hue = dominant_hue(glyph)
    assert hue is not None
    saturation, value = float(np.median(cluster[:, 1])), float(np.median(cluster[:, 2]))
    if 17 <= hue < 38:
        if saturation < 0.45 and value > 0.8:
            return "beige"
        vivid = saturation >= 0.75 or (value >= 0.97 and saturation >= 0.65)
        return "orange" if vivid else "brown"
    if (hue < 17 or hue >= 345) and saturation < 0.45 and value > 0.85:
        return "pink"
    bands = ((17, "red"), (70, "yellow"), (165, "green"), (195, "teal"), (255, "blue"),
             (310, "purple"), (345, "pink"), (361, "red"))  # fmt: skip
    return next(name for top, name in bands if hue < top)


def _shot(glyph: Image.Image) -> Image.Image:
    """The glyph centred on a white square, as a product photo."""
    scale = (SIDE - 2 * MARGIN) / max(glyph.size)
    size = (round(glyph.width * scale), round(glyph.height * scale))
    fitted = glyph.resize(size, Image.Resampling.LANCZOS)
    shot = Image.new("RGB", (SIDE, SIDE), "white")
    shot.paste(fitted, ((SIDE - size[0]) // 2, (SIDE - size[1]) // 2), fitted)
    return shot


def _price(name: str, category: str) -> float:
    low, high = PRICES[category]
    digest = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big")
    return float(low + digest % (high - low + 1)) + (0.99 if digest % 3 else 0.5)


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _describe(colour: str, kind: Kind, category: Category, brand: str, name: str) -> str:
    return f"{colour.capitalize()} {kind.noun} from {brand}: the {name}, {category.pitch}."


def _products(names: dict[str, str], font: ImageFont.FreeTypeFont, out: Path) -> list[Product]:
    products: list[Product] = []
    models = iter(MODELS * 2)
    for category in CATEGORIES:
        for index, kind in enumerate(category.kinds):
            brand = category.brands[index % len(category.brands)]
            base = _glyph(font, names[kind.emoji])
            hue = dominant_hue(base)
            pictures = [base] + [_recolour(base, target, hue) for target in kind.variants]
            seen: set[str] = set()
            for picture in pictures:
                colour = colour_name(picture)
                if colour in seen:
                    continue
                seen.add(colour)
                name = f"{next(models)} {kind.noun.removeprefix('pair of ')}".title()
                file_name = f"{category.name}-{_slug(kind.noun)}-{colour}.jpg"
                _shot(picture).save(out / file_name, "JPEG", quality=QUALITY)
                description = _describe(colour, kind, category, brand, name)
                price = _price(name, category.name)
                products.append(
                    Product(
                        file_name,
                        description,
                        name,
                        brand,
                        category.name,
                        colour,
                        price,
                        kind.emoji,
                    )
                )
    return products


def _emoji_chars(root: Path) -> dict[str, str]:
    table = json.loads((root / "emoji.json").read_text(encoding="utf-8"))
    return {
        short: "".join(chr(int(code, 16)) for code in entry["unified"].split("-"))
        for entry in table
        for short in entry["short_names"]
    }


INTRO = """
The shop demo: {count} products, each a picture, a description and metadata (captions.csv:
file_name, caption (the description), name, brand, category, colour, price in euros).
Brands and product names are invented. Built by `python -m tools.build_demos shop`.

Pictures: glyphs of Noto Color Emoji, Copyright 2013-2017 Google Inc., Apache-2.0 (the
images; the font is SIL OFL-1.1), from Debian package fonts-noto-color-emoji {font},
drawn on a white {side} px square (JPEG quality {quality}); some are colour variants
made by turning the picture's hues. Emoji names: npm emoji-datasource-google {npm}
(emoji.json, MIT, Copyright (c) 2013 Cal Henderson).
"""


def build(out: Path, cache: Path) -> list[str]:
    """Write the product pictures, captions.csv and SOURCES into ``out``."""
    clear(out, ["*.jpg"])
    chars = _emoji_chars(fetch.npm("emoji-datasource-google", cache))
    font = ImageFont.truetype(str(fetch.debian("fonts-noto-color-emoji", cache) / FONT), STRIKE)
    products = _products(chars, font, out)
    names = [p.name for p in products]
    assert len(set(names)) == len(names), "product names must be unique"
    columns = ("file_name", "caption", "name", "brand", "category", "colour", "price")
    rows = [
        (p.file_name, p.description, p.name, p.brand, p.category, p.colour, f"{p.price:.2f}")
        for p in products
    ]
    write_captions(out / "captions.csv", columns, rows)
    lines = [f"{p.file_name}: emoji {p.emoji}" for p in products]
    intro = INTRO.format(
        count=len(products),
        font=fetch.DEBIAN["fonts-noto-color-emoji"],
        side=SIDE,
        quality=QUALITY,
        npm=fetch.NPM["emoji-datasource-google"],
    )
    write_sources(out / "SOURCES", intro, lines)
    return lines
