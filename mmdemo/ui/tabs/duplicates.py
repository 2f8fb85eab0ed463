"""The near-duplicates panel of the Collections tab: groups of look-alike images shown as
thumbnail rows with their similarity, and an optional "keep one of each group" delete.

The delete respects read-only mode and never touches the demo collection.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.errors import InputError
from mmdemo.evaluate.duplicates import DEFAULT_THRESHOLD
from mmdemo.tenancy import Visitor
from mmdemo.ui.context import POOLED, AppContext
from mmdemo.ui.shared import PRIVATE, collection_dropdown, served_thumb, shows_errors

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


def find_groups(
    ctx: AppContext, visitor: Visitor, collection: str | None, threshold: float
) -> tuple[str, dict[str, Any]]:
    """The near-duplicate groups of a collection the visitor may see, as thumbnail rows and
    as JSON (which names the collection as the visitor does)."""
    from mmdemo.evaluate.duplicates import describe, find_duplicates
    from mmdemo.search.engine import indexed_model

    if not collection:
        raise InputError("Choose a collection to check for near-duplicates.")
    ctx.require_ready(collection)
    store = ctx.store()
    stored = visitor.read(collection, store)
    model = indexed_model(store, stored)
    groups = describe(find_duplicates(store, stored, model, threshold), dict(store.items(stored)))
    payload = {"collection": collection, "model": model, "threshold": threshold, "groups": groups}
    return groups_html(ctx, payload), payload


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


def delete_extras(
    ctx: AppContext, visitor: Visitor, payload: dict[str, Any] | None, confirmed: bool
) -> tuple[str, dict[str, Any]]:
    """Delete all but the first item of each group last found, in a collection the visitor
    may change; returns the new listing."""
    from mmdemo import manage

    ctx.require_writable("deleting images")
    if not payload or not payload.get("groups"):
        raise InputError("Find near-duplicates first: there is nothing to delete yet.")
    collection = str(payload["collection"])
    if collection == ctx.demo_name:
        raise InputError(f"The demo collection {collection!r} cannot be changed here.")
    if not confirmed:
        raise InputError("Tick the confirmation box first: deleting cannot be undone.")
    stored = visitor.change(collection, ctx.store())
    extra = [item["id"] for group in payload["groups"] for item in group["items"][1:]]
    removed = manage.delete_items(ctx.settings, ctx.store(), stored, extra)
    shown, fresh = find_groups(ctx, visitor, collection, float(payload["threshold"]))
    return f"<p><b>Deleted {removed} image(s).</b></p>" + shown, fresh


def build(ctx: AppContext) -> DuplicatesPanel:
    """Render the panel (inside the Collections tab) and register its events."""

    @shows_errors
    def on_find(
        collection: str | None, threshold: float, request: gr.Request
    ) -> tuple[str, dict[str, Any]]:
        return find_groups(ctx, ctx.visitor(request.session_hash), collection, threshold)

    @shows_errors
    def on_delete(
        payload: dict[str, Any] | None, confirmed: bool, request: gr.Request
    ) -> tuple[str, dict[str, Any]]:
        return delete_extras(ctx, ctx.visitor(request.session_hash), payload, confirmed)

    with gr.Accordion("Near-duplicates", open=False, elem_id="dup-panel"):
        with gr.Row():
            collection = collection_dropdown(ctx.demo_name, elem_id="dup-coll")
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
        payload = gr.JSON(visible=False)
        with gr.Row(visible=not ctx.readonly):
            confirm = gr.Checkbox(label="I understand: this deletes the other images.")
            delete = gr.Button("Delete all but one per group", variant="stop", elem_id="dup-delete")

    find.click(on_find, [collection, threshold], [shown, payload], **PRIVATE, **POOLED)
    deleted = delete.click(on_delete, [payload, confirm], [shown, payload], **PRIVATE)
    return DuplicatesPanel(collection, deleted)
