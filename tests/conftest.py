"""Shared test set-up: no network, no telemetry, and the tiny models every test loads."""

import os

# Tests never reach the Hub or send analytics, whatever the calling shell sets.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

# --- tiny local models (owner: tiny_models.py) ---------------------------------------------
# Built once per session from seeded random weights; tests load them by folder path.

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tiny_models import build_tiny_clip, build_tiny_siglip, build_tiny_vlm_reranker


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


# --- Chroma server (owner: test_store.py) --------------------------------------------------
# A real `chroma run` on a free local port, started once per session and stopped after it.


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
