"""The text/image weight slider acts on the reranked order on the page (headless Chromium).

A text+image query ("a tabby cat" + the rocket photo) over the demo collection, with the
page's default reranker on: leaning on the text puts the cat photo first, leaning on the
image puts the rocket first. Uses the ``web_app`` fixture and the browser of conftest.py;
screenshots go to ``test-artifacts/browser/``.
"""

import re

import pytest
from playwright.sync_api import Browser, expect

from browser_helpers import PHOTOS, WAIT_MS, _first_result, _rank1, _search_again, _shot, set_slider
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def test_moving_the_weight_changes_the_reranked_order(browser: Browser, web_app: WebApp) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(web_app.url)
    # The sample query ran with the default reranker: the page is ready.
    expect(_first_result(page)).to_have_attribute("alt", _rank1("coffee.jpg"))
    page.get_by_text("More options").click()  # the set-up and options: folded at first
    expect(page.locator("#search-reranker input")).to_have_value(re.compile("lite", re.I))
    page.locator("#search-image-fold").get_by_text("Query image").click()
    page.locator("#search-image input[type=file]").set_input_files(str(PHOTOS / "rocket.jpg"))
    expect(page.locator("#search-image img")).to_be_visible()
    set_slider(page, "search-weight", 0.9)
    # Typed last, once the upload and the accordion have settled, and checked before searching.
    page.locator("#search-text textarea").fill("a tabby cat")
    expect(page.locator("#search-text textarea")).to_have_value("a tabby cat")
    # The accordion may still have been mounting when the slider was first set, which loses
    # the value after the number box showed it: set and check it again just before searching.
    set_slider(page, "search-weight", 0.9)
    _search_again(page, page.locator("#search-button"))
    expect(_first_result(page)).to_have_attribute("alt", _rank1("chelsea.jpg"))
    expect(page.locator("#search-results .mm-legend")).to_contain_text("reranker")
    _shot(page, "15-weight-text-side")
    set_slider(page, "search-weight", 0.1)
    _search_again(page, page.locator("#search-button"))
    expect(_first_result(page)).to_have_attribute("alt", _rank1("rocket.jpg"))
    expect(page.locator("#search-results .mm-legend")).to_contain_text("reranker")
    _shot(page, "16-weight-image-side")
    context.close()
