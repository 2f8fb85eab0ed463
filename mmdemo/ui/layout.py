"""The whole page: title, start-up status, the tabs, and what keeps them in sync.

``build_app`` assembles the tabs; ``launch`` serves the page first and only then starts
the start-up work (default model, demo collection), so the page answers within seconds.
"""

import html
import logging
import threading
import time
from typing import Any

import gradio as gr

from mmdemo.compat import quiet_queue_analytics
from mmdemo.errors import MMDemoError
from mmdemo.models import registry
from mmdemo.models.placement import Placement
from mmdemo.ui import api, media, search_view
from mmdemo.ui.actions import collections as collection_actions
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import ListRequest
from mmdemo.ui.shared import (
    PRIVATE,
    as_plain_markdown,
    collection_choices,
    default_reranker,
    embedder_choices,
)
from mmdemo.ui.tabs import collections, compare, evaluate, finetune, maps, search

TITLE = "mmdemo · multimodal visual search"
DESCRIPTION = (
    "Index your images, then search them by text, by example image or both, rerank the "
    "results, and compare models side by side."
)
STATUS_POLL_S = 1.0
CSS = (
    """
#status details { font-size: 0.9em; }
/* A dropdown's arrow lies over the end of its box: the text stops before it. */
.secondary-wrap > input[role=combobox] { padding-right: 24px; text-overflow: ellipsis; }
@media (max-width: 480px) {
  /* A phone's first screen is for the query and its results: the intro's sentence and the
     status lines shrink to what a visitor needs. */
  #intro p { display: none; }
  #intro h1 { font-size: 1.4em; margin-bottom: 0; }
  #status .md p, #status details { font-size: 12px; line-height: 1.4; }
}
"""
    + search_view.CSS
    + compare.CSS
)
#: Longest wait between two sweeps of idle visitors' collections.
SWEEP_PERIOD_S = 60.0
logger = logging.getLogger(__name__)
#: Temporary files (uploads, downloads) older than a day are removed every hour.
DELETE_CACHE = (3600, 86400)
OFFLINE_LINE = "Offline model: runs without internet. Load CLIP for better results."
#: The offline model's line where the Hub cannot be reached: how to get CLIP instead.
NO_HUB_LINE = (
    "Offline model: runs without internet. CLIP cannot load here (the Hugging Face Hub "
    "is out of reach): run the app on a Hugging Face Space, or on a machine that reaches "
    "the Hub, to search with CLIP."
)


#: Two fixes to gradio's own markup that axe-core flags: upload areas whose accessible name
#: leaves out their visible text, and empty galleries labelled without a role.
A11Y_FIXES = """<script>
new MutationObserver(() => {
  document.querySelectorAll('button.upload-container[aria-label]').forEach((b) => {
    const text = b.innerText.replace(/\\s+/g, ' ').trim();
    if (text && b.getAttribute('aria-label') !== text) b.setAttribute('aria-label', text);
  });
  document.querySelectorAll('div[aria-label]:not([role])')
    .forEach((d) => d.setAttribute('role', 'img'));
}).observe(document.documentElement, {subtree: true, childList: true});
</script>"""


def theme() -> gr.themes.Base:
    """gradio's Soft theme with text colours darkened to WCAG AA contrast (4.5:1)."""
    return gr.themes.Soft(primary_hue="indigo").set(
        block_label_text_color="*primary_700",
        block_title_text_color="*primary_700",
        block_info_text_color="*neutral_600",
        body_text_color_subdued="*neutral_600",
        button_primary_background_fill="*primary_600",
        button_primary_background_fill_hover="*primary_700",
        color_accent="*primary_600",
        color_accent_soft="*primary_100",
    )


def model_line(model: str, hub_reachable: bool = True) -> str:
    """The model in use, in words a visitor understands; for the offline model, how to get
    CLIP, which differs when the Hub cannot be reached."""
    preset = registry.resolve(model, "embedder").preset
    if preset is not None and preset.offline:
        return OFFLINE_LINE if hub_reachable else NO_HUB_LINE
    return f"Model: {preset.display_name if preset else model}."


def status_text(ctx: AppContext) -> str:
    """A visitor's line (progress, or the model in use), each demo that could not be set
    up, the technical reasons behind a details toggle, and deployment notes."""
    status = ctx.bootstrap.status()
    ready = status.phase == "ready"
    hub_reachable = not status.unavailable  # presets missing here: the Hub is out of reach
    lead = model_line(status.default_model, hub_reachable) if ready else status.message
    technical = [line for line in (status.message, status.default_why) if line and line != lead]
    # A failed start-up's message already names them.
    problems = [] if status.phase == "failed" else status.problems
    shown = [
        lead if ready else as_plain_markdown(lead),
        *(f"⚠ {as_plain_markdown(p)}" for p in problems),
    ]
    lines = [*shown, Placement.of(ctx.settings).line(), *ctx.notes]
    if ctx.readonly:
        lines.append("Read-only demo: uploading, indexing and deleting are turned off.")
    text = "  \n".join(line for line in lines if line)
    if technical:
        body = html.escape(" ".join(technical))
        text += f"\n\n<details><summary>Details</summary>{body}</details>"
    return text


class _Sync:
    """The dropdowns and lists that follow the collections and the default model: demos
    under their display names (never among the collections to delete)."""

    def __init__(
        self,
        search: search.SearchTab,
        compare: compare.CompareTab,
        collections: collections.CollectionsTab,
        evaluate: evaluate.EvaluateTab,
        mapping: maps.MapTab,
        finetune: finetune.FinetuneTab,
    ) -> None:
        self.deletable = collections.delete_choice
        self.collection_lists = [
            search.collection,
            compare.collection,
            collections.duplicates_choice,
            evaluate.collection,
            mapping.collection,
            finetune.collection,
        ]
        self.model_lists = [search.model, *compare.models, mapping.model, finetune.base]
        self.reranker = search.reranker
        self.multi_model_lists = [collections.models, evaluate.models]
        self.listing = [collections.table, collections.listing]

    @property
    def outputs(self) -> list[Any]:
        return [
            self.deletable,
            *self.collection_lists,
            *self.model_lists,
            self.reranker,
            *self.multi_model_lists,
            *self.listing,
        ]

    def refresh(
        self, ctx: AppContext, request: gr.Request, default: str | None = None
    ) -> list[Any]:
        """Updates for :attr:`outputs`, as the requesting visitor sees them; with ``default``,
        also select that model everywhere and the search tab's reranker to its default."""
        asked = ctx.admit(ListRequest, {}, request.session_hash)
        infos = collection_actions.collections(ctx, asked)
        demos = ctx.bootstrap.demos
        names = collection_choices([info.name for info in infos], demos)
        deletable = [(label, name) for label, name in names if ctx.bootstrap.demo(name) is None]
        indexed = [model for info in infos for model in info.models]
        unavailable = ctx.bootstrap.status().unavailable
        choices = embedder_choices([*indexed, *([default] if default else [])], None, unavailable)
        chosen: dict[str, Any] = {"value": default} if default else {}
        many: dict[str, Any] = {"value": [default]} if default else {}
        return [
            gr.Dropdown(choices=deletable),
            *(gr.Dropdown(choices=names) for _ in self.collection_lists),
            *(gr.Dropdown(choices=choices, **chosen) for _ in self.model_lists),
            gr.Dropdown(value=default_reranker(default)) if default else gr.Dropdown(),
            *(gr.Dropdown(choices=choices, **many) for _ in self.multi_model_lists),
            *collections.shown(infos),
        ]


def build_app(ctx: AppContext) -> gr.Blocks:
    """The Gradio Blocks of the app, with every event registered."""
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=DELETE_CACHE) as app:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}", elem_id="intro")
        status = gr.Markdown(status_text(ctx), elem_id="status")
        timer = gr.Timer(STATUS_POLL_S)
        with gr.Tabs() as tabs:
            searching = search.build(ctx)
            comparing = compare.build(ctx)
            evaluating = evaluate.build(ctx)
            mapping = maps.build(ctx)
            managing = collections.build(ctx)
            tuning = finetune.build(ctx)
        sync = _Sync(searching, comparing, managing, evaluating, mapping, tuning)

        def on_refresh(request: gr.Request) -> list[Any]:
            return sync.refresh(ctx, request)

        def on_unload(request: gr.Request) -> None:
            ctx.visitor_left(request.session_hash)

        def on_tick(request: gr.Request) -> list[Any]:
            boot = ctx.bootstrap.status()
            if not boot.finished:
                return [status_text(ctx), gr.skip(), *(gr.skip() for _ in sync.outputs)]
            return [
                status_text(ctx),
                gr.Timer(active=False),
                *sync.refresh(ctx, request, boot.default_model),
            ]

        api.register(ctx)
        app.load(on_refresh, None, sync.outputs, **PRIVATE)
        app.unload(on_unload)
        ticked = timer.tick(on_tick, None, [status, timer, *sync.outputs], **PRIVATE)
        searching.run_when_ready(ticked)
        comparing.start_when_ready(ticked)
        mapping.start_when_ready(ticked)
        for event in [*managing.changed, tuning.trained]:
            event.then(on_refresh, None, sync.outputs, **PRIVATE)
        tuning.compare_button.click(
            finetune.compare_updates,
            tuning.report,
            [tabs, comparing.collection, *comparing.models, *comparing.rerankers],
            **PRIVATE,
        )
    built: gr.Blocks = app
    return built


def _sweep_forever(ctx: AppContext) -> None:
    """Remove idle visitors' collections now and then, for API clients that never unload."""
    assert ctx.tenancy is not None
    period = min(SWEEP_PERIOD_S, ctx.tenancy.limits.idle_s / 2)
    while True:
        try:
            ctx.sweep_visitors()
        except MMDemoError as exc:  # e.g. the store is busy: the next round tries again
            logger.warning("visitor sweep failed: %s", exc)
        time.sleep(period)


def launch(app: gr.Blocks, ctx: AppContext, host: str, port: int, *, block: bool = True) -> None:
    """Serve the page, then start the start-up work; blocks unless ``block`` is False."""
    quiet_queue_analytics()
    app.queue(default_concurrency_limit=2)
    settings = ctx.settings
    app.launch(
        server_name=host,
        server_port=port,
        # Stored images go through media.py's signed URLs: no data dir path is served.
        app_kwargs={"routes": media.routes(settings)},
        show_error=False,
        # Gradio's own upload route, which serves even a read-only demo, refuses bigger files.
        max_file_size=settings.limits.upload_file_bytes,
        state_session_capacity=settings.limits.sessions,
        prevent_thread_lock=True,
        quiet=False,
        theme=theme(),
        css=CSS,
        head=A11Y_FIXES,
        mcp_server=settings.mcp,  # the API's reading endpoints as tools (integrations/mcp.py)
    )
    ctx.bootstrap.start(app.local_url or f"http://{host}:{port}")
    if ctx.tenancy is not None:
        threading.Thread(target=_sweep_forever, args=(ctx,), daemon=True).start()
    if block:
        app.block_thread()
