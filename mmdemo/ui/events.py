"""Page events that more than one tab binds, kept here so that no tab imports another."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gradio as gr

from mmdemo.ui.actions import collections
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import IndexModelRequest
from mmdemo.ui.shared import shows_errors

IndexOutput = tuple[str, dict[str, Any]]


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
