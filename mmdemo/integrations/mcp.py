"""The app's typed API as MCP tools, for agents (``python app.py --mcp`` or ``MMDEMO_MCP=1``).

Gradio serves the MCP server itself (``launch(mcp_server=True)``) at ``/gradio_api/mcp/``
(streamable HTTP; SSE at ``/gradio_api/mcp/sse``): each tool is one of the API's endpoints
(:mod:`mmdemo.ui.api`), with that endpoint's parameters, description and policy, so there
is no second API to keep in step. Only the endpoints that read are tools
(:data:`MCP_TOOLS`); the others stay HTTP endpoints for clients with a session.

Gradio runs a tool call through its own ``gradio_client`` loopback, one client for every
MCP caller, marked with an ``x-gradio-user: mcp`` header. That client's session belongs to
no visitor, so an MCP call is answered as a caller without a session
(:meth:`mmdemo.tenancy.Tenancy.visitor`): in multi-visitor mode it sees the shared
collections only, read-only, under the same request policy as the page and the API.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmdemo.errors import InputError, MissingPackageError

#: The endpoints served as MCP tools: those an agent needs to find and compare pictures.
MCP_TOOLS = ("search", "collections", "compare", "status")
#: Where gradio serves the MCP server (streamable HTTP), below the app's URL.
MCP_PATH = "/gradio_api/mcp/"
#: The header gradio's MCP loopback client sends with every tool call.
_MCP_HEADER = ("x-gradio-user", "mcp")
#: gradio's MCP server lists a function as a tool unless this attribute says otherwise
#: (``gradio.mcp``: ``_mcp_type`` other than "tool"; ``gr.tool``/``gr.resource`` set it).
_MCP_TYPE = "_mcp_type"


def require_mcp() -> None:
    """Refuse to start an MCP server without the ``mcp`` package (gradio's ``mcp`` extra)."""
    try:
        import mcp  # noqa: F401
    except ImportError as exc:
        raise MissingPackageError(
            "The MCP server needs the mcp package: pip install -r requirements.txt "
            "(it pins gradio's mcp extra)."
        ) from exc


def is_mcp_call(request: Any) -> bool:
    """Whether a gradio request (``gr.Request`` or None) came through the MCP server: its
    loopback header, or, for a call gradio answers without the queue, the MCP route."""
    if request is None:
        return False
    headers = getattr(request, "headers", None) or {}
    name, value = _MCP_HEADER
    if str(dict(headers).get(name, "")).lower() == value:
        return True
    return MCP_PATH.rstrip("/") in str(getattr(request, "url", ""))


def expose(fn: Callable[..., Any], endpoint: str) -> Callable[..., Any]:
    """``fn``, the API function of ``endpoint``, listed as an MCP tool only if it is one."""
    if endpoint not in MCP_TOOLS:
        setattr(fn, _MCP_TYPE, "api")
    return fn


def admit_tool(endpoint: str) -> None:
    """Refuse an MCP call of an endpoint that is no tool (gradio calls any endpoint by
    name, listed or not)."""
    if endpoint not in MCP_TOOLS:
        raise InputError(
            f"{endpoint} is not an MCP tool here: the tools are {', '.join(MCP_TOOLS)}. "
            "Indexing, voting and deleting need the web page or an API client session."
        )
