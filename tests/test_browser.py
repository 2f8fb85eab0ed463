"""End to end in headless Chromium: the page a visitor uses, step by step.

Drives ``python app.py`` (the ``web_app`` fixture) with Playwright and Debian's Chromium
(never a downloaded browser). Each step leaves a screenshot in ``test-artifacts/browser/``.
Every wait is on the page's own state (results rendered, a button enabled), never a fixed
time: the suite must pass on two busy cores. The accessibility check injects axe-core from
``.axe/package/axe.min.js``, which tests/run.sh fetches with ``npm pack``.
"""

import csv
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_helpers import (
    ARTIFACTS,
    PHOTOS,
    _choose,
    _first_result,
    _open,
    _rank1,
    _search_again,
    _shot,
)
from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]

# Records every text the progress tracker shows inside an element, however briefly.
WATCH_PROGRESS = """(selector) => {
  window.progressSeen = [];
  const target = document.querySelector(selector);
  new MutationObserver(() => {
    const text = target.innerText;
    if (/\\d+\\/\\d+ files/.test(text)) window.progressSeen.push(text);
  }).observe(target, {subtree: true, childList: true, characterData: true});
}"""
COLLECTION = "browser"
AXE = Path(__file__).resolve().parents[1] / ".axe" / "package" / "axe.min.js"
#: Serious and critical axe-core violations of the page as it is now.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations
    .filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map((n) => n.target)}));
}"""
#: Whether every result card lies fully inside the viewport's width, with its image showing.
CARDS_FIT = """() => [...document.querySelectorAll('#search-results .mm-results .mm-card')]
  .every((card) => {
    const box = card.getBoundingClientRect();
    return box.width > 0 && box.left >= 0 && box.right <= window.innerWidth;
  })"""
#: Whether the #1 image is what shows at its own centre (nothing covers it).
FIRST_UNCOVERED = """() => {
  const img = document.querySelector('#search-results .mm-open > img');
  img.scrollIntoView({block: 'center'});
  const box = img.getBoundingClientRect();
  return document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2) === img;
}"""


@pytest.fixture
def phone(browser: Browser, web_app: WebApp) -> Iterator[Page]:
    """A fresh tab on the app at a phone's 390 px."""
    with _open(browser, web_app.url, 390, 844) as opened:
        yield opened


@pytest.fixture(scope="module")
def upload_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three real photos and a zip holding one more photo and one corrupt file."""
    folder = tmp_path_factory.mktemp("browser-uploads")
    files = {name: PHOTOS / name for name in ("rocket.jpg", "chelsea.jpg", "coffee.jpg")}
    files["more.zip"] = folder / "more.zip"
    with zipfile.ZipFile(files["more.zip"], "w") as archive:
        archive.write(PHOTOS / "astronaut.jpg", "astronaut.jpg")
        archive.writestr("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
    return files


def test_first_screen_shows_results_of_the_sample_query(page: Page) -> None:
    # No click: the sample query ran as soon as the demo collection was ready.
    expect(page.locator("#search-text textarea")).to_have_value("a cup of coffee")
    # Judged by meaning with the offline real-weights model: the coffee photo comes first.
    expect(_first_result(page)).to_have_attribute("alt", _rank1("coffee.jpg"))
    expect(page.locator("#status")).to_contain_text("Offline model: runs without internet.")
    expect(page.locator("#search-results .mm-legend")).to_contain_text("reranker")
    _shot(page, "01-first-screen-1280")
    page.locator("#search-text textarea").fill("")
    _search_again(page, page.locator("#search-button"))
    expect(
        page.get_by_text("Empty query: type some text or give an example image.")
    ).to_be_visible()
    # The error replaced the stale results instead of sitting on top of them.
    expect(page.locator("#search-results .mm-card")).to_have_count(0)
    expect(page.locator("#search-results")).to_contain_text("This search did not run.")
    expect(page.get_by_text("Traceback")).to_have_count(0)
    _shot(page, "02-empty-query-message", full_page=False)


def test_an_example_query_runs_on_click(page: Page) -> None:
    expect(_first_result(page)).to_have_attribute("alt", _rank1("coffee.jpg"))
    example = page.locator("#search-examples button", has_text="Image:").first
    name = example.inner_text().removeprefix("Image: ").split(" + ")[0]
    _search_again(page, example)
    expect(page.locator("#search-text textarea")).to_have_value("")
    expect(page.locator("#search-image img")).to_be_visible()
    # An image query finds that very image first.
    expect(_first_result(page)).to_have_attribute("alt", _rank1(name))
    _shot(page, "03-example-image-query")


def test_lightbox_then_find_similar_leaves_the_image_out(page: Page) -> None:
    first = _first_result(page)
    expect(first).to_have_attribute("alt", _rank1("coffee.jpg"))
    first.click()
    lightbox = page.locator("#search-results .mm-lightbox")
    expect(lightbox).to_be_visible()
    expect(lightbox).to_contain_text("a cup of coffee on a saucer")
    expect(lightbox).to_contain_text("similarity")
    expect(lightbox.locator("img")).to_have_attribute("alt", _rank1("coffee.jpg"))
    _shot(page, "04-lightbox", full_page=False)
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()
    first.click()
    _search_again(page, lightbox.get_by_role("button", name="Find similar"))
    expect(page.locator("#search-image img")).to_be_visible()
    expect(lightbox).to_be_hidden()
    alts = page.locator("#search-results .mm-open > img").evaluate_all(
        "(imgs) => imgs.map((img) => img.alt)"
    )
    assert alts and not any("coffee.jpg" in alt for alt in alts), alts
    _shot(page, "05-find-similar")


def test_cards_show_the_match_the_words_matched_and_the_rerankers_move(
    page: Page, phone: Page
) -> None:
    for view, width in ((page, 1280), (phone, 390)):
        first = view.locator("#search-results .mm-card").first
        expect(first.locator("img").first).to_have_attribute("alt", _rank1("coffee.jpg"))
        expect(first.locator(".mm-badge meter")).to_have_count(1)
        expect(first.locator(".mm-badge")).to_contain_text(re.compile(r"#1 · \d+% strong"))
        expect(first).to_contain_text("matched: cup, coffee")
        move = re.compile(r"^(kept its place|moved (up|down) \d+)$")
        expect(first.locator(".mm-line").first).to_have_text(move)
        legend = view.locator("#search-results .mm-legend")
        expect(legend).to_contain_text("0-100 %, on the same scale in every search")
        first.scroll_into_view_if_needed()
        view.locator("#search-results").screenshot(path=ARTIFACTS / f"06b-cards-{width}.png")


def test_phone_layout_shows_every_result_whole(phone: Page) -> None:
    expect(_first_result(phone)).to_have_attribute("alt", _rank1("coffee.jpg"))
    toggle = phone.locator("#search-results .mm-weaker > summary")
    if toggle.count():
        toggle.click()
    assert phone.evaluate(CARDS_FIT)
    assert phone.evaluate(FIRST_UNCOVERED)
    _shot(phone, "06-first-screen-390")


@pytest.mark.parametrize("tab", ["Search", "Compare", "Collections"])
def test_no_serious_accessibility_violations(page: Page, tab: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: tests/run.sh fetches it with `npm pack axe-core`.")
    expect(_first_result(page)).to_have_attribute("alt", _rank1("coffee.jpg"))
    page.get_by_role("tab", name=tab).click()
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(AXE_RUN)
    assert violations == [], violations


def _index_uploads(page: Page, files: dict[str, Path]) -> None:
    page.get_by_role("tab", name="Collections").click()
    chosen = [files[name] for name in ("rocket.jpg", "chelsea.jpg", "coffee.jpg", "more.zip")]
    page.locator("#upload-files input[type=file]").set_input_files([str(p) for p in chosen])
    page.locator("#collection-name textarea").fill(COLLECTION)
    page.evaluate(WATCH_PROGRESS, "#index-summary")
    page.get_by_role("button", name="Index images").click()
    _shot(page, "09-indexing-progress")
    summary = page.locator("#index-summary")
    expect(summary).to_contain_text("4 added")
    progress_seen = page.evaluate("window.progressSeen")
    assert any("/5 files" in text for text in progress_seen), progress_seen
    expect(summary).to_contain_text("1 rejected")
    expect(page.locator("#rejected")).to_contain_text("more.zip!broken.jpg")
    # The run is over: the upload box is empty for the next one.
    expect(page.locator("#upload-files")).not_to_contain_text("rocket.jpg")
    _shot(page, "10-index-summary")


def _text_search(page: Page) -> None:
    page.get_by_role("tab", name="Search").click()
    _choose(page.locator("#search-coll"), COLLECTION)
    page.locator("#search-text textarea").fill("a space rocket")
    page.locator("#search-text textarea").press("Enter")
    # Judged by meaning with the offline real-weights model: the rocket photo comes first.
    expect(_first_result(page)).to_have_attribute("alt", _rank1("rocket.jpg"))
    _shot(page, "11-text-search")


def _image_search(page: Page, files: dict[str, Path]) -> None:
    page.locator("#search-text textarea").fill("")
    page.locator("#search-image-fold").get_by_text("Query image").click()  # folded at first
    page.locator("#search-image input[type=file]").set_input_files(str(files["chelsea.jpg"]))
    expect(page.locator("#search-image img")).to_be_visible()
    page.locator("#search-button").click()
    expect(_first_result(page)).to_have_attribute("alt", _rank1("chelsea.jpg"))
    # The image itself is found with cosine similarity 1, whatever the reranker adds.
    _first_result(page).click()
    lightbox = page.locator("#search-results .mm-lightbox")
    expect(lightbox).to_contain_text(re.compile(r"similarity\s*1\.000"))
    _shot(page, "12-image-search")
    page.keyboard.press("Escape")
    expect(lightbox).to_be_hidden()


def _download_csv(page: Page) -> None:
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    target = ARTIFACTS / "07-search-results.csv"
    download.value.save_as(target)
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["rank"] for row in rows] == ["1", "2", "3", "4"]
    wanted = {"id", "file_name", "match", "similarity", "rerank_score", "model", "reranker"}
    assert wanted <= set(rows[0])
    assert "path" not in rows[0]


def _compare(page: Page, siglip: Path, reranker: Path) -> None:
    page.get_by_role("tab", name="Compare").click()
    page.locator("#cmp-text textarea").fill("an astronaut")
    _choose(page.locator("#cmp-coll"), COLLECTION)
    _choose(page.locator("#compare-model-B"), str(siglip))
    _choose(page.locator("#compare-reranker-B"), str(reranker))
    page.locator("#compare-button").click()
    expect(page.locator("#compare-info-B")).to_contain_text("not indexed")
    expect(page.locator("#compare-results-A .mm-card").first).to_be_visible()
    _shot(page, "13-compare-needs-index")
    page.get_by_role("button", name="Index with this model").click()
    expect(page.locator("#compare-agreement")).to_contain_text("overlap@4: 1.00")
    expect(page.locator("#compare-results-B .mm-badge").first).to_contain_text("↔ B#1")
    _shot(page, "14-compare")


def test_upload_search_download_compare(
    page: Page,
    upload_files: dict[str, Path],
    tiny_siglip_dir: Path,
    tiny_reranker_dir: Path,
) -> None:
    expect(_first_result(page)).to_have_attribute("alt", _rank1("coffee.jpg"))
    _index_uploads(page, upload_files)
    _text_search(page)
    _image_search(page, upload_files)
    _download_csv(page)
    _compare(page, tiny_siglip_dir, tiny_reranker_dir)
