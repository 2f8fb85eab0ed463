"""The Evaluate tab: many queries through several set-ups, as a table, a chart and the
queries where two set-ups disagree most.

Queries come from an uploaded queries CSV (the ``mmdemo eval`` format) or from the
collection's own captions. Models not yet indexed are indexed first, with progress.
The run is model work: it shares the :data:`mmdemo.ui.pools.POOLED` pool with indexing and
comparing, so a long evaluation never takes every worker. Its API endpoint is ``evaluate``
in :mod:`mmdemo.ui.api`; both run :func:`mmdemo.ui.actions.evaluate.evaluate`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd

from mmdemo.evaluate.runner import METRIC_COLUMNS, EvalRun
from mmdemo.policy.rules import NO_RERANKER
from mmdemo.ui.actions.evaluate import SHOWN_QUERIES, evaluate
from mmdemo.ui.context import AppContext
from mmdemo.ui.pools import POOLED
from mmdemo.ui.requests import EvaluateRequest, PairRequest
from mmdemo.ui.shared import (
    PRIVATE,
    Form,
    clears_errors,
    collection_dropdown,
    models_dropdown,
    reranker_choices,
    served_thumb,
    shows_errors,
)


def bar_chart(table: pd.DataFrame) -> pd.DataFrame:
    """Chart rows grouped by metric (in table order, named in words), each bar labelled
    ``metric #set-up``."""
    from mmdemo.evaluate.views import LABELS, chart_data

    chart = chart_data(table)
    rank = {metric: i for i, metric in enumerate(METRIC_COLUMNS)}
    chart = chart.sort_values("metric", key=lambda col: col.map(rank), kind="stable")
    chart["metric"] = chart["metric"].map(LABELS)
    number = {name: i + 1 for i, name in enumerate(dict.fromkeys(chart["setup"]))}
    chart["bar"] = [
        f"{m} #{number[s]}" for m, s in zip(chart["metric"], chart["setup"], strict=True)
    ]
    chart["setup"] = [f"#{number[s]} {s}" for s in chart["setup"]]
    return chart


def _thumbs(ctx: AppContext, items: list[tuple[str, str]], relevant: frozenset[str]) -> str:
    cells = []
    for rank, (item_id, name) in enumerate(items, start=1):
        hit = " mm-right" if item_id in relevant or name in relevant else ""
        cells.append(
            f'<figure class="mm-thumb{hit}"><img src="{served_thumb(ctx.settings, item_id)}" '
            f'alt="{html.escape(name)}"><figcaption>#{rank} {html.escape(name)}</figcaption>'
            "</figure>"
        )
    return "".join(cells) or "<em>no results</em>"


def disagreement_html(ctx: AppContext, collection: str, found: EvalRun, a: str, b: str) -> str:
    """The queries where set-ups ``a`` and ``b`` disagree most, with thumbnails."""
    from mmdemo.evaluate.views import disagreements

    if a == b:
        return "<p>Choose two different set-ups to compare.</p>"
    rows = disagreements(found, a, b, SHOWN_QUERIES)
    if not rows:
        return "<p>These two set-ups rank every query equally well.</p>"
    known: dict[str, tuple[str, str]] = {}
    for item_id, meta in ctx.store().items(collection):
        known[item_id] = known[str(meta.get("file_name", ""))] = (
            item_id,
            str(meta.get("file_name", "")),
        )
    parts = []
    for row in rows:
        expected = [known[r] for r in sorted(row.query.relevant) if r in known]
        label = html.escape(row.query.text or str(row.query.image))
        parts.append(
            f'<div class="mm-query"><p><b>{label}</b> — reciprocal rank '
            f"{row.score_a:.2f} vs {row.score_b:.2f}</p>"
            + _row(ctx, "expected", expected, row.query.relevant)
            + _row(ctx, a, row.top_a, row.query.relevant)
            + _row(ctx, b, row.top_b, row.query.relevant)
            + "</div>"
        )
    return "".join(parts)


def _row(
    ctx: AppContext, label: str, items: list[tuple[str, str]], relevant: frozenset[str]
) -> str:
    thumbs = _thumbs(ctx, items, relevant)
    return f'<div class="mm-row"><span>{html.escape(label)}</span>{thumbs}</div>'


PER_QUERY_CSS = """
.mm-query { border-top: 1px solid #ddd; padding: 6px 0; }
.mm-row { display: flex; flex-wrap: wrap; align-items: center; gap: 6px; margin: 4px 0; }
.mm-row > span { width: 11em; font-size: 12px; overflow-wrap: anywhere; }
.mm-thumb { margin: 0; width: 84px; font-size: 11px; text-align: center; }
.mm-thumb img { width: 80px; height: 80px; object-fit: cover; border: 3px solid transparent;
  border-radius: 4px; }
.mm-thumb.mm-right img { border-color: #2f9e44; }
.mm-thumb figcaption { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
"""


@dataclass
class EvaluateTab:
    """The components other parts of the app refresh."""

    collection: gr.Dropdown
    models: gr.Dropdown


def _outputs_of(ctx: AppContext, collection: str, found: EvalRun, note: str) -> tuple[Any, ...]:
    """Everything the page shows after a run."""
    from mmdemo.evaluate.views import default_pair, metrics_view

    setups = list(found.outcomes)
    a, b = default_pair(setups)
    csv = ctx.write_csv(found.table, "evaluation.csv")
    chart = bar_chart(found.table)
    return (
        note,
        gr.Dataframe(metrics_view(found.table), visible=True),
        gr.BarPlot(chart, sort=list(chart["bar"]), visible=True),
        gr.File(str(csv), visible=True),
        gr.Dropdown(choices=setups, value=a),
        gr.Dropdown(choices=setups, value=b),
        disagreement_html(ctx, collection, found, a, b),
        (collection, found),
    )


@dataclass
class _Handlers:
    """The tab's events, each admitting its request through the policy."""

    ctx: AppContext

    @shows_errors
    def on_run(
        self,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's injection idiom)
        **named: Any,
    ) -> tuple[Any, ...]:
        asked = self.ctx.admit(EvaluateRequest, named, request.session_hash)
        found, note = evaluate(self.ctx, asked, progress)
        return _outputs_of(self.ctx, asked.collection.stored, found, note)

    @shows_errors
    def on_pair(self, state: tuple[str, EvalRun] | None, request: gr.Request, **named: Any) -> str:
        pair = self.ctx.admit(PairRequest, named, request.session_hash)
        if state is None or not pair.a or not pair.b:
            return ""
        collection, found = state
        return disagreement_html(self.ctx, collection, found, pair.a, pair.b)


def _results_panel() -> list[Any]:
    """The run's note, metrics table, chart and CSV, then the queries where two picked
    set-ups disagree most; the components the run fills, in its outputs' order."""
    note = gr.Markdown(elem_id="eval-note")
    # Shown once a run has filled them (an empty table reads "1 2 3").
    table = gr.Dataframe(label="Metrics", interactive=False, visible=False, elem_id="eval-table")
    chart = gr.BarPlot(
        x="bar",
        y="value",
        color="setup",
        y_lim=[0, 1],
        x_title="metric · set-up",
        y_title="score",
        label="Metrics per set-up",
        x_label_angle=-45,
        sort=None,
        visible=False,
        elem_id="eval-chart",
    )
    download = gr.File(label="Metrics CSV", visible=False, elem_id="eval-download")
    gr.Markdown("### Where two set-ups disagree most")
    with gr.Row():
        pick_a = gr.Dropdown([], label="Set-up A", elem_id="eval-a")
        pick_b = gr.Dropdown([], label="Set-up B", elem_id="eval-b")
    per_query = gr.HTML(css_template=PER_QUERY_CSS, elem_id="eval-per-query")
    state = gr.State(None)
    return [note, table, chart, download, pick_a, pick_b, per_query, state]


def build(ctx: AppContext) -> EvaluateTab:
    """Render the tab inside the current Blocks and register its events."""
    on = _Handlers(ctx)
    default = ctx.bootstrap.status().default_model
    with gr.Tab("Evaluate", id="evaluate"):
        gr.Markdown(
            "Measure set-ups (embedding model × reranker) over many queries. Without a "
            "queries CSV (columns query and/or query_image, and relevant), each captioned "
            "image is queried with its own caption."
        )
        with gr.Row():
            collection = collection_dropdown(ctx.bootstrap.demos, elem_id="eval-coll")
            queries = gr.File(
                label="Queries CSV (optional)",
                file_types=[".csv"],
                height=120,
                elem_id="eval-queries",
            )
        # Each list in a column of its own: full width (its chips on one line) on a phone.
        with gr.Row():
            with gr.Column(min_width=320):
                models = models_dropdown(
                    default, "Models the collection lacks are indexed first", elem_id="eval-models"
                )
            with gr.Column(min_width=320):
                rerankers = gr.Dropdown(
                    reranker_choices(),
                    value=[NO_RERANKER],
                    multiselect=True,
                    allow_custom_value=True,
                    label="Rerankers",
                    elem_id="eval-rerankers",
                )
        read_captions = gr.Checkbox(
            False, label="Let rerankers read captions (leaks the answer when queries are captions)"
        )
        button = gr.Button("Evaluate", variant="primary", elem_id="eval-button")
        outputs = _results_panel()

    pick_a, pick_b, per_query, state = outputs[4:]
    form: Form = {"collection": collection, "queries_csv": queries, "models": models}
    form |= {"rerankers": rerankers, "rerank_captions": read_captions}
    clears_errors(
        button.click(
            on.on_run,
            None,
            outputs,
            inputs_kwargs=form,
            show_progress="full",
            **PRIVATE,
            **POOLED,
        )
    )
    for pick in (pick_a, pick_b):
        pick.input(
            on.on_pair, state, per_query, inputs_kwargs={"a": pick_a, "b": pick_b}, **PRIVATE
        )
    return EvaluateTab(collection, models)
