"""The whole page: title, start-up status, the three tabs, and what keeps them in sync.

``build_app`` assembles the tabs; ``launch`` serves the page first and only then starts
the start-up work (default model, demo collection), so the page answers within seconds.
"""

from dataclasses import asdict
from typing import Any

import gradio as gr

from mmdemo.ui import collections_tab, compare_tab, finetune_tab, search_tab
from mmdemo.ui.context import AppContext
from mmdemo.ui.shared import (
    PRIVATE,
    default_reranker,
    embedder_choices,
)

TITLE = "mmdemo · multimodal visual search"
DESCRIPTION = (
    "Index your images, then search them by text, by example image or both, rerank the "
    "results, and compare models side by side."
)
STATUS_POLL_S = 1.0
CSS = """
#status { font-size: 0.9em; opacity: 0.85; }
.result-gallery .caption-label { white-space: normal; overflow-wrap: anywhere; max-width: 92%; }
"""
#: Temporary files (uploads, downloads) older than a day are removed every hour.
DELETE_CACHE = (3600, 86400)


def status_text(ctx: AppContext) -> str:
    """The start-up status, the default model and why, and deployment notes."""
    status = ctx.bootstrap.status()
    lines = [status.message, status.default_why, *ctx.notes]
    if ctx.readonly:
        lines.append("Read-only demo: uploading, indexing and deleting are turned off.")
    return "  \n".join(line for line in lines if line)


class _Sync:
    """The dropdowns and lists that follow the collections and the default model."""

    def __init__(
        self,
        search: search_tab.SearchTab,
        compare: compare_tab.CompareTab,
        collections: collections_tab.CollectionsTab,
        finetune: finetune_tab.FinetuneTab,
    ) -> None:
        self.collection_lists = [search.collection, compare.collection, collections.delete_choice]
        self.collection_lists.append(finetune.collection)
        self.model_lists = [search.model, *compare.models, finetune.base]
        self.reranker = search.reranker
        self.index_models = collections.models
        self.listing = [collections.table, collections.listing]

    @property
    def outputs(self) -> list[Any]:
        return [
            *self.collection_lists,
            *self.model_lists,
            self.reranker,
            self.index_models,
            *self.listing,
        ]

    def refresh(self, ctx: AppContext, default: str | None = None) -> list[Any]:
        """Updates for :attr:`outputs`; with ``default``, also select that model everywhere
        and the search tab's reranker to its default reranker."""
        infos = ctx.store().collections()
        names = [info.name for info in infos]
        indexed = [model for info in infos for model in info.models]
        choices = embedder_choices([*indexed, *([default] if default else [])])
        chosen: dict[str, Any] = {"value": default} if default else {}
        many: dict[str, Any] = {"value": [default]} if default else {}
        return [
            *(gr.Dropdown(choices=names) for _ in self.collection_lists),
            *(gr.Dropdown(choices=choices, **chosen) for _ in self.model_lists),
            gr.Dropdown(value=default_reranker(default)) if default else gr.Dropdown(),
            gr.Dropdown(choices=choices, **many),
            *collections_tab.list_collections(infos),
        ]


def build_app(ctx: AppContext) -> gr.Blocks:
    """The Gradio Blocks of the app, with every event registered."""
    with gr.Blocks(title=TITLE, analytics_enabled=False, delete_cache=DELETE_CACHE) as app:
        gr.Markdown(f"# {TITLE}\n{DESCRIPTION}")
        status = gr.Markdown(status_text(ctx), elem_id="status")
        timer = gr.Timer(STATUS_POLL_S)
        with gr.Tabs() as tabs:
            search = search_tab.build(ctx)
            compare = compare_tab.build(ctx)
            collections = collections_tab.build(ctx)
            finetune = finetune_tab.build(ctx)
        sync = _Sync(search, compare, collections, finetune)

        def on_refresh() -> list[Any]:
            return sync.refresh(ctx)

        def on_tick() -> list[Any]:
            boot = ctx.bootstrap.status()
            if not boot.finished:
                return [status_text(ctx), gr.skip(), *(gr.skip() for _ in sync.outputs)]
            return [
                status_text(ctx),
                gr.Timer(active=False),
                *sync.refresh(ctx, boot.default_model),
            ]

        def startup_status() -> dict[str, Any]:
            """Start-up status: phase (starting/indexing/ready/failed), message, default model."""
            return asdict(ctx.bootstrap.status())

        gr.api(startup_status, api_name="status")
        app.load(on_refresh, None, sync.outputs, **PRIVATE)
        timer.tick(on_tick, None, [status, timer, *sync.outputs], **PRIVATE)
        for event in [*collections.changed, finetune.trained]:
            event.then(on_refresh, None, sync.outputs, **PRIVATE)
        finetune.compare_button.click(
            finetune_tab.compare_updates,
            finetune.report,
            [tabs, compare.collection, *compare.models, *compare.rerankers],
            **PRIVATE,
        )
    return app


def launch(app: gr.Blocks, ctx: AppContext, host: str, port: int, *, block: bool = True) -> None:
    """Serve the page, then start the start-up work; blocks unless ``block`` is False."""
    app.queue(default_concurrency_limit=2)
    settings = ctx.settings
    app.launch(
        server_name=host,
        server_port=port,
        # Only the images: the data dir also holds the Chroma database.
        allowed_paths=[str(p.resolve()) for p in (settings.images_dir, settings.thumbs_dir)],
        show_error=False,
        prevent_thread_lock=True,
        quiet=False,
        theme=gr.themes.Soft(primary_hue="indigo"),
        css=CSS,
    )
    ctx.bootstrap.start()
    if block:
        app.block_thread()
