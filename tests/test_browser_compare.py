"""Compare in headless Chromium: the verdict first, linked cards, one-click reranker pair,
and neither Compare nor Collections shows a content hash or a server path.

Uses the ``web_app`` fixture (offline real-weights models, demo collection indexed) and
the browser fixture of conftest.py; screenshots go to ``test-artifacts/browser/``.
"""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from mmdemo.models.lite import RERANKER_DIRS

from browser_helpers import WAIT_MS, _choose, _shot, assert_nothing_internal, open_tab
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

#: What the verdict says for a reranked comparison: what moved, or why nothing did.
TOLD = re.compile(r"Verdict:.*(The reranker moved \d+ of the top \d+|return the same)")
#: Every result card of both sides, with its box, badge, link colour and item id.
CARDS = """() => [...document.querySelectorAll('[id^=compare-results-] .mm-card')].map((card) => {
  const box = card.getBoundingClientRect();
  return {side: card.closest('[id^=compare-results-]').id.slice(-1), item: card.dataset.item,
    left: box.left, right: box.right, width: box.width, only: card.classList.contains('mm-only'),
    colour: getComputedStyle(card).borderTopColor, dashed: getComputedStyle(card).borderTopStyle,
    badge: card.querySelector('.mm-badge .mm-label').textContent,
    alt: card.querySelector('img').alt};
})"""


def _open_compare(browser: Browser, web_app: WebApp, width: int) -> Page:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(web_app.url)
    expect(page.locator("#status")).to_contain_text("ready", timeout=WAIT_MS)
    page.get_by_role("tab", name="Compare").click()
    return page


def _check_cards(page: Page, width: int) -> None:
    """Every card fits the viewport's width; a shared item has one colour on both sides and
    the same A#i ↔ B#j badge; an item only one side has is dashed and says so."""
    cards = page.evaluate(CARDS)
    assert {card["side"] for card in cards} == {"A", "B"}, cards
    for card in cards:
        assert card["width"] > 0 and card["left"] >= 0 and card["right"] <= width, card
        assert ".jpg" in card["alt"], card
    sides = {side: {c["item"]: c for c in cards if c["side"] == side} for side in "AB"}
    shared = sides["A"].keys() & sides["B"].keys()
    assert shared, cards
    for item in shared:
        a, b = sides["A"][item], sides["B"][item]
        assert a["colour"] == b["colour"], (a, b)
        assert b["badge"].startswith(a["badge"]) and "↔" in a["badge"], (a, b)
    colours = {sides["A"][item]["colour"] for item in shared}
    assert len(colours) == min(len(shared), 10), colours
    for side, items in sides.items():
        for item, card in items.items():
            assert card["only"] == (item not in shared), card
            if card["only"]:
                assert card["dashed"] == "dashed" and f"only {side}" in card["badge"], card


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
    expect(page.locator("#compare-results-B .mm-card").first).to_be_visible()
    _check_cards(page, width)
    # The verdict comes before the results.
    verdict_box = verdict.bounding_box()
    results_box = page.locator("#compare-results-A").bounding_box()
    assert verdict_box and results_box and verdict_box["y"] < results_box["y"]
    _shot(page, f"10-compare-reranker-pair-{width}")
    page.context.close()


#: Each set-up's dropdown shows its whole name: its text fits the box inside its padding
#: (which keeps clear of the arrow), so nothing is cut off or ellipsised.
CUT_NAMES = """() => [...document.querySelectorAll(
  '[id^=compare-model-] input, [id^=compare-reranker-] input')].filter((box) => {
    const style = getComputedStyle(box);
    const pen = document.createElement('canvas').getContext('2d');
    pen.font = style.font;
    const room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return pen.measureText(box.value).width > room + 1;
  }).map((box) => box.value)"""


@pytest.mark.parametrize("width", [1280, 390])
def test_known_answers_name_the_winner_and_a_viewer_votes(
    browser: Browser, web_app: WebApp, width: int
) -> None:
    page = _open_compare(browser, web_app, width)
    page.locator("#cmp-text textarea").fill("a space rocket")
    page.locator("#cmp-expected textarea, #cmp-expected input").first.fill("rocket.jpg")
    page.locator("#compare-reranker-pair").click()
    verdict = page.locator("#compare-verdict")
    winner = re.compile(r"Verdict: (A|B) is better for this query|A tie for this query|Neither")
    expect(verdict).to_contain_text(winner, timeout=WAIT_MS)
    expect(verdict).to_contain_text("rocket.jpg")
    expect(page.locator("#compare-results-A .mm-expected").first).to_contain_text("✓ expected")
    assert page.evaluate(CUT_NAMES) == []
    # The vote sits right under the verdict, before the set-ups and their results.
    told, ballot = verdict.bounding_box(), page.locator("#compare-vote-B").bounding_box()
    first_a = page.locator("#compare-results-A .mm-card").first.bounding_box()
    first_b = page.locator("#compare-results-B .mm-card").first.bounding_box()
    assert told and ballot and first_a and first_b
    assert 0 <= ballot["y"] - (told["y"] + told["height"]) < 60, (told, ballot)
    assert ballot["y"] < first_a["y"]
    # A's and B's results share rows, at a phone's width too: #1 beside #1.
    assert abs(first_a["y"] - first_b["y"]) < 50 and first_a["x"] < first_b["x"], (first_a, first_b)
    page.locator("#compare-vote-B").click()
    # Two set-ups of one model are named by what differs: the reranker.
    expect(page.locator("#compare-tally")).to_contain_text(
        re.compile(r"With reranker lite \(B\) preferred on \d+ of \d+ quer.*without reranker")
    )
    _shot(page, f"11-compare-winner-vote-{width}")


@pytest.mark.parametrize("width", [1280, 390])
def test_compare_and_collections_show_no_internal_id_or_server_path(
    browser: Browser, web_app: WebApp, width: int
) -> None:
    page = _open_compare(browser, web_app, width)
    page.locator("#cmp-text textarea").fill("a cup of coffee")
    # The operator's own reranker folder (local models are allowed in this app): no path.
    _choose(page.locator("#compare-reranker-B"), str(RERANKER_DIRS["lite"]))
    page.locator("#compare-button").click()
    expect(page.locator("#compare-verdict")).to_contain_text("Verdict:", timeout=WAIT_MS)
    expect(page.locator("#compare-results-B .mm-card").first).to_be_visible()
    page.locator("#compare-vote-B").click()
    expect(page.locator("#compare-tally")).to_contain_text("preferred on")
    assert_nothing_internal(page.locator("body").inner_text(), web_app)
    _shot(page, f"12-compare-folder-reranker-{width}")

    open_tab(page, "Collections")
    page.get_by_role("button", name="Refresh list").click()
    expect(page.get_by_text("demo-photos").first).to_be_visible(timeout=WAIT_MS)
    assert_nothing_internal(page.locator("body").inner_text(), web_app)
    page.context.close()
