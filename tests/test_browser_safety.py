"""A public page in headless Chromium: visitors are isolated and nothing they plant runs.

Drives the ``multiuser_app`` fixture (``python app.py`` with ``MMDEMO_MULTIUSER=1``) with
two browser contexts, i.e. two visitors. One uploads an image whose file name and caption
carry HTML (an outside ``<img>`` pointing at a local server that records every hit, a
``<form>``, a ``<script>``, a Markdown image); the page must show all of it as text.
Screenshots at 1280 and 390 px wide go to ``test-artifacts/browser-safety/``.
"""

from __future__ import annotations

import csv
import hashlib
import http.server
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Browser, Page, expect

from mmdemo.config import Settings
from mmdemo.store import Store
from mmdemo.ui import media

from helpers import WebApp

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser-safety"
WAIT_MS = 90_000
# Assertions wait as long as actions: indexing on a busy 2-core machine takes its time.
expect.set_options(timeout=WAIT_MS)
COLLECTION = "planted"
FILE_NAME = "<form id=planted-form-file><input id=planted-input value=file>.png"
PLANTED = "form#planted-form-file, form#planted-form-caption, #planted-input, #planted-script"


class _Hits(http.server.BaseHTTPRequestHandler):
    """Records the path of every request; answers 404."""

    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        """Quiet: the test reads :attr:`seen`."""


@pytest.fixture(scope="module")
def outside() -> Iterator[tuple[str, list[str]]]:
    """A local HTTP server standing in for an outside site: (base URL, paths requested)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hits)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Hits.seen
    server.shutdown()


@pytest.fixture(scope="module")
def planted_files(
    tmp_path_factory: pytest.TempPathFactory, outside: tuple[str, list[str]]
) -> tuple[Path, Path, str]:
    """A zip holding an image with a planted file name, its captions CSV, and the caption.

    The name travels inside a zip: gradio strips '<' and '>' from uploaded file names.
    """
    folder = tmp_path_factory.mktemp("planted")
    image = folder / "image.png"
    pixels = np.random.default_rng(5).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(image)
    archive = folder / "planted.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.write(image, FILE_NAME)
    base, _ = outside
    caption = (
        f"<img src={base}/caption-img><form id=planted-form-caption><input></form>"
        f"<script id=planted-script>window.planted = 1</script> ![md]({base}/caption-md)"
    )
    captions = folder / "captions.csv"
    with captions.open("w", newline="") as handle:
        csv.writer(handle).writerows([["file_name", "caption"], [FILE_NAME, caption]])
    return archive, captions, caption


def _visitor(browser: Browser, app: WebApp, width: int) -> Page:
    """A new visitor: a fresh browser context (its own gradio session) on the app."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    page.goto(app.url)
    expect(page.locator("#status")).to_contain_text("ready")
    return page


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _index(page: Page, image: Path, captions: Path) -> None:
    page.get_by_role("tab", name="Collections").click()
    page.locator("#upload-files input[type=file]").set_input_files(str(image))
    page.locator("#upload-captions input[type=file]").set_input_files(str(captions))
    page.locator("#collection-name textarea").fill(COLLECTION)
    page.get_by_role("button", name="Index images").click()
    expect(page.locator("#index-summary")).to_contain_text("1 added")


def _search_and_select(page: Page) -> None:
    page.get_by_role("tab", name="Search").click()
    field = page.locator("#search-coll input")
    field.fill(COLLECTION)
    field.press("Enter")
    field.blur()
    page.locator("#search-button").click()
    first = page.locator("#search-results .mm-results .mm-open > img").first
    expect(first).to_have_attribute("alt", re.compile(re.escape(f"#1 {FILE_NAME}")))
    first.click()
    expect(page.locator("#search-results .mm-lightbox")).to_be_visible()


def _assert_nothing_planted(page: Page, hits: list[str]) -> None:
    assert page.locator(PLANTED).count() == 0
    assert page.evaluate("window.planted") is None
    assert hits == []


def test_visitors_are_isolated_and_planted_markup_shows_as_text(
    browser: Browser,
    multiuser_app: WebApp,
    planted_files: tuple[Path, Path, str],
    outside: tuple[str, list[str]],
) -> None:
    image, captions, caption = planted_files
    _, hits = outside
    uploader = _visitor(browser, multiuser_app, 1280)
    _index(uploader, image, captions)
    _search_and_select(uploader)
    details = uploader.locator("#search-results .mm-lightbox")
    expect(details).to_contain_text(caption)
    expect(details).to_contain_text(FILE_NAME)
    # The lightbox's only image is the result itself; nothing planted became an element.
    assert details.locator("a, form, script").count() == 0
    assert details.locator("img").count() == 1
    _assert_nothing_planted(uploader, hits)
    # Pictures come through signed URLs: the page names no server path.
    assert str(multiuser_app.data_dir.resolve()) not in uploader.content()
    shown = details.locator("img").get_attribute("src") or ""
    assert shown.startswith(media.ROUTE)
    assert uploader.request.get(multiuser_app.url + shown).status == 200
    _shot(uploader, "01-planted-caption-1280")
    uploader.set_viewport_size({"width": 390, "height": 900})
    _shot(uploader, "02-planted-caption-390")
    uploader.set_viewport_size({"width": 1280, "height": 900})
    uploader.keyboard.press("Escape")  # close the lightbox: it is modal
    expect(details).to_be_hidden()

    # At 390 px gradio folds some tabs into a menu, so the other visitor opens the tab wide.
    other = _visitor(browser, multiuser_app, 1280)
    other.get_by_role("tab", name="Collections").click()
    expect(other.locator("#collections_table, .table-wrap").first).to_contain_text("demo")
    assert COLLECTION not in other.locator(".table-wrap").first.inner_text()
    # The other visitor cannot fetch (nor learn of) the private copy by its content hash.
    digest = hashlib.sha256((image.parent / "image.png").read_bytes()).hexdigest()
    copy = (multiuser_app.data_dir / "images" / f"{digest}.png").resolve()
    assert copy.exists()
    for path in (f"/gradio_api/file={copy}", f"{media.ROUTE}/image/{copy.name}?s={'0' * 32}"):
        assert other.request.get(multiuser_app.url + path).status == 403
    other.set_viewport_size({"width": 390, "height": 900})
    _shot(other, "03-other-visitor-390")
    uploader.get_by_role("tab", name="Collections").click()
    expect(uploader.locator(".table-wrap").first).to_contain_text(COLLECTION)
    _assert_nothing_planted(uploader, hits)

    uploader.context.close()  # the visitor leaves: gradio's unload removes their collection
    store = Store(Settings(data_dir=multiuser_app.data_dir))  # a fresh client on its data dir
    suffix = f".{COLLECTION}"
    _eventually(
        lambda: not any(name.endswith(suffix) for name in store.names()),
        f"a collection ending in {suffix!r} outlived its visitor",
    )
    # Its files go right after its vectors: the picture stops being served.
    _eventually(
        lambda: other.request.get(multiuser_app.url + shown).status == 404,
        "the departed visitor's picture is still served",
    )


def _eventually(holds: Callable[[], bool], failure: str, timeout_s: float = 120.0) -> None:
    """Poll ``holds`` until it is true, failing with ``failure`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not holds():
        assert time.monotonic() < deadline, failure
        time.sleep(0.5)
