"""Draw a collection map: an interactive page (``map --out x.html``) and a still PNG
(``map --out x.png``).

The page is the app's own map part (:mod:`mmdemo.present.map_canvas`: thumbnails on a
canvas, zoom, hover, selection) with its thumbnail atlas inlined as a data URI, so the file
is self-contained and names no path of the data folder.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path

from PIL import Image, ImageDraw

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.evaluate.collection_map import CollectionMap
from mmdemo.present.map_atlas import build_atlas
from mmdemo.present.map_canvas import MAP_CSS, MAP_JS, Sheet, colour, map_html

SIZE = 1000
MARGIN = 20
_FORMATS = {".html": "html", ".htm": "html", ".png": "png"}


def point_radius(points: int) -> int:
    """Dot size in map units (of 1000): large for a few points, small for thousands."""
    return 14 if points <= 200 else 8 if points <= 2000 else 4


def _at(value: float) -> float:
    return round(MARGIN + value * (SIZE - 2 * MARGIN), 1)


def html_page(found: CollectionMap, sheet: Sheet) -> str:
    """A standalone HTML page of the map, its thumbnails read from ``sheet``."""
    title = html.escape(f"{found.collection} · {found.model}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<style>body{{font-family:sans-serif;margin:16px}}{MAP_CSS}</style></head><body>"
        f"<h1>{title}</h1><div id='mm-root'>{map_html(found, sheet)}</div>"
        f"<script>(function(element){{{MAP_JS}}})(document.getElementById('mm-root'));"
        "</script></body></html>"
    )


def save_png(found: CollectionMap, path: Path, size: int = 1200) -> None:
    """Draw the map as a still image (points coloured by cluster, names in a legend)."""
    legend_h = 22 * len(found.cluster_names) + 10
    canvas = Image.new("RGB", (size, size + legend_h), "white")
    draw = ImageDraw.Draw(canvas)
    scale = size / SIZE
    for p in found.points:
        x, y = _at(p.x) * scale, _at(p.y) * scale
        r = point_radius(len(found.points)) * scale
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour(p.cluster))
    for i, name in enumerate(found.cluster_names):
        top = size + 5 + 22 * i
        draw.ellipse((10, top + 4, 22, top + 16), fill=colour(i))
        draw.text((30, top + 2), name, fill="black")
    try:
        canvas.save(path, format="PNG")
    except OSError as exc:
        raise InputError(f"Cannot write the map image {path}: {exc.strerror or exc}.") from exc


def map_format(out: str | Path) -> str:
    """``html`` or ``png`` from the output file's suffix; anything else is an InputError."""
    found = _FORMATS.get(Path(out).suffix.lower())
    if found is not None:
        return found
    raise InputError(f"The map can be written as .html or .png, not {Path(out).name!r}.")


def save_map(found: CollectionMap, out: str | Path, settings: Settings) -> None:
    """Write the map to ``out``: an interactive page (``.html``) or a still image (``.png``).

    The page carries its thumbnails inside it (the atlas as a data URI).
    """
    path = Path(out)
    if map_format(path) == "png":
        save_png(found, path)
        return
    atlas = build_atlas(found, settings)
    inline = "data:image/jpeg;base64," + base64.b64encode(atlas.path.read_bytes()).decode()
    page = html_page(found, Sheet(inline, atlas.tile, atlas.columns))
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write the map page {path}: {exc.strerror or exc}.") from exc
