"""The app as a public Space serves it with ``--mcp``: its MCP tools, driven with the ``mcp``
client package over streamable HTTP, and what its terminal says while it starts.

One ``python app.py --mcp`` in multi-visitor mode (only the photos demo) for the module;
the MCP caller's session rules also run in-process against the API's handler.
"""

from __future__ import annotations

import ast
import asyncio
import base64
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from mmdemo.config import Settings
from mmdemo.demos import PHOTOS_DIR
from mmdemo.integrations.mcp import MCP_PATH, MCP_TOOLS
from mmdemo.ui import api
from mmdemo.ui.bootstrap import Bootstrap
from mmdemo.ui.requests import ListRequest

from helpers import PHOTOS_DEMO_ONLY, WebApp, _serve_app
from imagefactory import write_image

pytestmark = pytest.mark.timeout(300)

DEMO = "demo-photos"


@pytest.fixture(scope="module")
def mcp_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebApp]:
    """``python app.py --mcp`` as on a public Space: multi-visitor, the photos demo only."""
    env = {"MMDEMO_MULTIUSER": "1", **PHOTOS_DEMO_ONLY}
    yield from _serve_app(tmp_path_factory, "mcp-app", env, ("--mcp",))


def _mcp(url: str, *calls: tuple[str, dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """The MCP server's tools, and the results of ``calls`` (tool, arguments) in order."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def session() -> tuple[list[Any], list[Any]]:
        async with (
            streamable_http_client(url + MCP_PATH) as (read, write, _),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            tools = (await client.list_tools()).tools
            return tools, [await client.call_tool(name, args) for name, args in calls]

    return asyncio.run(session())


def _text(result: Any) -> str:
    return "\n".join(part.text for part in result.content if part.type == "text")


def _answer(result: Any) -> Any:
    """A successful tool call's answer: gradio sends the endpoint's outputs as their repr."""
    assert not result.isError, _text(result)
    return ast.literal_eval(_text(result))


def _found(result: Any) -> list[dict[str, Any]]:
    """A search's result rows: its first output (the second is the results CSV)."""
    return list(_answer(result)[0]["results"])


def test_mcp_lists_the_reading_tools_and_searches_with_picture_urls(mcp_app: WebApp) -> None:
    """An agent sees search, collections, compare and status, each described; a text
    search through MCP finds the coffee photo, with URLs that serve its pictures."""
    tools, (search,) = _mcp(
        mcp_app.url, ("search", {"collection": DEMO, "text": "a cup of coffee", "top_k": 3})
    )
    assert sorted(tool.name for tool in tools) == sorted(MCP_TOOLS)
    described = {tool.name: tool.description for tool in tools}
    assert all(len(text) > 60 for text in described.values()), described
    assert "image_url" in described["search"] and "collections" in described["search"]
    schema = next(tool.inputSchema for tool in tools if tool.name == "search")
    assert {"collection", "text", "image", "where", "caption_contains"} <= set(schema["properties"])
    best = _found(search)[0]
    assert best["file_name"] == "coffee.jpg"
    assert best["image_url"].startswith(mcp_app.url + "/mmdemo-media/image/")
    with urllib.request.urlopen(best["image_url"], timeout=30) as response:
        assert response.headers["Content-Type"].startswith("image/")
        assert response.read() == (PHOTOS_DIR / "coffee.jpg").read_bytes()


def test_mcp_searches_by_an_image_given_inline(mcp_app: WebApp) -> None:
    """An image argument may be a URL or a data: URI: gradio fetches it into a file."""
    photo = base64.b64encode((PHOTOS_DIR / "rocket.jpg").read_bytes()).decode()
    _, (found,) = _mcp(
        mcp_app.url,
        ("search", {"collection": DEMO, "image": f"data:image/jpeg;base64,{photo}", "top_k": 1}),
    )
    assert _found(found)[0]["file_name"] == "rocket.jpg"


def test_mcp_callers_read_only_the_shared_collections(mcp_app: WebApp, tmp_path: Path) -> None:
    """A visitor's own collection stays private from MCP callers; MCP calls of the
    endpoints that write are refused, and the demo survives them."""
    visitor = Client(mcp_app.url, verbose=False)
    pictures = [write_image(tmp_path / f"{i}.png", (40 * i, 90, 200)) for i in range(2)]
    added = visitor.predict(
        files=[handle_file(str(p)) for p in pictures], collection="mine", api_name="/index"
    )
    assert added["added"] == 2
    assert "mine" in [c["name"] for c in visitor.predict(api_name="/collections")]

    _, (listed, private, deleted, indexed) = _mcp(
        mcp_app.url,
        ("collections", {}),
        ("search", {"collection": "mine", "text": "blue"}),
        ("delete", {"collection": DEMO, "confirm": True}),
        ("index", {"collection": "agent", "dataset": "hf:owner/name"}),
    )
    assert [c["name"] for c in _answer(listed)] == [DEMO]
    assert private.isError and "mine" in _text(private)
    for refused in (deleted, indexed):
        assert refused.isError and "not an MCP tool" in _text(refused)
    status = visitor.predict(api_name="/collections")
    assert {c["name"] for c in status} == {DEMO, "mine"}


class _Request:
    """What the API's handler reads of a ``gr.Request``."""

    def __init__(self, headers: dict[str, str], session_hash: str) -> None:
        self.headers = headers
        self.session_hash = session_hash
        self.url = "http://127.0.0.1:7860/gradio_api/queue/join"


class _Context:
    """Records the session each admitted request was asked for in."""

    def __init__(self) -> None:
        self.sessions: list[str | None] = []

    def admit(self, kind: type, values: dict[str, Any], session: str | None, **_: Any) -> Any:
        self.sessions.append(session)
        return ListRequest.__new__(ListRequest)


def test_an_mcp_call_is_asked_in_no_session(monkeypatch: pytest.MonkeyPatch) -> None:
    """Gradio's MCP server calls through one client whose session is nobody's: its calls
    are admitted as a caller without a session, other API calls in their own."""
    monkeypatch.setattr(api.collections, "collections", lambda ctx, asked: [])
    endpoint = next(e for e in api.ENDPOINTS if e.name == "collections")
    ctx = _Context()
    call = api.handler(ctx, endpoint)  # type: ignore[arg-type]
    call(request=_Request({"x-gradio-user": "mcp", "host": "h"}, "shared-mcp-session"))
    call(request=_Request({"host": "h"}, "visitor-session"))
    assert ctx.sessions == [None, "visitor-session"]


def test_mcp_is_turned_on_by_flag_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMDEMO_MCP", raising=False)
    assert not Settings.from_env().mcp
    assert Settings.from_env(mcp=True).mcp
    monkeypatch.setenv("MMDEMO_MCP", "1")
    assert Settings.from_env().mcp


def test_the_terminal_says_models_progress_and_where_it_is_ready(mcp_app: WebApp) -> None:
    """What the page says comes to the terminal too, in order: which model and why, which
    cannot load here, the demo's indexing progress, and the address once it is ready."""
    lines = [
        line.removeprefix("mmdemo: ")
        for line in mcp_app.log.read_text(errors="replace").splitlines()
        if line.startswith("mmdemo: ")
    ]
    assert lines[0] == f"Serving the page at {mcp_app.url}; the demos are set up in the background."
    assert lines[1] == "Default embedder 'lite', as configured."
    assert lines[2].startswith("Models that cannot load here (HF_HUB_OFFLINE is set; not cached)")
    assert "clip-b32" in lines[2]
    progress = [line for line in lines if line.startswith("Indexing the demo collections: ")]
    total = len(list(PHOTOS_DIR.glob("*.jpg")))
    assert progress[0] == f"Indexing the demo collections: 0/{total} images"
    assert progress[-1] == f"Indexing the demo collections: {total}/{total} images"
    assert 3 <= len(progress) <= 11
    assert lines[-1] == f"Ready at {mcp_app.url}. Demo collections ready: photos {total} items."


def test_the_terminal_says_why_the_offline_model_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a --model, the terminal says the Hub cannot be reached, so lite is used."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lines: list[str] = []
    boot = Bootstrap(Settings(data_dir=tmp_path / "data"), None, None, tell=lines.append)
    boot.start("http://127.0.0.1:7860/")
    boot.join(120)
    assert lines[0].startswith("Serving the page at http://127.0.0.1:7860;")
    assert lines[1].startswith("Using the offline model 'lite': ")
    assert "HF_HUB_OFFLINE is set" in lines[1], lines[1]
    assert lines[-1] == "Ready at http://127.0.0.1:7860."
