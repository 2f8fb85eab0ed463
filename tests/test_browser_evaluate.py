"""The Evaluate tab and the near-duplicates panel, end to end in headless Chromium (the Map:
test_browser_map.py).

Uses the shared ``web_app`` (offline ``lite`` model, demo indexed). Each test indexes its
own collection through the API, then works on the page like a visitor. Screenshots at
1280 and 390 px wide go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from gradio_client import Client, handle_file
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from mmdemo.demos import SAMPLE_PHOTOS

from browser_helpers import ARTIFACTS, PHOTOS, WAIT_MS, _choose
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

#: The table's cells marked as their column's best (bold on green), as their texts.
BEST_MARKED = """(cells) => cells
  .filter((cell) => getComputedStyle(cell).backgroundColor === 'rgb(211, 249, 216)')
  .map((cell) => cell.textContent.trim())"""
#: Evaluating two set-ups includes indexing the second model first: generous on 2 cores.
RUN_MS = 300_000
WIDTHS = (1280, 390)


@pytest.fixture
def page(browser: Browser, web_app: WebApp) -> Iterator[Page]:
    """A fresh 1280-px tab on the app."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    opened.goto(web_app.url)
    expect(opened.locator("#status")).to_contain_text("ready")
    yield opened
    context.close()


def shots(page: Page, name: str) -> None:
    """Full-page screenshots at each width, back at 1280 px afterwards."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_function("() => document.fonts.ready.then(() => true)")
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def index(web_app: WebApp, collection: str, files: list[Path], captions: Path | None) -> None:
    """Index ``files`` into a new collection with the app's model, through the API."""
    client = Client(web_app.url, verbose=False)
    report = client.predict(
        files=[handle_file(str(f)) for f in files],
        captions=handle_file(str(captions)) if captions else None,
        collection=collection,
        models=[web_app.model],
        api_name="/index",
    )
    assert report["added"] == len(files), report


def test_evaluate_two_setups_shows_chart_and_disagreements(page: Page, web_app: WebApp) -> None:
    photos = sorted(PHOTOS / name for name in SAMPLE_PHOTOS)
    index(web_app, "eval-page", photos, PHOTOS / "captions.csv")
    page.get_by_role("tab", name="Evaluate").click()
    _choose(page.locator("#eval-coll"), "eval-page")
    _choose(page.locator("#eval-models"), "lite-b2")  # not indexed yet: indexed by the run
    page.locator("#eval-button").click()
    table = page.locator("#eval-table")
    # The run first indexes lite-b2 (its progress shows in the table), then evaluates.
    expect(table).to_contain_text("Recall@10", timeout=RUN_MS)  # metric names in words
    for name in ("MRR", "nDCG@10", "ms per query"):
        expect(table).to_contain_text(name)
    expect(table.get_by_role("gridcell", name="lite-b2", exact=True)).to_be_visible()
    expect(page.locator("#eval-note")).to_contain_text("rerankers see only the images")
    expect(page.locator("#eval-chart canvas, #eval-chart svg").first).to_be_visible()
    expect(
        page.locator("#eval-download").get_by_role("cell", name="evaluation.csv")
    ).to_be_visible()
    queries = page.locator("#eval-per-query .mm-query")
    expect(queries.first).to_be_visible()
    first = queries.first
    expect(first.locator(".mm-row")).to_have_count(3)  # expected, set-up A, set-up B
    expect(first.locator(".mm-row").nth(1).locator("img")).to_have_count(5)
    expect(first.locator(".mm-right").first).to_be_visible()  # the expected image, framed
    assert page.evaluate(
        "() => [...document.querySelectorAll('#eval-per-query img')]"
        ".every((img) => img.complete && img.naturalWidth > 0)"
    )
    # The best value of each metric column (and the fastest time) is marked.
    marked = page.locator("#eval-table .body-cell").evaluate_all(BEST_MARKED)
    assert len(marked) >= 6, marked
    # At a phone's width the page keeps its width (the table scrolls inside its box) and a
    # model's chip keeps whole words together (at most two lines).
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_function("() => document.documentElement.scrollWidth <= 390")
    box = table.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    chip = page.locator("#eval-models .token").first.bounding_box()
    assert chip and chip["height"] < 60 and chip["width"] > 200, chip
    page.set_viewport_size({"width": 1280, "height": 900})
    shots(page, "evaluate")


def test_planted_near_duplicates_are_found_and_pruned(
    page: Page, web_app: WebApp, tmp_path: Path
) -> None:
    originals = [PHOTOS / n for n in ("chelsea.jpg", "coffee.jpg", "rocket.jpg", "coins.jpg")]
    with Image.open(PHOTOS / "chelsea.jpg") as photo:
        photo.resize((photo.width // 2, photo.height // 2)).save(tmp_path / "chelsea-small.png")
    with Image.open(PHOTOS / "coffee.jpg") as photo:
        photo.save(tmp_path / "coffee-q50.jpg", quality=50)
    planted = [tmp_path / "chelsea-small.png", tmp_path / "coffee-q50.jpg"]
    index(web_app, "dupes", originals + planted, None)
    page.get_by_role("tab", name="Collections").click()
    page.locator("#dup-panel").get_by_text("Near-duplicates").click()
    _choose(page.locator("#dup-coll"), "dupes")
    page.locator("#dup-button").click()
    groups = page.locator("#dup-groups .mm-group")
    expect(groups).to_have_count(2, timeout=RUN_MS)
    texts = sorted(groups.all_inner_texts())
    assert "chelsea.jpg" in texts[0] and "chelsea-small.png" in texts[0], texts
    assert "coffee.jpg" in texts[1] and "coffee-q50.jpg" in texts[1], texts
    shots(page, "duplicates")
    page.get_by_label("I understand: this deletes the other images.").check()
    page.locator("#dup-delete").click()
    expect(page.locator("#dup-groups")).to_contain_text("Deleted 2 image(s)")
    expect(groups).to_have_count(0)
