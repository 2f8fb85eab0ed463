"""Draw a collection map: an interactive SVG scatter (for the page and ``map --out x.html``)
and a still PNG (``map --out x.png``).

The SVG is self-contained markup plus one small script (:data:`MAP_JS`): hovering a point
shows its thumbnail and caption, clicking one selects it. Points carry their data in
attributes, so one tooltip serves 10k points.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from PIL import Image, ImageDraw

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.evaluate.collection_map import CollectionMap
from mmdemo.ingest.copies import thumb_path

PALETTE = (
    "#4c6ef5", "#f76707", "#37b24d", "#e03131", "#7048e8", "#a0522d",
    "#d6336c", "#495057", "#94a01b", "#1098ad", "#f59f00", "#5c940d",
)  # fmt: skip
SIZE = 1000
MARGIN = 20
_FORMATS = {".html": "html", ".htm": "html", ".png": "png"}
#: Where a page puts the selected item's id: the element with this id holds an input.
SELECTED_ELEMENT_ID = "map-selected"

#: Hover and click behaviour; ``element`` is the element that holds the SVG.
MAP_JS = """
const tip = () => element.querySelector('.mm-tip');
element.addEventListener('mouseover', (event) => {
  const dot = event.target.closest('circle[data-id]');
  const box = tip();
  if (!dot || !box) return;
  box.querySelector('img').src = dot.dataset.thumb;
  box.querySelector('span').textContent = dot.dataset.caption;
  const area = element.querySelector('.mm-map').getBoundingClientRect();
  const at = dot.getBoundingClientRect();
  box.style.left = Math.max(0, Math.min(at.left - area.left + 12, area.width - 150)) + 'px';
  box.style.top = (at.top - area.top + 12) + 'px';
  box.hidden = false;
});
element.addEventListener('mouseout', (event) => {
  if (event.target.closest('circle[data-id]') && tip()) tip().hidden = true;
});
element.addEventListener('click', (event) => {
  const dot = event.target.closest('circle[data-id]');
  if (!dot) return;
  element.querySelectorAll('circle.mm-selected').forEach((c) => c.classList.remove('mm-selected'));
  dot.classList.add('mm-selected');
  const field = document.querySelector('#SELECTED_ID textarea, #SELECTED_ID input');
  if (field) {
    field.value = dot.dataset.id;
    field.dispatchEvent(new Event('input', { bubbles: true }));
  }
});
""".replace("SELECTED_ID", SELECTED_ELEMENT_ID)

MAP_CSS = """
.mm-map { position: relative; max-width: min(100%, 760px); margin: 0 auto; }
.mm-map svg { width: 100%; height: auto; background: #fafafa; border-radius: 6px; }
.mm-map circle { cursor: pointer; stroke: #fff; stroke-width: 1; }
.mm-map circle.mm-hit { stroke: #111; stroke-width: 3; }
.mm-map circle.mm-selected { stroke: #000; stroke-width: 4; }
.mm-tip { position: absolute; pointer-events: none; background: #fff; color: #111;
  border: 1px solid #ccc; border-radius: 6px; padding: 4px; width: 140px;
  font-size: 12px; box-shadow: 0 2px 6px rgba(0,0,0,.2); z-index: 10; }
.mm-tip img { width: 132px; height: 132px; object-fit: cover; display: block; }
.mm-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; margin-top: 6px; }
.mm-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 50%;
  margin-right: 4px; }
"""


def colour(cluster: int) -> str:
    """The colour of a cluster number."""
    return PALETTE[cluster % len(PALETTE)]


def point_radius(points: int) -> int:
    """Dot size in map units (of 1000): large for a few points, small for thousands."""
    return 14 if points <= 200 else 8 if points <= 2000 else 4


def _at(value: float) -> float:
    return round(MARGIN + value * (SIZE - 2 * MARGIN), 1)


def svg(
    found: CollectionMap,
    thumb_url: Callable[[str], str],
    highlight: set[str] | frozenset[str] = frozenset(),
    query_at: tuple[float, float] | None = None,
) -> str:
    """The map as HTML: an SVG scatter, its tooltip and a legend of cluster names.

    ``highlight`` ids get a dark ring (a query's top-k); ``query_at`` adds a star marker.
    """
    radius = point_radius(len(found.points))
    dots = []
    for p in found.points:
        ring = ' class="mm-hit"' if p.id in highlight else ""
        caption = html.escape(f"{p.caption or p.file_name} · {found.cluster_names[p.cluster]}")
        dots.append(
            f'<circle cx="{_at(p.x)}" cy="{_at(p.y)}" r="{radius}" fill="{colour(p.cluster)}"'
            f'{ring} data-id="{html.escape(p.id)}" data-thumb="{html.escape(thumb_url(p.id))}"'
            f' data-caption="{caption}"><title>{caption}</title></circle>'
        )
    if query_at is not None:
        x, y = _at(query_at[0]), _at(query_at[1])
        dots.append(
            f'<text class="mm-query" x="{x}" y="{y}" font-size="56" text-anchor="middle" '
            f'dominant-baseline="central" fill="#111">★</text>'
        )
    legend = "".join(
        f'<span><i style="background:{colour(i)}"></i>{html.escape(name)}</span>'
        for i, name in enumerate(found.cluster_names)
    )
    return (
        f'<div class="mm-map"><svg viewBox="0 0 {SIZE} {SIZE}" role="img" '
        f'aria-label="Map of {html.escape(found.collection)}">{"".join(dots)}</svg>'
        '<div class="mm-tip" hidden><img alt=""><span></span></div></div>'
        f'<div class="mm-legend">{legend}</div>'
    )


def html_page(found: CollectionMap, thumb_url: Callable[[str], str]) -> str:
    """A standalone HTML page of the map (``map --out map.html``)."""
    title = html.escape(f"{found.collection} · {found.model}")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>body{{font-family:sans-serif;margin:16px}}{MAP_CSS}</style></head><body>"
        f"<h1>{title}</h1><div id='mm-root'>{svg(found, thumb_url)}</div>"
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

    The page shows the thumbnails from the data folder by their file address.
    """
    path = Path(out)
    if map_format(path) == "png":
        save_png(found, path)
        return
    page = html_page(found, lambda item_id: thumb_path(settings, item_id).resolve().as_uri())
    try:
        path.write_text(page, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot write the map page {path}: {exc.strerror or exc}.") from exc
