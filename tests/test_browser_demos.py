"""The demos and issue 26's page parts in headless Chromium, at 1280 and 390 px.

The collection pickers name the demos for what they are ("Demo: shop"), each collection
shows its own example chips (from its captions and metadata), Compare and Map start from an
example of the chosen collection, and the Collections tab's OCR checkbox makes a word found
only inside one image searchable, its text shown in the detail panel. Uses ``web_app`` (the
full three-demo first start); screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from mmdemo.demos import ASSETS
from mmdemo.search.examples import EXAMPLE_COLUMNS
from mmdemo.ui.context import SAMPLE_QUERY

from browser_helpers import WAIT_MS, _first_result, _open, _pick, _rank1, _shot, open_tab
from formatfactory import noise, text_image
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

DEMOS = ["Demo: photos", "Demo: shop", "Demo: documents"]


@pytest.fixture(params=[1280, 390], ids=["1280", "390"])
def page(request: pytest.FixtureRequest, browser: Browser, web_app: WebApp) -> Iterator[Page]:
    """A fresh tab on the app at a desktop's and at a phone's width, its first screen shown."""
    width = int(request.param)
    with _open(browser, web_app.url, width, 900 if width > 400 else 844) as opened:
        expect(_first_result(opened)).to_have_attribute("alt", _rank1("coffee.jpg"))
        yield opened


def _width(page: Page) -> int:
    return int(page.viewport_size["width"]) if page.viewport_size else 0


def _queries_of(demo: str) -> tuple[set[str], set[str]]:
    """What a demo's examples may be made of: its caption and example-column values (and
    the first phrase of each caption), and its item names."""
    with (ASSETS / demo / "captions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts = {row.get(c, "").strip() for row in rows for c in ("caption", *EXAMPLE_COLUMNS)}
    texts |= {re.split(r"[:.;!?(\n]", row.get("caption", ""))[0].strip() for row in rows}
    return texts - {""}, {row["file_name"] for row in rows}


def _words_of(demo: str) -> dict[str, set[str]]:
    """Each item's own words: its caption and column values, and the first phrase of each."""
    with (ASSETS / demo / "captions.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    words = {}
    for row in rows:
        values = {row.get(c, "").strip() for c in ("caption", *EXAMPLE_COLUMNS)}
        words[row["file_name"]] = values | {re.split(r"[:.;!?(\n]", v)[0].strip() for v in values}
    return words


def _chips_belong_to(page: Page, demo: str) -> list[str]:
    """The example chips shown, each checked to come from ``demo``'s own items; an image
    chip's words are that image's own (its two halves belong together)."""
    chips = page.locator("#search-examples button")
    expect(chips.first).to_be_visible()
    labels = chips.all_inner_texts()
    texts, names = _queries_of(demo)
    words = _words_of(demo)
    for label in labels:
        if label.startswith("Image: "):
            name, _, said = label.removeprefix("Image: ").partition(" + “")
            assert name in names, (demo, label)
            assert not said or said.removesuffix("”") in words[name], (demo, label)
        else:
            assert any(label in text for text in texts), (demo, label)
    return labels


def test_the_pickers_name_the_demos_and_each_shows_its_own_chips(page: Page) -> None:
    width = _width(page)
    expect(page.locator("#search-coll input")).to_have_value("Demo: photos")
    page.locator("#search-coll input").click()
    options = page.get_by_role("option")
    expect(options.first).to_be_visible()
    shown = [text.replace("✓", "").strip() for text in options.all_inner_texts()]
    assert shown[:3] == DEMOS, shown  # the demos first, in their order
    assert not any(text.startswith("demo-") for text in shown), shown
    _shot(page, f"20-demo-picker-{width}", full_page=False)
    page.locator("h1").click()  # closes the list (Escape would leave the field unable to reopen it)
    expect(options).to_have_count(0)
    photos = _chips_belong_to(page, "photos")
    seen = {"photos": photos}
    for label, demo in [("Demo: shop", "shop"), ("Demo: documents", "documents")]:
        _pick(page, "search-coll", label)
        before = list(seen.values())[-1][0]
        expect(page.locator("#search-examples button").first).not_to_have_text(before)
        seen[demo] = _chips_belong_to(page, demo)
        _shot(page, f"21-{demo}-chips-{width}")
    assert len({tuple(chips) for chips in seen.values()}) == 3, seen
    # A shop chip runs on the shop: its first result is one of the shop's products.
    text_chip = page.locator("#search-examples button").first
    _pick(page, "search-coll", "Demo: shop")
    text_chip.click()
    expect(_first_result(page)).to_have_attribute("alt", re.compile(r"^#1 [a-z]+-.*\.jpg"))


def test_compare_and_map_start_from_an_example_of_the_chosen_collection(page: Page) -> None:
    width = _width(page)
    documents, _ = _queries_of("documents")
    open_tab(page, "Compare")
    query = page.locator("#cmp-text textarea")
    photos, _ = _queries_of("photos")
    expect(query).not_to_have_value(SAMPLE_QUERY)  # the photos demo's example instead
    started = query.input_value()
    assert started in photos, started
    expect(page.locator("#cmp-coll input")).to_have_value("Demo: photos")
    _pick(page, "cmp-coll", "Demo: documents")
    expect(query).not_to_have_value(started)  # the change event's answer has arrived
    assert query.input_value() in documents, query.input_value()
    page.locator("#compare-button").click()
    expect(page.locator("#compare-results-A .mm-card").first).to_be_visible()
    _shot(page, f"22-compare-documents-{width}")
    open_tab(page, "Map")
    _pick(page, "map-coll", "Demo: shop")
    shop, _ = _queries_of("shop")
    map_query = page.locator("#map-text textarea")
    expect(map_query).not_to_have_value(
        re.compile(f"^({re.escape(SAMPLE_QUERY)}|{re.escape(started)})$")
    )
    assert map_query.input_value() in shop, map_query.input_value()
    _shot(page, f"23-map-shop-{width}", full_page=False)


@pytest.fixture(scope="module")
def signs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """A receipt whose words appear in no other image, a sign, and a noise picture."""
    folder = tmp_path_factory.mktemp("browser-signs")
    text_image(["INVOICE 2291", "Total 42.50 EUR paid"]).save(folder / "receipt.png")
    text_image(["ZEBRAFISH aquarium supplies", "keep refrigerated"]).save(folder / "label.png")
    noise(3, (320, 240)).save(folder / "noise.png")
    return sorted(folder.iterdir())


def test_the_ocr_checkbox_makes_text_inside_an_image_searchable(
    page: Page, signs: list[Path], web_app: WebApp
) -> None:
    width = _width(page)
    collection = f"ocr-signs-{width}"
    open_tab(page, "Collections")
    page.locator("#upload-files input[type=file]").set_input_files([str(p) for p in signs])
    page.locator("#collection-name textarea").fill(collection)
    checkbox = page.get_by_label("Read text in images (OCR)")
    expect(checkbox).not_to_be_checked()  # off by default
    checkbox.check()
    page.get_by_role("button", name="Index images").click()
    expect(page.locator("#index-summary")).to_contain_text("3 added", timeout=WAIT_MS)
    _shot(page, f"24-ocr-indexed-{width}")
    open_tab(page, "Search")
    _pick(page, "search-coll", collection)  # the visitor's own collection keeps its name
    page.locator("#search-text textarea").fill("invoice")
    page.locator("#search-text textarea").press("Enter")
    expect(_first_result(page)).to_have_attribute("alt", _rank1("receipt.png"))
    _first_result(page).click()
    lightbox = page.locator("#search-results .mm-lightbox")
    expect(lightbox).to_contain_text("text in the image")
    expect(lightbox).to_contain_text("INVOICE 2291 Total 42.50 EUR paid")
    _shot(page, f"25-ocr-detail-panel-{width}", full_page=False)
