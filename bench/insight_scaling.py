"""Map and near-duplicate timings on 10k synthetic embeddings (no model needed).

Vectors: ``--n`` unit vectors in ``--dim`` dimensions around 50 cluster centres, plus 1 %
planted near-copies. Times, once each (run it once; the machine is noisy):
- map compute: PCA + t-SNE + k-means (done once per collection version, then cached);
- map render: reading the cached map JSON and writing the canvas markup the page shows;
- map paint: Chromium loading that map (the ``map --out x.html`` page: the same canvas,
  CSS and script as the Map tab, here without an atlas, so points are flat squares) until
  it has painted, then hovering a point until its tooltip shows (``bench.map_paint``
  times the thumbnails);
- duplicates: ``find_duplicates`` (an exact blocked scan where the store searches exactly,
  the store's HNSW neighbour search above), with the store's fetch of the vectors.

    python -m bench.insight_scaling --n 10000 [--parts map,paint,duplicates]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from mmdemo.evaluate.collection_map import CollectionMap


def vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    rows = centres[rng.integers(0, 50, n)] + rng.normal(scale=0.6, size=(n, dim))
    copies = rows[: n // 100] + rng.normal(scale=0.02, size=(n // 100, dim))
    rows[n - n // 100 :] = copies
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


PAINTED_JS = """() => new Promise((done) => requestAnimationFrame(() =>
  requestAnimationFrame(() => done(performance.now()))))"""


def synthetic_map(data: np.ndarray, ids: list[str], fast: bool) -> CollectionMap:
    """The collection map of ``data``: projected and clustered, or (``fast``) laid out at
    random, which draws and paints the same number of points."""
    from mmdemo.evaluate.clusters import cluster, label_clusters
    from mmdemo.evaluate.collection_map import CollectionMap, MapPoint
    from mmdemo.evaluate.projection import project

    if fast:
        xy, labels = np.random.default_rng(0).random((len(data), 2)), np.arange(len(data)) % 12
        names = [f"cluster {i}" for i in range(12)]
    else:
        start = time.perf_counter()
        xy, labels = project(data), cluster(data)
        names = label_clusters(data, labels, [], np.zeros((0, data.shape[1])))
        print(f"map compute (once, cached after): {time.perf_counter() - start:.1f} s")
    points = [
        MapPoint(i, float(x), float(y), int(c), f"{i}.jpg", f"caption {i}")
        for i, (x, y), c in zip(ids, xy, labels, strict=True)
    ]
    return CollectionMap("bench", "m", "v", points, names)


def time_render(found: CollectionMap) -> None:
    """Read the cached map back and write the page's markup."""
    from mmdemo.evaluate.collection_map import CollectionMap
    from mmdemo.present.map_canvas import Sheet, map_html

    cache = Path(tempfile.mkdtemp()) / "map.json"
    cache.write_text(json.dumps(found.to_json()))
    start = time.perf_counter()
    loaded = CollectionMap.from_json(json.loads(cache.read_text()))
    markup = map_html(loaded, Sheet("atlas.jpg", 32, 100))
    took = time.perf_counter() - start
    print(f"map render from cache: {took:.2f} s, {len(markup) / 1e6:.1f} MB of markup")


def time_paint(found: CollectionMap) -> None:
    """Chromium: load the map page until painted, then hover a point until its tooltip shows."""
    from playwright.sync_api import sync_playwright

    from mmdemo.evaluate.scatter import html_page
    from mmdemo.present.map_canvas import Sheet

    page_file = Path(tempfile.mkdtemp()) / "map.html"
    page_file.write_text(html_page(found, Sheet("no-atlas.jpg", 32, 100)))
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path="/usr/bin/chromium")
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        start = time.perf_counter()
        page.goto(page_file.as_uri())
        page.evaluate(PAINTED_JS)
        painted = time.perf_counter() - start
        start = time.perf_counter()
        page.wait_for_function("() => document.querySelector('.mm-map').dataset.painted")
        at = page.evaluate("(i) => document.querySelector('.mm-map').mmMap.screenOf(i)", 0)
        box = page.locator("canvas.mm-canvas").bounding_box() or {"x": 0.0, "y": 0.0}
        page.mouse.move(box["x"] + at[0], box["y"] + at[1])
        page.locator(".mm-tip:not([hidden])").wait_for()
        hovered = time.perf_counter() - start
        browser.close()
    print(f"map paint in Chromium: {painted:.2f} s to painted, hover tooltip {hovered:.2f} s")


def time_duplicates(data: np.ndarray, ids: list[str]) -> None:
    """Store the vectors, then find their near-duplicate groups."""
    from mmdemo.config import Settings
    from mmdemo.evaluate.duplicates import find_duplicates
    from mmdemo.store import Store

    store = Store(Settings.from_env(data_dir=Path(tempfile.mkdtemp())))
    start = time.perf_counter()
    store.add("bench", "m", ids, data, [{"file_name": f"{i}.jpg"} for i in ids])
    print(f"(store add: {time.perf_counter() - start:.1f} s)")
    start = time.perf_counter()
    groups = find_duplicates(store, "bench", "m")
    took = time.perf_counter() - start
    print(f"duplicates: {took:.1f} s, {len(groups)} groups ({len(ids) // 100} planted)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--parts", default="map,paint,duplicates")
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    data = vectors(args.n, args.dim)
    ids = [f"item{i:06d}" for i in range(args.n)]
    if parts & {"map", "paint"}:
        found = synthetic_map(data, ids, fast="map" not in parts)
        time_render(found)
        if "paint" in parts:
            time_paint(found)
    if "duplicates" in parts:
        time_duplicates(data, ids)


if __name__ == "__main__":
    main()
