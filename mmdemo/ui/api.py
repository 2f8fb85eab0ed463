"""The app's public API: typed ``gr.api`` endpoints, independent of the page's layout.

An endpoint is a request object in, an action, a plain dict (or list) out. Its parameters
are its request's fields (:mod:`mmdemo.ui.requests`), with their API types, defaults and
descriptions, in their order: each is declared once, there. Values are named plain values
(strings, numbers, lists, and files sent with ``gradio_client.handle_file``); every call
passes the same policy as the page (:meth:`mmdemo.policy.Policy.admit`), and an expected
failure comes back as one plain sentence. The page's own events are all private, so
moving a component never changes the API. Endpoints: ``index``, ``index_existing``,
``search``, ``compare``, ``vote``, ``votes``, ``collections``, ``delete``, ``status``,
``evaluate``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import gradio as gr

from mmdemo.integrations.mcp import admit_tool, expose, is_mcp_call
from mmdemo.policy import REQUIRED, Request, asked_fields
from mmdemo.ui.actions import collections, compare, evaluate, search, votes
from mmdemo.ui.context import AppContext, no_progress
from mmdemo.ui.media import absolute_urls, request_origin
from mmdemo.ui.pools import POOLED, SEARCH_POOLED
from mmdemo.ui.requests import (
    CompareRequest,
    DeleteRequest,
    EvaluateRequest,
    IndexModelRequest,
    IndexRequest,
    ListRequest,
    SearchRequest,
    StatusRequest,
    VoteRequest,
    VotesRequest,
)
from mmdemo.ui.shared import answers_errors

Answer = Callable[..., Any]


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: its name, what it asks for, what it does and what it returns."""

    name: str
    kind: type[Request]
    answer: Answer
    returns: Any
    doc: str
    returns_doc: str
    pool: dict[str, Any]
    #: Whether ``answer`` also takes the caller's session (a vote counts once per visitor).
    session: bool = False


def _search(ctx: AppContext, asked: SearchRequest) -> tuple[dict[str, Any], gr.FileData]:
    found = search.search(ctx, asked)
    return found.payload, gr.FileData(path=found.csv_path, orig_name="search-results.csv")


def _delete(ctx: AppContext, asked: DeleteRequest) -> dict[str, Any]:
    message = collections.delete(ctx, asked)
    return {"collection": asked.collection.name, "message": message}


TALLY_DOC = '{"setup_a", "setup_b", "a", "b", "ties", "votes", "queries", "sentence"}'


def _evaluate(ctx: AppContext, asked: EvaluateRequest) -> dict[str, Any]:
    return evaluate.report(*evaluate.evaluate(ctx, asked, no_progress))


ENDPOINTS = (
    Endpoint(
        "index",
        IndexRequest,
        lambda ctx, asked: collections.index_uploads(ctx, asked, no_progress).report,
        dict[str, Any],
        "Index images, zip archives, PDFs and a dataset into a collection (created if new).",
        '{"added", "present", "rejected": [{"file", "reason"}]}, and when some: "warnings": '
        '[{"file", "reason"}] (indexed with something missing), "failed_models": '
        '[{"model", "reason"}] (left out while the others indexed)',
        POOLED,
    ),
    Endpoint(
        "index_existing",
        IndexModelRequest,
        lambda ctx, asked: collections.index_with_model(ctx, asked, no_progress)[1],
        dict[str, Any],
        "Embed a collection's stored images with one more model, to compare it.",
        '{"added", "present", "rejected"}',
        POOLED,
    ),
    Endpoint(
        "search",
        SearchRequest,
        _search,
        tuple[dict[str, Any], gr.FileData],
        "Search an image collection by text, an example image, or both; results come best "
        "first. Take the collection's name (and a model it is indexed with) from collections; "
        "filter with where (metadata) or caption_contains.",
        '{"model", "reranker", "calibrated", "timings_ms", "notes", "results": [{rank, id, '
        "file_name, caption, image_url and thumb_url (the picture and its thumbnail, to "
        "fetch), match, strength, similarity, rerank_score, rank_before_rerank, rerank_move, "
        "matched, and the item's taken, camera, lens, lat and lon (not on a multi-visitor server), "
        "DICOM fields and ocr_text "
        "where it has them}]}, and the results as a CSV file",
        SEARCH_POOLED,
    ),
    Endpoint(
        "compare",
        CompareRequest,
        lambda ctx, asked: compare.compare(ctx, asked).payload,
        dict[str, Any],
        'Run one query through two set-ups (embedding model + reranker or "none") on one '
        "collection and say which ranks better: both models must be ones the collection is "
        "indexed with (see collections); expected names the files that answer the query.",
        '{"verdict": [sentences], "a": side, "b": side, "agreement": {k, shared, '
        'overlap_at_k, rbo, rbo_p, kendall_tau}}; a side is {"indexed", "error", "model", '
        '"reranker", "timings_ms", "results"} with results as in search',
        POOLED,
    ),
    Endpoint(
        "vote",
        VoteRequest,
        lambda ctx, asked, session: votes.vote(ctx, asked, session).to_json(),
        dict[str, Any],
        "Say which set-up answered a query better (A, tie or B); voting again replaces it.",
        f"the pair's tally: {TALLY_DOC}",
        {},
        session=True,
    ),
    Endpoint(
        "votes",
        VotesRequest,
        lambda ctx, asked: votes.tally(ctx, asked).to_json(),
        dict[str, Any],
        "The viewers' votes so far on one pair of set-ups.",
        TALLY_DOC,
        {},
    ),
    Endpoint(
        "collections",
        ListRequest,
        lambda ctx, asked: collections.listing(collections.collections(ctx, asked)),
        list[dict[str, Any]],
        "List the image collections this caller may search, with their sizes and the "
        "embedding models each is indexed with (a search's model must be one of them).",
        '[{"name", "images", "models": {model: count}}]',
        {},
    ),
    Endpoint(
        "delete",
        DeleteRequest,
        _delete,
        dict[str, Any],
        "Delete a collection with every model's index (never a demo collection).",
        '{"collection", "message"}',
        {},
    ),
    Endpoint(
        "status",
        StatusRequest,
        lambda ctx, _: asdict(ctx.bootstrap.status()),
        dict[str, Any],
        "The app's start-up status: the demo collections can be searched once phase is "
        '"ready"; default_model is what a search without a model uses.',
        '{"phase", "message", "default_model", ...}',
        {},
    ),
    Endpoint(
        "evaluate",
        EvaluateRequest,
        _evaluate,
        dict[str, Any],
        "Measure set-ups (embedding model x reranker) over many queries.",
        '{"note", "table", "chart", "setups", "disagreements"} (see README)',
        POOLED,
    ),
)


def handler(ctx: AppContext, endpoint: Endpoint) -> Callable[..., Any]:
    """The typed function gradio serves for ``endpoint``: its parameters are the request's
    fields; a call admits them through the policy, as the page does, then answers."""
    asks = asked_fields(endpoint.kind)
    public = {name: how for name, how in asks.items() if how.api}
    parameters = [
        inspect.Parameter(
            name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=inspect.Parameter.empty if how.default is REQUIRED else how.default,
            annotation=how.rule.api_type(),
        )
        for name, how in public.items()
    ]
    parameters.append(
        inspect.Parameter(
            "request", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
            annotation=gr.Request | None,
        )
    )  # fmt: skip
    signature = inspect.Signature(parameters, return_annotation=endpoint.returns)

    @answers_errors
    def call(*args: Any, **kwargs: Any) -> Any:
        values = signature.bind(*args, **kwargs).arguments
        request: gr.Request | None = values.pop("request", None)
        session = request.session_hash if request is not None else None
        if is_mcp_call(request):  # the MCP server's one client is nobody's session
            admit_tool(endpoint.name)
            session = None
        asked = ctx.admit(endpoint.kind, values, session, api=True)
        if endpoint.session:
            return endpoint.answer(ctx, asked, session)
        return absolute_urls(endpoint.answer(ctx, asked), request_origin(request))

    call.__name__ = call.__qualname__ = endpoint.name
    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in parameters}
    call.__annotations__["return"] = endpoint.returns
    call.__doc__ = _docstring(endpoint, public)
    return expose(call, endpoint.name)


def _docstring(endpoint: Endpoint, asks: dict[str, Any]) -> str:
    """The endpoint's description as gradio reads it: summary, Args, Returns."""
    lines = [endpoint.doc, ""]
    lines += ["Args:", *(f"    {name}: {how.doc}" for name, how in asks.items())] if asks else []
    return "\n".join([*lines, "Returns:", f"    {endpoint.returns_doc}"])


def register(ctx: AppContext) -> None:
    """Declare every endpoint inside the current Blocks."""
    for endpoint in ENDPOINTS:
        gr.api(handler(ctx, endpoint), api_name=endpoint.name, **endpoint.pool)
