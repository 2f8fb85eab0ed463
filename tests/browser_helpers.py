"""What the browser tests share: opening a tab on the app, screenshots, and the page's
controls driven as a visitor drives them. Every wait is on the page's own state, never a
fixed time. Fixtures (``browser``, ``page``) live in conftest.py."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from mmdemo.demos import PHOTOS_DIR
from mmdemo.models.lite import MODELS_DIR

from helpers import WebApp

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
WAIT_MS = 90_000
# expect() has its own 5 s default, too short for a model answering on two busy cores.
expect.set_options(timeout=WAIT_MS)
IMAGES_LOADED = """() => [...document.querySelectorAll('.mm-open > img, .gallery img')]
  .filter((img) => img.offsetParent !== null)
  .every((img) => img.complete && img.naturalWidth > 0)"""
PHOTOS = PHOTOS_DIR
#: What a page must never show: a 64-character hex id (a content hash) or a server path.
HASH = re.compile(r"\b[0-9a-f]{64}\b")
SERVER_PATH = re.compile(r"(^|[\s`'\"(“:])/(tmp|root|home|work|data|srv|usr|var|opt)/")
#: How often a lost slider value is set again, and how long each try waits for it.
SET_TRIES = 10
TRY_MS = 5_000


def set_slider(page: Page, elem_id: str, value: float) -> None:
    """Drag-equivalent: set the range input of slider ``elem_id`` (it fires input and
    change, as a drag does), until the slider's number box shows the new value. A slider in
    the accordion can still be mounting when it first shows, and a value set then is lost,
    so it is set again (each try waits on the number box, never a fixed sleep)."""
    slider = page.locator(f"#{elem_id} input[type=range]")
    number = page.locator(f"#{elem_id} input[type=number]")
    expect(slider).to_be_visible()
    for _ in range(SET_TRIES):
        slider.fill(str(value))
        try:
            expect(number).to_have_value(str(value), timeout=TRY_MS)
            return
        except AssertionError:
            continue
    expect(number).to_have_value(str(value))


@contextlib.contextmanager
def _open(browser: Browser, url: str, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(
        viewport={"width": width, "height": height}, accept_downloads=True
    )
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    opened.goto(url)
    yield opened
    context.close()


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


def _first_result(page: Page) -> Locator:
    """The #1 result's thumbnail: its alt text names the file and caption."""
    return page.locator("#search-results .mm-results .mm-open > img").first


def _rank1(name: str) -> re.Pattern[str]:
    return re.compile(rf"^#1 {re.escape(name)}")


def _search_again(page: Page, action: Locator) -> None:
    """Click ``action`` and wait until the results panel has been rendered anew."""
    page.evaluate(
        "() => { document.querySelector('#search-results .mm-results').dataset.old = 1; }"
    )
    action.click()
    page.wait_for_function(
        "() => { const r = document.querySelector('#search-results .mm-results');"
        " return r && !r.dataset.old; }",
        timeout=WAIT_MS,
    )


def open_tab(page: Page, name: str) -> None:
    """Open the page's tab ``name``: from the tab row, or at a phone's width, where the row has no
    room for it, from the "More tabs" menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if not tab.is_visible():
        page.get_by_role("button", name="More tabs").click()
        tab = page.locator(".overflow-dropdown").get_by_role("button", name=name, exact=True)
    tab.click()


def _pick(page: Page, picker: str, label: str) -> None:
    """Choose the option shown as ``label`` in a collection picker, as a visitor typing
    into it does: the list narrows to it, Enter takes it."""
    field = page.locator(f"#{picker} input")
    field.click()
    field.fill(label)
    expect(page.get_by_role("option", name=label, exact=True)).to_be_visible()
    field.press("Enter")
    field.blur()
    expect(field).to_have_value(label)


def assert_nothing_internal(text: str, web_app: WebApp) -> None:
    """No content hash and no server path (the data dir, a temp dir, a model folder) in
    ``text``, what a page shows."""
    assert not HASH.search(text), text
    assert not SERVER_PATH.search(text), text
    for folder in (web_app.data_dir, MODELS_DIR):
        assert str(folder) not in text, text
