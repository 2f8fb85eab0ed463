"""Shared test set-up: no network, no telemetry, and the tiny models every test loads."""

import atexit
import os
import shutil
import tempfile

# Tests never reach the Hub or send analytics, whatever the calling shell sets.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
# A Hugging Face home of this test run's own: exported ONNX / OpenVINO graphs (kept beside
# the HF cache) never reach the user's cache, and no test sees models cached there.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="mmdemo-test-hf-home-")
os.environ["MMDEMO_GRAPH_CACHE"] = ""  # blank: beside that HF home

# --- tiny local models (owner: tiny_models.py) ---------------------------------------------
# Built once per session from seeded random weights; tests load them by folder path.

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mmdemo.config import Settings
from mmdemo.ingest.indexer import index_paths
from mmdemo.store import Store

from helpers import (
    COLOURS,
    PHOTOS_DEMO_ONLY,
    WebApp,
    _free_port,
    _serve_app,
    _stop,
    _wait_for_heartbeat,
    write_images,
)
from tiny_models import build_tiny_clip, build_tiny_siglip, build_tiny_vlm_reranker

atexit.register(shutil.rmtree, os.environ["HF_HOME"], True)


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny CLIP that ``SentenceTransformer(folder)`` loads (text + image, 16-d)."""
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_siglip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny SigLIP that ``SentenceTransformer(folder)`` loads (text + image, 32-d)."""
    return build_tiny_siglip(tmp_path_factory.mktemp("tiny-siglip"))


@pytest.fixture(scope="session")
def tiny_reranker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny Llava + LogitScore chain that ``CrossEncoder(folder)`` reloads."""
    return build_tiny_vlm_reranker(tmp_path_factory.mktemp("tiny-reranker"))


# --- runtime (owner: test_runtime.py) ------------------------------------------------------
# A test's own loaded models, text batcher, thread governor, Chroma clients and files lock,
# instead of clearing or patching the process default's.


@pytest.fixture
def runtime() -> Any:
    """A fresh :class:`mmdemo.runtime.Runtime` (no model loaded yet; models never expire)."""
    from mmdemo.runtime import Runtime

    return Runtime()


@pytest.fixture
def encoded_texts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text any embedder encodes during the test, in order (the real encode runs)."""
    from mmdemo.embed import Embedder

    encoded: list[str] = []
    original = Embedder.encode_texts

    def counting(self: Embedder, texts: list[str], *args: Any, **kwargs: Any) -> Any:
        encoded.extend(texts)
        return original(self, texts, *args, **kwargs)

    monkeypatch.setattr(Embedder, "encode_texts", counting)
    return encoded


# --- a data dir and a small indexed collection (owner: test_pipeline.py) --------------------


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu")


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = write_images(tmp_path / "photos", COLOURS)
    captions = pd.DataFrame(
        {
            "file_name": list(COLOURS),
            "caption": [f"a plain {name[:-4]} square" for name in COLOURS],
            "photographer": ["ann", "bob", "cy", "di", "ed", "fay"],
        }
    )
    captions.to_csv(folder.parent / "captions.csv", index=False)
    return folder


@pytest.fixture
def indexed(photos: Path, settings: Settings, store: Store, tiny_clip_dir: Path) -> str:
    index_paths(
        [photos],
        collection="colours",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
        captions=photos.parent / "captions.csv",
    )
    return str(tiny_clip_dir)


# --- Chroma server (owner: test_store.py) --------------------------------------------------
# A real `chroma run` on a free local port, started once per session and stopped after it.


@pytest.fixture(scope="session")
def chroma_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a real Chroma server (the `chroma` console script) for this test session."""
    import shutil
    import sys

    script = Path(sys.executable).with_name("chroma")
    executable = str(script) if script.exists() else shutil.which("chroma")
    if executable is None:
        pytest.fail("the `chroma` console script from chromadb is not installed")
    port = _free_port()
    folder = tmp_path_factory.mktemp("chroma-server")
    log = (folder / "server.log").open("wb")
    command = [executable, "run", "--path", str(folder / "db"), "--host", "127.0.0.1"]
    server = subprocess.Popen([*command, "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_heartbeat(url, server)
        yield url
    finally:
        _stop(server)
        log.close()


# --- web app under test (owner: test_ui_api.py and test_browser.py) ------------------------
# `python app.py` in a subprocess on a free port with its own data folder, started once per
# session and shared by the API and browser tests (each uses its own collections).


@pytest.fixture(scope="session")
def web_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """The app as run locally: one user, who sees and changes everything."""
    yield from _serve_app(tmp_path_factory, "web-app", {})


@pytest.fixture(scope="session")
def multiuser_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """The app as on a public Space: each session sees only its own and the shared collections.

    Only the photos demo (MMDEMO_DEMO_SOURCES drops the others): the visitor rules are the
    same for every shared collection, and ``web_app`` covers the full three-demo start-up."""
    extra = {"MMDEMO_MULTIUSER": "1", **PHOTOS_DEMO_ONLY}
    yield from _serve_app(tmp_path_factory, "multiuser-app", extra)


@pytest.fixture(scope="session")
def public_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """The app as a Space runs it by default: multi-visitor, and no server folder may be named.

    Only the photos demo, as in ``multiuser_app``: the policy treats every demo alike."""
    env = {"MMDEMO_MULTIUSER": "1", "MMDEMO_ALLOW_LOCAL_MODELS": "0", **PHOTOS_DEMO_ONLY}
    yield from _serve_app(tmp_path_factory, "public-app", env)


# --- headless Chromium (owner: test_browser.py and test_browser_safety.py) ----------------
# Debian's Chromium driven by Playwright, launched once per session; never a downloaded one.

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (a playwright ``Browser``)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install it with `apt-get install -y chromium`.")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, web_app: WebApp) -> Iterator[Any]:
    """A fresh tab on the app at 1280 px, with downloads allowed (a playwright ``Page``)."""
    from browser_helpers import _open

    with _open(browser, web_app.url, 1280, 900) as opened:
        yield opened
