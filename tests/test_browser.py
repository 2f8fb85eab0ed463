"""End to end in headless Chromium: the page a visitor uses, step by step.

Drives ``python app.py`` (the ``web_app`` fixture) with Playwright and Debian's Chromium
(never a downloaded browser). Each step leaves a screenshot in ``test-artifacts/browser/``.
"""

import contextlib
import csv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import WebApp
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
WAIT_MS = 90_000
# Records every text the progress tracker shows inside an element, however briefly.
WATCH_PROGRESS = """(selector) => {
  window.progressSeen = [];
  const target = document.querySelector(selector);
  new MutationObserver(() => {
    const text = target.innerText;
    if (/\\d+\\/\\d+ files/.test(text)) window.progressSeen.push(text);
  }).observe(target, {subtree: true, childList: true, characterData: true});
}"""
IMAGES_LOADED = """() => [...document.querySelectorAll('.result-gallery img')]
  .filter((img) => img.offsetParent !== null)
  .every((img) => img.complete && img.naturalWidth > 0)"""
COLLECTION = "browser"


@pytest.fixture
def page(browser: Browser, web_app: WebApp) -> Iterator[Page]:
    """A fresh tab on the app, with downloads allowed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    opened.goto(web_app.url)
    yield opened
    context.close()


PHOTOS = Path(__file__).resolve().parents[1] / "assets" / "photos"


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


def _shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot once visible result images have loaded.

    Toasts are fixed to the viewport, so shoot those with ``full_page=False``.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    # A lazy image outside the viewport may never load: the screenshot is a record, not a check.
    with contextlib.suppress(PlaywrightTimeoutError):
        page.wait_for_function(IMAGES_LOADED, timeout=10_000)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def _choose(dropdown: Locator, value: str) -> None:
    """Type a value into a gradio dropdown that accepts custom values, and confirm it."""
    field = dropdown.locator("input")
    field.click()
    field.fill(value)
    field.press("Enter")
    field.blur()


def _first_caption(page: Page, gallery: str) -> Locator:
    return page.locator(f"{gallery} .caption-label").first


def test_first_screen_runs_the_sample_query(page: Page, web_app: WebApp) -> None:
    expect(page.locator("#status")).to_contain_text("ready")
    expect(page.locator("#search-text textarea")).to_have_value("a cup of coffee")
    _shot(page, "01-first-screen")
    page.locator("#search-button").click()
    # Judged by meaning with the offline real-weights model: the coffee photo comes first.
    expect(_first_caption(page, "#search-gallery")).to_contain_text("coffee.jpg")
    expect(page.locator("#search-timings")).to_contain_text("embed")
    _shot(page, "02-sample-query")
    page.locator("#search-text textarea").fill("")
    page.locator("#search-button").click()
    expect(
        page.get_by_text("Empty query: type some text or give an example image.")
    ).to_be_visible()
    expect(page.get_by_text("Traceback")).to_have_count(0)
    _shot(page, "02b-empty-query-message", full_page=False)


def _index_uploads(page: Page, files: dict[str, Path]) -> None:
    page.get_by_role("tab", name="Collections").click()
    chosen = [files[name] for name in ("rocket.jpg", "chelsea.jpg", "coffee.jpg", "more.zip")]
    page.locator("#upload-files input[type=file]").set_input_files([str(p) for p in chosen])
    page.locator("#collection-name textarea").fill(COLLECTION)
    page.evaluate(WATCH_PROGRESS, "#index-summary")
    page.get_by_role("button", name="Index images").click()
    _shot(page, "03-indexing-progress")
    summary = page.locator("#index-summary")
    expect(summary).to_contain_text("4 added")
    progress_seen = page.evaluate("window.progressSeen")
    assert any("/5 files" in text for text in progress_seen), progress_seen
    expect(summary).to_contain_text("1 rejected")
    expect(page.locator("#rejected")).to_contain_text("more.zip!broken.jpg")
    _shot(page, "04-index-summary")


def _text_search(page: Page) -> None:
    page.get_by_role("tab", name="Search").click()
    _choose(page.locator("#search-coll"), COLLECTION)
    page.locator("#search-text textarea").fill("a space rocket")
    page.locator("#search-text textarea").press("Enter")
    # Judged by meaning with the offline real-weights model: the rocket photo comes first.
    expect(_first_caption(page, "#search-gallery")).to_contain_text("rocket.jpg")
    _shot(page, "05a-text-search")


def _image_search(page: Page, files: dict[str, Path]) -> None:
    page.locator("#search-text textarea").fill("")
    page.locator("#search-image input[type=file]").set_input_files(str(files["chelsea.jpg"]))
    expect(page.locator("#search-image img")).to_be_visible()
    page.locator("#search-button").click()
    first = _first_caption(page, "#search-gallery")
    expect(first).to_contain_text("chelsea.jpg")
    expect(first).to_contain_text("1.000")
    _shot(page, "05-image-search")


def _find_similar(page: Page) -> None:
    second = page.locator("#search-gallery .thumbnail-item").nth(1)
    name = second.locator(".caption-label").inner_text().split(" · ")[-1]
    second.click()
    expect(page.locator("#find-similar")).to_be_enabled()
    page.locator("#find-similar").click()
    first = _first_caption(page, "#search-gallery")
    expect(first).to_contain_text(name)
    expect(first).to_contain_text("1.000")
    # The detail panel belonged to the old results: it is cleared, not left stale.
    expect(page.locator("#find-similar")).to_be_disabled()
    _shot(page, "06-find-similar")


def _download_csv(page: Page) -> None:
    with page.expect_download() as download:
        page.locator("#download-csv").click()
    target = ARTIFACTS / "07-search-results.csv"
    download.value.save_as(target)
    with target.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["rank"] for row in rows] == ["1", "2", "3", "4"]
    assert {"id", "file_name", "score", "rerank_score", "model", "reranker"} <= set(rows[0])
    assert "path" not in rows[0]


def _compare(page: Page, siglip: Path, reranker: Path) -> None:
    page.get_by_role("tab", name="Compare").click()
    page.locator("#cmp-text textarea").fill("an astronaut")
    _choose(page.locator("#cmp-coll"), COLLECTION)
    _choose(page.locator("#compare-model-B"), str(siglip))
    _choose(page.locator("#compare-reranker-B"), str(reranker))
    page.locator("#compare-button").click()
    expect(page.locator("#compare-info-B")).to_contain_text("not indexed")
    expect(_first_caption(page, "#gallery-A")).to_be_visible()
    _shot(page, "08-compare-needs-index")
    page.get_by_role("button", name="Index with this model").click()
    expect(page.locator("#compare-agreement")).to_contain_text("overlap@4: 1.00")
    expect(_first_caption(page, "#gallery-B")).to_contain_text("↔ B#1")
    _shot(page, "09-compare")


def test_upload_search_similar_download_compare(
    page: Page,
    upload_files: dict[str, Path],
    tiny_siglip_dir: Path,
    tiny_reranker_dir: Path,
) -> None:
    expect(page.locator("#status")).to_contain_text("ready")
    _index_uploads(page, upload_files)
    _text_search(page)
    _image_search(page, upload_files)
    _find_similar(page)
    _download_csv(page)
    _compare(page, tiny_siglip_dir, tiny_reranker_dir)
