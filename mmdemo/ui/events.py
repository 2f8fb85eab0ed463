"""Page events that more than one tab binds, kept here so that no tab imports another."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.errors import MMDemoError
from mmdemo.policy.rules import Target
from mmdemo.ui.actions import collections, search
from mmdemo.ui.context import SAMPLE_QUERY, AppContext
from mmdemo.ui.requests import CollectionRequest, IndexModelRequest
from mmdemo.ui.shared import PRIVATE, shows_errors

IndexOutput = tuple[str, dict[str, Any]]
#: The query box's new text (or a skip) and the example it came from (page state).
StartOutput = tuple[Any, Any]


def index_with_model(ctx: AppContext) -> Callable[..., IndexOutput]:
    """The "Index with this model" event of Search and Compare: a line for the page and
    the report; its inputs are named ``collection`` and ``model``."""

    @shows_errors
    def on_index_model(
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's injection idiom)
        **named: Any,
    ) -> IndexOutput:
        asked = ctx.admit(IndexModelRequest, named, request.session_hash)
        return collections.index_with_model(ctx, asked, progress)

    return on_index_model


def chosen(ctx: AppContext, collection: Any, session_hash: str | None) -> Target | None:
    """The collection a visitor chose, or None when none (that it may see, yet) is chosen."""
    try:
        named = {"collection": collection}
        return ctx.admit(CollectionRequest, named, session_hash).collection
    except MMDemoError:
        return None


def examples_of(ctx: AppContext, collection: Any, session_hash: str | None) -> list[dict[str, Any]]:
    """The example queries of the chosen collection (none for no collection)."""
    target = chosen(ctx, collection, session_hash)
    try:
        return search.examples(ctx, target) if target else []
    except MMDemoError:
        return []


def collection_ready(ctx: AppContext, collection: Any) -> bool:
    """Whether the first screen may run on ``collection``: the start-up work is over, or
    it is a demo indexed already (the photos demo is searched while the others index)."""
    status = ctx.bootstrap.status()
    return status.finished or status.demo_ready(str(collection or "").strip())


@dataclass
class ExampleStart:
    """Compare's and Map's query starts from an example of the chosen collection.

    Whenever the collection changes, its first text example goes into the query box; on
    the first screen, once that collection is ready. A query the visitor typed stays (the
    box is replaced only while it holds the sample query, the last example or nothing).
    The page keeps the example with the files it expects (a ``gr.State`` of {text,
    expected}, None once the query is not an example), so a verdict can judge its results.
    """

    ctx: AppContext

    def on_collection(
        self, collection: Any, text: Any, started: Any, request: gr.Request
    ) -> StartOutput:
        shown = str(text or "").strip()
        untouched = shown in ("", SAMPLE_QUERY) or (started or {}).get("text") == text
        if not untouched:
            return gr.skip(), None
        examples = examples_of(self.ctx, collection, request.session_hash)
        example = search.starting_example(examples)
        return (gr.skip(), None) if example is None else (example["text"], example)

    def on_ready(
        self, collection: Any, text: Any, started: Any, request: gr.Request
    ) -> StartOutput:
        if started is not None or not collection_ready(self.ctx, collection):
            return gr.skip(), gr.skip()
        return self.on_collection(collection, text, None, request)

    def bind(
        self, collection: gr.Dropdown, text: gr.Textbox, started: gr.State
    ) -> Callable[[Dependency], None]:
        """Fill ``text`` and ``started`` on each change of ``collection``; returns the hook
        that fills them once the first screen's collection is ready."""
        given, filled = [collection, text, started], [text, started]
        collection.change(self.on_collection, given, filled, **PRIVATE)

        def when_ready(event: Dependency) -> None:
            event.then(self.on_ready, given, filled, **PRIVATE)

        return when_ready
