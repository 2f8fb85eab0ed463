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

import pytest

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


# --- Chroma server (owner: test_store.py) --------------------------------------------------
# A real `chroma run` on a free local port, started once per session and stopped after it.


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


def open_tab(page: Any, name: str) -> None:
    """Open the page's tab ``name``: from the tab row, or at a phone's width, where the row
    has no room for it, from the "More tabs" menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if not tab.is_visible():
        page.get_by_role("button", name="More tabs").click()
        tab = page.locator(".overflow-dropdown").get_by_role("button", name=name, exact=True)
    tab.click()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop a server process: politely, then for sure."""
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def _wait_for_heartbeat(url: str, server: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    """Poll the server's heartbeat until it answers; fail if it exits or takes too long."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"chroma run exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"chroma run did not answer at {url} within {timeout_s:.0f} s")


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


class WebApp:
    """A running app: its URL, data folder, default embedder and log file."""

    def __init__(self, url: str, data_dir: Path, model: str, log: Path) -> None:
        self.url = url
        self.data_dir = data_dir
        self.model = model
        self.log = log


#: The app's default embedder under test: the offline real-weights model, so results rank
#: by meaning and the browser test can name the photo that must come first.
WEB_MODEL = "lite"
#: The environment of an app that sets up only the photos demo (the first start's others
#: take most of a start-up): for fixtures whose tests need no other demo.
PHOTOS_DEMO_ONLY = {"MMDEMO_DEMO_SOURCES": "shop=;documents="}


def _wait_for_demo(url: str, server: subprocess.Popen[bytes], timeout_s: float = 600.0) -> None:
    """Wait until the app answers and its demo collections are indexed (its /status says so)."""
    import time

    from gradio_client import Client

    deadline = time.monotonic() + timeout_s
    client = None
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"app.py exited with code {server.returncode}")
        try:
            client = client or Client(url, verbose=False)
            status = client.predict(api_name="/status")
        except Exception:  # not up yet
            time.sleep(0.5)
            continue
        if status["phase"] == "ready":
            return
        if status["phase"] == "failed":
            pytest.fail(f"the app's start-up failed: {status['message']}")
        time.sleep(0.5)
    pytest.fail(f"the app at {url} did not index its demos within {timeout_s:.0f} s")


def _serve_app(
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    extra_env: dict[str, str],
    flags: tuple[str, ...] = (),
) -> Iterator[WebApp]:
    """`python app.py` (with ``flags``) on a free port with a fresh data folder, its demo
    already indexed."""
    import sys

    folder = tmp_path_factory.mktemp(name)
    port = _free_port()
    env = {
        **os.environ,
        "MMDEMO_DATA_DIR": str(folder / "data"),
        "GRADIO_TEMP_DIR": str(folder / "gradio-tmp"),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        # The API tests name tiny models by folder, as an operator who allows them would.
        "MMDEMO_ALLOW_LOCAL_MODELS": "1",
    }
    for variable in ("MMDEMO_READONLY", "SPACE_ID", "MMDEMO_MULTIUSER", "MMDEMO_DEMO_SOURCES"):
        env.pop(variable, None)
    env.update(extra_env)
    root = Path(__file__).resolve().parents[1]
    log_path = folder / "app.log"
    log = log_path.open("wb")
    command = [sys.executable, "app.py", "--port", str(port), "--model", WEB_MODEL, *flags]
    server = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            _wait_for_demo(url, server)
        except BaseException:
            print(log_path.read_text(errors="replace")[-5000:])
            raise
        yield WebApp(url, folder / "data", WEB_MODEL, log_path)
    finally:
        _stop(server)
        log.close()


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
