"""The Map tab in headless Chromium at 1280 and 390 px: thumbnails drawn on the canvas, the
query's top-k ringed, zoom (buttons, wheel, reset), a selected picture shown by its file
name (no id, no path on the page), Find similar, and a collection change clearing "Most
similar"; and a 2,000-point map painted (the standalone page, the same canvas script).

Pixels are read from the canvas where the page's script says each point is
(``mmMap.screenOf``). Screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bench.map_paint import PAINTED, synthetic_page, tile_colour

from browser_helpers import PHOTOS, WAIT_MS, _open, _pick, _shot, open_tab
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: The canvas background (map_canvas.js BACKGROUND).
BACKGROUND = (244, 245, 247)
#: Where point i lies on the canvas (CSS px), and the canvas pixel's colour there.
PIXELS = """(spots) => { const root = document.querySelector('.mm-map');
  const canvas = root.querySelector('canvas.mm-canvas');
  const ratio = canvas.width / canvas.clientWidth;
  const pen = canvas.getContext('2d');
  return spots.map(([x, y]) => [...pen.getImageData(Math.round(x * ratio),
    Math.round(y * ratio), 1, 1).data].slice(0, 3)); }"""
SCREEN = "(i) => document.querySelector('.mm-map').mmMap.screenOf(i)"
DATA = "() => JSON.parse(document.querySelector('.mm-map').dataset.map)"
EDGE = "() => document.querySelector('.mm-map').mmMap.edge()"
HEX_ID = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture(params=[1280, 390], ids=["1280", "390"])
def page(request: pytest.FixtureRequest, browser: Browser, web_app: WebApp) -> Iterator[Page]:
    """A fresh tab on the app at a desktop's and at a phone's size."""
    width = int(request.param)
    with _open(browser, web_app.url, width, 800 if width > 400 else 844) as opened:
        expect(opened.locator("#status")).to_contain_text("ready")
        yield opened


def _width(page: Page) -> int:
    return int(page.viewport_size["width"]) if page.viewport_size else 0


def _pixels(page: Page, spots: list[tuple[float, float]]) -> list[tuple[int, ...]]:
    return [tuple(p) for p in page.evaluate(PIXELS, [list(s) for s in spots])]


def _is_dark(colour: tuple[int, ...]) -> bool:
    return max(colour) < 70


def _free_point(page: Page, count: int) -> int:
    """The point nearest the canvas centre (no zoom button covers it)."""
    size = page.locator("canvas.mm-canvas").bounding_box() or {"width": 0.0}
    centre = size["width"] / 2
    spots = [page.evaluate(SCREEN, i) for i in range(count)]
    return min(range(count), key=lambda i: abs(spots[i][0] - centre) + abs(spots[i][1] - centre))


def _canvas_box(page: Page) -> dict[str, float]:
    """The map canvas's box in the viewport, once scrolled into view (mouse events need it)."""
    canvas = page.locator("#map-view canvas.mm-canvas")
    canvas.evaluate("(el) => el.scrollIntoView({ block: 'center' })")
    box = canvas.bounding_box()
    assert box is not None
    return box


def _click_point(page: Page, i: int) -> None:
    box = _canvas_box(page)
    x, y = page.evaluate(SCREEN, i)
    page.mouse.click(box["x"] + x, box["y"] + y)


def _photo_names() -> set[str]:
    with (PHOTOS / "captions.csv").open(encoding="utf-8") as handle:
        return {row["file_name"] for row in csv.DictReader(handle)}


def _show_map(page: Page) -> dict[str, object]:
    """Open the Map, show the photos demo's map with the sample query; its drawn data."""
    open_tab(page, "Map")
    expect(page.locator("#map-coll input")).to_have_value("Demo: photos")
    page.locator("#map-button").click()
    count = len(_photo_names())
    page.wait_for_function(PAINTED, arg=count, timeout=300_000)
    return dict(page.evaluate(DATA))


def _check_thumbnails(page: Page, count: int) -> None:
    """Each point shows a picture: not the background, and not one flat colour."""
    edge = float(page.evaluate(EDGE))
    flat = 0
    for i in range(count):
        x, y = page.evaluate(SCREEN, i)
        step = edge / 4
        spots = [(x, y), (x - step, y - step), (x + step, y + step), (x - step, y + step)]
        colours = _pixels(page, spots)
        assert colours[0] != BACKGROUND, (i, colours)
        flat += len(set(colours)) == 1
    assert flat < count / 4, f"{flat} of {count} points are flat colour squares, not pictures"


def _check_rings(page: Page, ringed: list[int]) -> None:
    """Each of the query's top-k has a dark ring around its picture."""
    import math

    edge = float(page.evaluate(EDGE))
    radius = edge * 0.72 + 3
    for i in ringed:
        x, y = page.evaluate(SCREEN, i)
        circle = [
            (x + radius * math.cos(a / 8 * math.pi), y + radius * math.sin(a / 8 * math.pi))
            for a in range(16)
        ]
        dark = sum(_is_dark(c) for c in _pixels(page, circle))
        assert dark >= 8, f"point {i} has {dark} of 16 dark pixels on its ring"


def _check_zoom(page: Page, point: int) -> None:
    """The + button, the wheel and Reset change the scale; the points move with it."""
    root = page.locator("#map-view .mm-map")
    expect(root).to_have_attribute("data-scale", "1.000")
    before = page.evaluate(SCREEN, point)
    page.locator("#map-view [data-zoom=in]").click()
    expect(root).to_have_attribute("data-scale", "1.600")
    assert page.evaluate(SCREEN, point) != before
    box = _canvas_box(page)
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -300)
    page.wait_for_function("() => Number(document.querySelector('.mm-map').dataset.scale) > 1.6")
    _shot(page, f"30-map-zoomed-{_width(page)}", full_page=False)
    page.locator("#map-view [data-zoom=reset]").click()
    expect(root).to_have_attribute("data-scale", "1.000")
    assert page.evaluate(SCREEN, point) == before


def test_map_draws_thumbnails_rings_top_k_zooms_and_selects(page: Page, web_app: WebApp) -> None:
    width = _width(page)
    data = _show_map(page)
    count = int(str(data["n"]))
    _check_thumbnails(page, count)
    ringed = list(data["ring"])  # type: ignore[call-overload]
    assert len(ringed) == 5, data["ring"]  # the sample query's top 5
    _check_rings(page, ringed)
    expect(page.locator("#map-view .mm-legend span").first).to_be_visible()
    _shot(page, f"31-map-{width}")
    point = _free_point(page, count)
    _check_zoom(page, point)

    _click_point(page, point)
    pick = page.locator("#map-view .mm-pick")
    expect(pick).to_have_attribute("data-state", "selected")
    name = pick.locator(".mm-name").inner_text()
    assert name in _photo_names(), name
    thumb = page.evaluate(
        "() => { const c = document.querySelector('.mm-pick canvas');"
        " return [...c.getContext('2d').getImageData(48, 48, 1, 1).data]; }"
    )
    assert thumb[3] == 255, thumb  # the selected picture's thumbnail is drawn
    shown = page.locator("body").inner_text()
    assert not HEX_ID.search(shown), "an item id is on the page"
    assert str(web_app.data_dir) not in shown
    markup = page.locator("#map-view").evaluate("(el) => el.outerHTML")
    assert not HEX_ID.search(markup) and str(web_app.data_dir) not in markup
    _shot(page, f"32-map-selected-{width}")

    page.locator("#map-similar").click()
    first = page.locator("#map-gallery .caption-label").first
    expect(first).to_contain_text(f"1.000 · {name}")
    expect(page.locator("#map-view .mm-pick")).to_have_attribute("data-state", "selected")
    _shot(page, f"33-map-similar-{width}")

    _pick(page, "map-coll", "Demo: shop")
    expect(page.locator("#map-gallery .caption-label")).to_have_count(0)
    expect(page.locator("#map-view .mm-map")).to_have_count(0)
    _shot(page, f"34-map-collection-changed-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_two_thousand_thumbnails_are_painted(browser: Browser, tmp_path: Path, width: int) -> None:
    count = 2000
    page_file, _ = synthetic_page(tmp_path, count)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(page_file.as_uri())
    page.wait_for_function(PAINTED, arg=count)
    root = page.locator(".mm-map")
    assert float(root.get_attribute("data-paint-ms") or "nan") >= 0  # a time was recorded
    # A point no later picture covers shows its own flat colour (JPEG: within a few levels).
    checked = 0
    for i in range(0, count, 40):
        if _covered(page, i, count):
            continue
        colour = _pixels(page, [tuple(page.evaluate(SCREEN, i))])[0]
        assert max(abs(a - b) for a, b in zip(colour, tile_colour(i), strict=True)) < 24, i
        checked += 1
    assert checked >= 10, checked
    page.locator("[data-zoom=in]").click()
    expect(root).to_have_attribute("data-scale", "1.600")
    expect(root).to_have_attribute("data-painted", re.compile(r"^\d+$"))
    context.close()


def _covered(page: Page, i: int, count: int) -> bool:
    """Whether a later point's picture or its frame reaches point i's centre (drawn on top)."""
    return bool(
        page.evaluate(
            """([i, n]) => { const m = document.querySelector('.mm-map').mmMap;
              const [x, y] = m.screenOf(i); const half = m.edge() / 2;
              for (let j = i + 1; j < n; j += 1) { const [a, b] = m.screenOf(j);
                if (Math.abs(a - x) <= half + 2 && Math.abs(b - y) <= half + 2) return true; }
              return false; }""",
            [i, count],
        )
    )
