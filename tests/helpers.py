"""What several test modules share: small images, CLI and store shortcuts, the app in a
subprocess. Test modules import from here (and the factories beside it), never from one
another (tests/test_imports.py checks); fixtures live in conftest.py."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.errors import ImageRejected
from mmdemo.ingest import images
from mmdemo.store import Store

ROOT = Path(__file__).resolve().parents[1]

# --- images and their checks ---------------------------------------------------------------

COLOURS = {
    "red.png": (220, 20, 20),
    "green.png": (20, 200, 40),
    "blue.png": (30, 40, 210),
    "yellow.png": (240, 220, 30),
    "black.png": (5, 5, 5),
    "white.png": (250, 250, 250),
}


def write_images(folder: Path, colours: dict[str, tuple[int, int, int]]) -> Path:
    """Write one small patterned PNG per colour (a stripe makes each image distinct)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, (name, colour) in enumerate(colours.items()):
        image = Image.new("RGB", (48, 40), colour)
        image.paste((i * 40 % 256, 128, 255 - i * 40 % 256), (0, i * 5, 48, i * 5 + 4))
        image.save(folder / name)
    return folder


def close_to(pixel: tuple[int, ...], expected: tuple[int, ...], tolerance: int = 24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, expected, strict=True))


def reason_for(data: bytes, name: str = "image") -> str:
    with pytest.raises(ImageRejected) as caught:
        images.decode_image(data, name)
    return caught.value.reason


#: One image per line of text; each holds a word no other image holds.
SIGNS = {
    "chart.png": ["Quarterly revenue by region", "2024 forecast"],
    "receipt.png": ["INVOICE 2291", "Total 42.50 EUR paid"],
    "label.png": ["ZEBRAFISH aquarium supplies", "keep refrigerated"],
    "screen.png": ["Settings", "Wireless network password"],
}

# --- the CLI and the store -----------------------------------------------------------------


def cli_json(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    assert main([*args, "--json"]) == code
    return json.loads(capsys.readouterr().out)


def stored(data_dir: Path, collection: str) -> dict[str, dict[str, Any]]:
    """Each stored item's metadata by file name."""
    items = Store(Settings(data_dir=data_dir)).items(collection)
    return {str(meta["file_name"]): meta for _, meta in items}


def _doctor(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in {"SPACE_ID", "SPACES_ZERO_GPU"}}
    return subprocess.run(
        [sys.executable, "-m", "mmdemo", "doctor", *args],
        cwd=ROOT,
        env={**base, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


# --- servers: a Chroma server, the app (`python app.py`) -----------------------------------


def _free_port() -> int:
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
    log_path = folder / "app.log"
    log = log_path.open("wb")
    command = [sys.executable, "app.py", "--port", str(port), "--model", WEB_MODEL, *flags]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
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
