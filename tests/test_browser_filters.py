"""The metadata filter box and the caption-weight slider act on the page (headless Chromium).

A collection of four demo photos is indexed through the Collections tab with a captions CSV
whose ``price`` column becomes metadata. Two captions are swapped on purpose: the rocket photo
is captioned "a cup of coffee on a saucer" and the coffee photo "a space rocket on its launch
pad", so the query "a cup of coffee" must rank the coffee photo first when captions barely
count, and the rocket photo first when they count most. No reranker, so the order is the
first stage's alone. Uses the ``web_app`` fixture and the browser of conftest.py; every wait
is on the page's own state; screenshots go to ``test-artifacts/browser/``.
"""

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_helpers import (
    PHOTOS,
    _choose,
    _first_result,
    _open,
    _rank1,
    _search_again,
    _shot,
    set_slider,
)
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

COLLECTION = "priced"
#: file name -> (caption, price); the rocket and coffee captions are swapped on purpose.
ITEMS = {
    "rocket.jpg": ("a cup of coffee on a saucer", 120),
    "coffee.jpg": ("a space rocket on its launch pad", 3),
    "chelsea.jpg": ("a tabby cat lying down", 5),
    "astronaut.jpg": ("an astronaut in a space suit", 80),
}
CHEAP = "price < 10"
ALTS = "(imgs) => imgs.map((img) => img.alt)"


@pytest.fixture(scope="module")
def captions_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A captions CSV for ITEMS: file_name, caption and a numeric price column."""
    path = tmp_path_factory.mktemp("browser-captions") / "captions.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_name", "caption", "price"])
        writer.writerows([name, caption, price] for name, (caption, price) in ITEMS.items())
    return path


@pytest.fixture
def page(browser: Browser, web_app: WebApp) -> Iterator[Page]:
    """A fresh tab on the app at 1280 px whose first search has already shown results."""
    with _open(browser, web_app.url, 1280, 900) as opened:
        expect(_first_result(opened)).to_have_attribute("alt", _rank1("coffee.jpg"))
        yield opened


@pytest.fixture(scope="module")
def priced(browser: Browser, web_app: WebApp, captions_csv: Path) -> str:
    """COLLECTION, indexed once through the Collections tab with its captions CSV."""
    with _open(browser, web_app.url, 1280, 900) as page:
        expect(_first_result(page)).to_have_attribute("alt", _rank1("coffee.jpg"))
        page.get_by_role("tab", name="Collections").click()
        page.locator("#upload-files input[type=file]").set_input_files(
            [str(PHOTOS / name) for name in ITEMS]
        )
        page.locator("#upload-captions input[type=file]").set_input_files(str(captions_csv))
        page.locator("#collection-name textarea").fill(COLLECTION)
        page.get_by_role("button", name="Index images").click()
        expect(page.locator("#index-summary")).to_contain_text(f"{len(ITEMS)} added")
    return COLLECTION


def _shown_files(page: Page) -> set[str]:
    """The file names of every result card, weaker matches included."""
    alts = page.locator("#search-results .mm-open > img").evaluate_all(ALTS)
    return {match.group(1) for alt in alts if (match := re.match(r"#\d+ (\S+\.jpg)", alt))}


def _open_options(page: Page) -> None:
    page.get_by_text("More options").click()
    expect(page.locator("#search-where textarea")).to_be_visible()


def _search_collection(page: Page, collection: str, text: str) -> None:
    page.get_by_role("tab", name="Search").click()
    _choose(page.locator("#search-coll"), collection)
    _open_options(page)  # the reranker sits in the folded options
    _choose(page.locator("#search-reranker"), "none")
    page.locator("#search-text textarea").fill(text)


def test_filter_box_keeps_matching_items_and_explains_a_bad_filter(page: Page, priced: str) -> None:
    _search_collection(page, priced, "a space rocket")
    page.locator("#search-where textarea").fill("")
    _search_again(page, page.locator("#search-button"))
    assert _shown_files(page) == set(ITEMS)
    page.locator("#search-where textarea").fill(CHEAP)
    _search_again(page, page.locator("#search-button"))
    cheap = {name for name, (_, price) in ITEMS.items() if price < 10}
    assert _shown_files(page) == cheap
    _shot(page, "17-filter-price")
    page.locator("#search-where textarea").fill("price < cheap")
    page.locator("#search-button").click()
    expect(
        page.get_by_text("Condition 'price < cheap' compares with '<', which needs a number.")
    ).to_be_visible()
    expect(page.locator("#search-results")).to_contain_text("This search did not run.")
    # The error replaced the stale results instead of sitting on top of them.
    expect(page.locator("#search-results .mm-card")).to_have_count(0)
    expect(page.get_by_text("Traceback")).to_have_count(0)
    _shot(page, "18-filter-error")


def test_caption_weight_slider_reorders_a_case_built_for_it(
    page: Page, priced: str, browser: Browser, web_app: WebApp
) -> None:
    """rocket.jpg's caption is the query word for word: with exact words off, the caption
    weight alone decides between its caption and coffee.jpg's pixels; with exact words on, the
    caption wins even where captions barely count."""
    _search_collection(page, priced, "a cup of coffee")
    page.locator("#search-where textarea").fill("")
    set_slider(page, "search-lexical-weight", 0)
    set_slider(page, "search-caption-weight", 0.05)
    _search_again(page, page.locator("#search-button"))
    expect(_first_result(page)).to_have_attribute("alt", _rank1("coffee.jpg"))
    set_slider(page, "search-caption-weight", 0.95)
    _search_again(page, page.locator("#search-button"))
    expect(_first_result(page)).to_have_attribute("alt", _rank1("rocket.jpg"))
    set_slider(page, "search-caption-weight", 0.05)
    set_slider(page, "search-lexical-weight", 0.4)
    _search_again(page, page.locator("#search-button"))
    expect(_first_result(page)).to_have_attribute("alt", _rank1("rocket.jpg"))
    _shot(page, "19-caption-weight-1280")
    with _open(browser, web_app.url, 390, 844) as small:
        expect(_first_result(small)).to_have_attribute("alt", _rank1("coffee.jpg"))
        _open_options(small)
        small.locator("#search-where textarea").fill(CHEAP)
        small.locator("#search-caption-weight").scroll_into_view_if_needed()
        _shot(small, "20-filter-caption-controls-390")
