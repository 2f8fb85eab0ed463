"""The Fine-tune tab in headless Chromium: a short run on the demo collection's captions
reaches the before/after table (a push with no network only adds a sentence), and its
button opens Compare with base vs fine-tuned, both named by their display names; no page
on the way shows a server path or a content hash."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser_helpers import ARTIFACTS, _choose, assert_nothing_internal
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

TRAIN_WAIT_MS = 400_000
# Records every progress text shown over the summary, however briefly.
WATCH_LOSS = """() => {
  window.lossSeen = [];
  const target = document.querySelector('#ft-summary');
  new MutationObserver(() => {
    if (/loss \\d/.test(target.innerText)) window.lossSeen.push(target.innerText);
  }).observe(target, {subtree: true, childList: true, characterData: true});
}"""


def _shots(page: Page, name: str) -> None:
    """Screenshots at a desktop (1280 px) and a phone (390 px) width."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 1000})


def test_finetune_from_the_page(page: Page, web_app: WebApp) -> None:
    expect(page.locator("#status")).to_contain_text("ready")
    page.get_by_role("tab", name="Fine-tune").click()
    _choose(page.locator("#ft-coll"), "demo-photos")
    page.locator("#ft-name textarea").fill("demo-tuned")
    page.get_by_label("Epochs (0 = default)").fill("2")
    page.get_by_label("Batch size (0 = default)").fill("4")
    page.locator("#ft-push textarea").fill("me/demo-tuned")
    page.evaluate(WATCH_LOSS)
    page.locator("#ft-button").click()
    table = page.locator("#ft-table")
    expect(table).to_contain_text("recall@10", timeout=TRAIN_WAIT_MS)
    expect(table).to_contain_text("ndcg@10")
    expect(page.locator("#ft-summary")).to_contain_text("Fine-tuned lite on 49 pairs")
    expect(page.locator("#ft-summary")).to_contain_text("but was not pushed to me/demo-tuned")
    loss_seen = page.evaluate("window.lossSeen")
    assert any("train" in text for text in loss_seen), loss_seen
    assert (Path(web_app.data_dir) / "finetuned" / "demo-tuned" / "README.md").is_file()
    _shots(page, "ft-01-before-after")

    expect(page.locator("#ft-summary")).to_contain_text("Saved as demo-tuned")
    assert_nothing_internal(page.locator("body").inner_text(), web_app)

    page.locator("#ft-compare").click()
    expect(page.locator("#compare-button")).to_be_visible()
    # Base vs fine-tuned, each named by its display name, never by a server path.
    expect(page.locator("#compare-model-A input")).to_have_value(re.compile(r"^Offline lite"))
    expect(page.locator("#compare-model-B input")).to_have_value("demo-tuned")
    expect(page.locator("#compare-reranker-B input")).to_have_value("None")
    page.locator("#compare-button").click()
    expect(page.locator("#compare-agreement")).to_contain_text("overlap", timeout=TRAIN_WAIT_MS)
    expect(page.locator("#compare-info-B")).to_contain_text("model demo-tuned")
    page.locator("#compare-vote-A").click()
    expect(page.locator("#compare-tally")).to_contain_text(
        re.compile(r"Lite \(A\) preferred on 1 of 1 query \(demo-tuned on 0")
    )
    assert_nothing_internal(page.locator("body").inner_text(), web_app)
    _shots(page, "ft-02-compare")

    page.get_by_role("tab", name="Collections").click()
    page.get_by_role("button", name="Refresh list").click()
    # The table's visible cells (gradio also renders a hidden copy to size the columns).
    cells = page.get_by_text(re.compile(r"demo-tuned: \d+")).filter(visible=True)
    expect(cells.first).to_be_visible()
    assert_nothing_internal(page.locator("body").inner_text(), web_app)
