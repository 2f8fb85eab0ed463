"""Compare in headless Chromium: the verdict first, linked galleries, one-click reranker pair.

Uses the ``web_app`` fixture (offline real-weights models, demo collection indexed) and
the browser fixture of conftest.py; screenshots go to ``test-artifacts/browser/``.
"""

import re

import pytest
from conftest import WebApp
from playwright.sync_api import Browser, Page, expect
from test_browser import WAIT_MS, _shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

#: What the verdict says for a reranked comparison: what moved, or why nothing did.
TOLD = re.compile(r"Verdict:.*(The reranker moved \d+ of the top \d+|return the same)")


def _open_compare(browser: Browser, web_app: WebApp, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(web_app.url)
    expect(page.locator("#status")).to_contain_text("ready", timeout=WAIT_MS)
    page.get_by_role("tab", name="Compare").click()
    return page


@pytest.mark.parametrize("width", [1280, 390])
def test_with_vs_without_reranker_tells_the_story(
    browser: Browser, web_app: WebApp, width: int
) -> None:
    page = _open_compare(browser, web_app, width)
    page.locator("#cmp-text textarea").fill("a space rocket")
    page.locator("#compare-reranker-pair").click()
    verdict = page.locator("#compare-verdict")
    # The app's own signal that the comparison is done: the verdict replaces the spinner.
    expect(verdict).to_contain_text(TOLD, timeout=WAIT_MS)
    expect(page.locator("#compare-reranker-B input")).to_have_value(re.compile("lite", re.I))
    expect(page.locator("#compare-reranker-A input")).to_have_value("None")
    # Every image on both sides carries a link badge or says it is only on one side.
    for side in ("A", "B"):
        captions = page.locator(f"#gallery-{side} .caption-label")
        expect(captions.first).to_contain_text(re.compile(rf"A#\d+ ↔ B#\d+|{side}#\d+ · only"))
        for image in page.locator(f"#gallery-{side} .thumbnail-item img").all():
            assert ".jpg" in (image.get_attribute("alt") or "")
    # The verdict comes before the galleries.
    verdict_box = verdict.bounding_box()
    gallery_box = page.locator("#gallery-A").bounding_box()
    assert verdict_box and gallery_box and verdict_box["y"] < gallery_box["y"]
    _shot(page, f"10-compare-reranker-pair-{width}")
    page.context.close()
