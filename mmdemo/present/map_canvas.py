"""The collection map as a page part: a <canvas> that draws every point as its thumbnail.

Pure: a :class:`~mmdemo.evaluate.collection_map.CollectionMap` and the address of its
thumbnail atlas in, escaped HTML out. The points travel as one JSON attribute (positions,
clusters, file names, captions; never an item id or a server path) and :data:`MAP_JS` draws
them from the atlas (:mod:`mmdemo.present.map_atlas`), with zoom, hover and selection.
"""

from __future__ import annotations

import html
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from mmdemo.evaluate.collection_map import CollectionMap
from mmdemo.names import visible_name

#: One colour per cluster (they repeat after twelve): the frame of each thumbnail.
PALETTE = (
    "#4c6ef5", "#f76707", "#37b24d", "#e03131", "#7048e8", "#a0522d",
    "#d6336c", "#495057", "#94a01b", "#1098ad", "#f59f00", "#5c940d",
)  # fmt: skip
#: Where a page keeps the selected point's number: an element holding an input.
SELECTED_ELEMENT_ID = "map-point"

MAP_JS = (
    (Path(__file__).with_name("map_canvas.js"))
    .read_text(encoding="utf-8")
    .replace("SELECTED_FIELD_SELECTOR", f"#{SELECTED_ELEMENT_ID} input")
)

MAP_CSS = """
.mm-map { position: relative; max-width: min(100%, 760px); margin: 0 auto; }
.mm-map canvas.mm-canvas { width: 100%; aspect-ratio: 1 / 1; display: block;
  background: #f4f5f7; border-radius: 6px; touch-action: none; cursor: crosshair; }
.mm-zoom { display: flex; justify-content: flex-end; gap: 4px; margin-bottom: 4px; }
.mm-zoom button { min-width: 34px; height: 34px; padding: 0 8px; border-radius: 6px;
  border: 1px solid #bbb; background: #fff; color: #111; font-size: 16px; cursor: pointer; }
.mm-tip { position: absolute; pointer-events: none; background: #fff; color: #111;
  border: 1px solid #ccc; border-radius: 6px; padding: 4px; width: 140px;
  font-size: 12px; box-shadow: 0 2px 6px rgba(0,0,0,.2); z-index: 10; }
.mm-tip canvas { width: 132px; height: 132px; display: block; }
.mm-tip .mm-name, .mm-pick .mm-name { display: block; font-weight: 600; overflow-wrap: anywhere; }
.mm-pick { display: flex; gap: 10px; align-items: center; margin: 8px auto 0;
  max-width: min(100%, 760px); font-size: 14px; color: inherit; }
.mm-pick canvas { width: 96px; height: 96px; border-radius: 4px; flex: none;
  background: #e9ecef; }
.mm-pick[data-state="none"] canvas { display: none; }
.mm-pick .mm-caption { display: block; opacity: .8; overflow-wrap: anywhere; }
.mm-legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 13px; margin-top: 6px; }
.mm-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 4px; }
"""


@dataclass(frozen=True)
class Sheet:
    """Where the page finds the thumbnails: the atlas's address, tile edge, tiles a row."""

    url: str
    tile: int
    columns: int


def colour(cluster: int) -> str:
    """The colour of a cluster number."""
    return PALETTE[cluster % len(PALETTE)]


def payload(
    found: CollectionMap,
    sheet: Sheet,
    ringed: Collection[str] = (),
    star: tuple[float, float] | None = None,
    selected: int | None = None,
) -> dict[str, object]:
    """What the page's script draws: positions, clusters, names, rings, star, selection."""
    points = found.points
    return {
        "n": len(points),
        "x": [p.x for p in points],
        "y": [p.y for p in points],
        "c": [p.cluster for p in points],
        "files": [visible_name(p.file_name) for p in points],
        "captions": [p.caption for p in points],
        "names": list(found.cluster_names),
        "colours": [colour(i) for i in range(len(found.cluster_names))],
        "ring": [i for i, p in enumerate(points) if p.id in ringed],
        "star": list(star) if star is not None else None,
        "selected": selected,
        "atlas": sheet.url,
        "tile": sheet.tile,
        "cols": sheet.columns,
    }


def map_html(
    found: CollectionMap,
    sheet: Sheet,
    ringed: Collection[str] = (),
    star: tuple[float, float] | None = None,
    selected: int | None = None,
) -> str:
    """The map's markup: zoom buttons, the canvas, a hover preview, the selection and a
    legend of cluster names. ``ringed`` ids get a dark ring (a query's top-k), ``star``
    marks where the query sits, ``selected`` is the point number shown as selected."""
    data = html.escape(json.dumps(payload(found, sheet, ringed, star, selected)))
    label = html.escape(
        f"Map of {found.collection}: {len(found.points)} pictures "
        f"in {len(found.cluster_names)} clusters"
    )
    legend = "".join(
        f'<span><i style="background:{colour(i)}"></i>{html.escape(name)}</span>'
        for i, name in enumerate(found.cluster_names)
    )
    return (
        f'<div class="mm-map" data-map="{data}" data-atlas="loading">'
        '<div class="mm-zoom"><button type="button" data-zoom="in" aria-label="Zoom in">+</button>'
        '<button type="button" data-zoom="out" aria-label="Zoom out">−</button>'
        '<button type="button" data-zoom="reset" aria-label="Reset zoom">Reset</button></div>'
        f'<canvas class="mm-canvas" role="img" aria-label="{label}"></canvas>'
        '<div class="mm-tip" hidden><canvas width="132" height="132"></canvas>'
        '<span class="mm-name"></span><span class="mm-caption"></span></div>'
        '<div class="mm-pick" data-state="none"><canvas width="96" height="96"></canvas>'
        '<div><span class="mm-name">Click a picture to select it.</span>'
        '<span class="mm-caption"></span></div></div></div>'
        f'<div class="mm-legend">{legend}</div>'
    )
