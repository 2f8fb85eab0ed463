"""The Search tab's first screen and what follows it, at 1280x800 and 390x844.

The first results show without scrolling, the secondary controls fold under the query box,
no dropdown's text runs under its arrow, the query image's label leaves its upload icon
free, a change of collection searches again there, an error toast closes at the next
success, and the detail panel names no internal id. Uses ``web_app`` (the three demos);
screenshots go to ``test-artifacts/browser/``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_helpers import HASH, _first_result, _open, _pick, _rank1, _shot
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

SIZES = {1280: 800, 390: 844}
#: Each visible dropdown whose text reaches under its arrow: [label, text right, arrow left].
UNDER_ARROW = """() => [...document.querySelectorAll('.secondary-wrap')]
  .filter((wrap) => wrap.offsetParent !== null)
  .map((wrap) => {
    const input = wrap.querySelector('input'), icon = wrap.querySelector('.icon-wrap');
    if (!input || !icon || !input.value) return null;
    const box = input.getBoundingClientRect(), style = getComputedStyle(input);
    const textRight = box.right - parseFloat(style.paddingRight);
    return [input.getAttribute('aria-label'), textRight, icon.getBoundingClientRect().left];
  })
  .filter((entry) => entry && entry[1] > entry[2])"""


@pytest.fixture(params=list(SIZES), ids=[str(w) for w in SIZES])
def page(request: pytest.FixtureRequest, browser: Browser, web_app: WebApp) -> Iterator[Page]:
    """A fresh tab at a desktop's 1280x800 or a phone's 390x844, its first results shown."""
    width = int(request.param)
    with _open(browser, web_app.url, width, SIZES[width]) as opened:
        expect(_first_result(opened)).to_have_attribute("alt", _rank1("coffee.jpg"))
        yield opened


def _width(page: Page) -> int:
    return int(page.viewport_size["width"]) if page.viewport_size else 0


def _box(page: Page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def test_the_first_results_show_without_scrolling(page: Page) -> None:
    width, height = _width(page), SIZES[_width(page)]
    assert page.evaluate("() => window.scrollY") == 0
    card = _box(page, "#search-results .mm-card")
    # The whole #1 picture and its match bar are on the first screen.
    assert card["y"] + card["width"] + 20 <= height, card
    assert page.evaluate("() => document.documentElement.scrollWidth") <= width
    # The secondary controls are folded, under the query box and above the results.
    query, folds = _box(page, "#search-text"), _box(page, "#search-folds")
    assert query["y"] < folds["y"] < card["y"], (query, folds, card)
    for fold, inside in (
        ("#search-image-fold", "#search-image"),
        ("#search-options", "#search-where"),
    ):
        expect(page.locator(fold)).to_be_visible()
        expect(page.locator(inside)).to_be_hidden()
    assert page.evaluate(UNDER_ARROW) == []
    _shot(page, f"30-first-screen-{width}", full_page=False)


def test_the_query_image_label_leaves_the_upload_icon_free(page: Page) -> None:
    width = _width(page)
    page.locator("#search-image-fold").get_by_text("Query image").click()
    icon = page.locator("#search-image .upload-container svg").first
    expect(icon).to_be_visible()
    # What shows at the icon's centre is the icon (or its upload button), not a label.
    uncovered = icon.evaluate(
        """(svg) => { const b = svg.getBoundingClientRect();
        const hit = document.elementFromPoint(b.left + b.width / 2, b.top + b.height / 2);
        return svg.contains(hit) || hit.contains(svg); }"""
    )
    assert uncovered
    page.locator("#search-options").get_by_text("More options").click()
    expect(page.locator("#search-model")).to_be_visible()
    assert page.evaluate(UNDER_ARROW) == []
    if width < 480:  # an open fold takes the phone's whole width, not half of it
        assert _box(page, "#search-options")["width"] > width * 0.75
        assert _box(page, "#search-image-fold")["width"] > width * 0.75
    _shot(page, f"31-folds-open-{width}")


def test_a_new_collection_is_searched_at_once(page: Page) -> None:
    width = _width(page)
    query = page.locator("#search-text textarea")
    # The sample query becomes the shop's own example, and the shop answers it.
    _pick(page, "search-coll", "Demo: shop")
    expect(query).not_to_have_value("a cup of coffee")
    expect(_first_result(page)).to_have_attribute("alt", re.compile(r"^#1 [a-z]+-.*\.jpg"))
    expect(page.locator("#search-examples button").first).to_have_text(query.input_value())
    _shot(page, f"32-collection-shop-{width}", full_page=False)
    # A query the visitor wrote stays, and runs on the next collection.
    query.fill("line chart")
    page.locator("#search-button").click()
    expect(_first_result(page)).to_have_attribute("alt", re.compile(r"^#1 [a-z]+-.*\.jpg"))
    _pick(page, "search-coll", "Demo: documents")
    expect(_first_result(page)).to_have_attribute("alt", re.compile(r"^#1 .*\.pdf p\. \d"))
    expect(query).to_have_value("line chart")
    _shot(page, f"33-collection-documents-{width}", full_page=False)


def test_an_error_toast_closes_at_the_next_success(page: Page) -> None:
    width = _width(page)
    query = page.locator("#search-text textarea")
    query.fill("")
    page.locator("#search-button").click()
    toast = page.locator(".toast-wrap .toast-body")
    expect(toast.first).to_be_visible()
    _shot(page, f"34-error-toast-{width}", full_page=False)
    query.fill("a space rocket")
    page.locator("#search-button").click()
    expect(_first_result(page)).to_have_attribute("alt", _rank1("rocket.jpg"))
    expect(toast).to_have_count(0)


def test_the_detail_panel_names_no_internal_id(page: Page) -> None:
    width = _width(page)
    page.locator("#search-results .mm-open").first.click()
    body = page.locator(".mm-lb-body")
    expect(body).to_contain_text("coffee.jpg")
    text = body.inner_text()
    assert not HASH.search(text), text
    assert not re.search(r"(^|\s)/(tmp|root|home|work|data)/", text), text
    _shot(page, f"35-detail-{width}", full_page=False)
