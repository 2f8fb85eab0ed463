"""The near-duplicates panel of the Collections tab: groups of look-alike images shown as
thumbnail rows with their similarity, and an optional "keep one of each group" delete.

The delete respects read-only mode, never touches the demo collection, and removes what
the last search found (kept on the server, never taken from the page).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.evaluate.duplicates import DEFAULT_THRESHOLD
from mmdemo.ui.actions import explore
from mmdemo.ui.context import AppContext
from mmdemo.ui.pools import POOLED
from mmdemo.ui.requests import DuplicatesDeleteRequest, DuplicatesRequest
from mmdemo.ui.shared import PRIVATE, Form, collection_dropdown, served_thumb, shows_errors

GROUPS_CSS = """
.mm-group { display: flex; flex-wrap: wrap; gap: 8px; align-items: center;
  border-top: 1px solid #ddd; padding: 6px 0; }
.mm-group > b { width: 5em; font-size: 12px; }
.mm-dup { margin: 0; width: 104px; font-size: 11px; text-align: center; }
.mm-dup img { width: 100px; height: 100px; object-fit: cover; border-radius: 4px; }
.mm-dup figcaption { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
"""


@dataclass
class DuplicatesPanel:
    """What the app refreshes and listens to."""

    collection: gr.Dropdown
    deleted: Dependency


def groups_html(ctx: AppContext, payload: dict[str, Any]) -> str:
    """Each group as a row of thumbnails, each with its similarity to the first."""
    groups = payload["groups"]
    head = (
        f"<p>{len(groups)} group(s) at similarity ≥ {payload['threshold']:.3f} "
        f"(model <code>{html.escape(payload['model'])}</code>); the first of each is kept "
        "by “delete all but one”.</p>"
    )
    rows = []
    for group in groups:
        figures = "".join(
            f'<figure class="mm-dup"><img src="{served_thumb(ctx.settings, item["id"])}" '
            f'alt="{html.escape(item["file_name"])}"><figcaption>'
            f"{item['similarity']:.3f} · {html.escape(item['file_name'])}</figcaption></figure>"
            for item in group["items"]
        )
        rows.append(f'<div class="mm-group"><b>{group["kind"]}</b>{figures}</div>')
    return head + "".join(rows)


@dataclass
class _Handlers:
    """The panel's events, each admitting its request through the policy."""

    ctx: AppContext

    @shows_errors
    def on_find(self, request: gr.Request, **named: Any) -> tuple[str, dict[str, Any]]:
        asked = self.ctx.admit(DuplicatesRequest, named, request.session_hash)
        found = explore.duplicates(self.ctx, asked)
        return groups_html(self.ctx, found), found

    @shows_errors
    def on_delete(
        self, found: dict[str, Any] | None, confirm: Any, request: gr.Request
    ) -> tuple[str, dict[str, Any]]:
        named = {"collection": (found or {}).get("collection"), "confirm": confirm}
        asked = self.ctx.admit(DuplicatesDeleteRequest, named, request.session_hash)
        removed, fresh = explore.delete_duplicates(self.ctx, asked, found or {})
        return f"<p><b>Deleted {removed} image(s).</b></p>" + groups_html(self.ctx, fresh), fresh


def build(ctx: AppContext) -> DuplicatesPanel:
    """Render the panel (inside the Collections tab) and register its events."""
    on = _Handlers(ctx)
    with gr.Accordion("Near-duplicates", open=False, elem_id="dup-panel"):
        with gr.Row():
            collection = collection_dropdown(ctx.bootstrap.demos, elem_id="dup-coll")
            threshold = gr.Slider(
                0.5,
                1.0,
                value=DEFAULT_THRESHOLD,
                step=0.005,
                label="Similarity threshold (cosine)",
                info=f"Default {DEFAULT_THRESHOLD}: measured on copies of the demo photos",
            )
        find = gr.Button("Find near-duplicates", elem_id="dup-button")
        shown = gr.HTML(css_template=GROUPS_CSS, elem_id="dup-groups")
        # The groups last found, kept on the server: what a delete removes is what was shown.
        found = gr.State(None)
        with gr.Row(visible=not ctx.readonly):
            confirm = gr.Checkbox(label="I understand: this deletes the other images.")
            delete = gr.Button("Delete all but one per group", variant="stop", elem_id="dup-delete")

    named: Form = {"collection": collection, "threshold": threshold}
    find.click(on.on_find, None, [shown, found], inputs_kwargs=named, **PRIVATE, **POOLED)
    deleted = delete.click(on.on_delete, [found, confirm], [shown, found], **PRIVATE)
    return DuplicatesPanel(collection, deleted)
