"""The Fine-tune tab: train an embedder on a collection's captions, see before/after,
and open Compare with the base model against the fine-tuned one.

Hidden in read-only and multi-visitor mode; no API endpoint.
"""

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd
from gradio.events import Dependency

from mmdemo.policy.rules import NO_RERANKER
from mmdemo.ui.actions.finetune import TABLE_COLUMNS, finetune
from mmdemo.ui.context import AppContext
from mmdemo.ui.pools import POOLED
from mmdemo.ui.requests import FinetuneRequest
from mmdemo.ui.shared import (
    PRIVATE,
    embedder_choices,
    model_dropdown,
    shows_errors,
)


@dataclass
class FinetuneTab:
    """What the page wires: the run's event and report, the lists to refresh, the button."""

    trained: Dependency
    report: gr.JSON
    collection: gr.Dropdown
    base: gr.Dropdown
    compare_button: gr.Button


def _options() -> dict[str, Any]:
    """The training options, named as :class:`FinetuneRequest` names them."""
    with gr.Row():
        epochs = gr.Number(label="Epochs (0 = default)", value=0, precision=0, minimum=0)
        batch = gr.Number(label="Batch size (0 = default)", value=0, precision=0, minimum=0)
        lr = gr.Number(label="Learning rate (0 = default)", value=0, minimum=0)
        split = gr.Slider(0.05, 0.5, value=0.2, step=0.05, label="Held out for evaluation")
        overwrite = gr.Checkbox(label="Replace a model of the same name")
    push_to = gr.Textbox(
        label="Push to the Hub as (optional repo id, e.g. me/my-model)", elem_id="ft-push"
    )
    return {
        "epochs": epochs,
        "batch_size": batch,
        "lr": lr,
        "eval_split": split,
        "overwrite": overwrite,
        "push_to_hub": push_to,
    }


def build(ctx: AppContext) -> FinetuneTab:
    """Render the tab inside the current Blocks and register its event."""

    @shows_errors
    def on_finetune(
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's injection idiom)
        **named: Any,
    ) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        """Fine-tune an embedder on a collection's captions; report before/after metrics."""
        asked = ctx.admit(FinetuneRequest, named, request.session_hash)
        summary, rows, facts = finetune(ctx, asked, progress)
        return summary, pd.DataFrame(rows, columns=TABLE_COLUMNS), facts

    default = ctx.bootstrap.status().default_model
    with gr.Tab("Fine-tune", id="finetune", visible=not ctx.readonly and ctx.tenancy is None):
        gr.Markdown(
            "Adapt an embedder to a collection: it learns from the items' (caption, image) "
            "pairs, keeps some captions aside, and shows search quality before and after."
        )
        with gr.Row():
            collection = gr.Dropdown(
                [], value=None, label="Collection", allow_custom_value=True, elem_id="ft-coll"
            )
            base = model_dropdown("Base model", default, elem_id="ft-base")
            name = gr.Textbox(label="Name of the fine-tuned model", elem_id="ft-name")
        options = _options()
        button = gr.Button("Fine-tune", variant="primary", elem_id="ft-button")
        summary = gr.Markdown(label="summary", min_height=80, elem_id="ft-summary")
        table = gr.Dataframe(
            headers=TABLE_COLUMNS, label="Before / after", interactive=False, elem_id="ft-table"
        )
        report = gr.JSON(label="finetune_report", visible=False)
        compare_button = gr.Button(
            "Compare base vs fine-tuned", visible=False, elem_id="ft-compare"
        )
    trained = button.click(
        on_finetune,
        None,
        [summary, table, report],
        inputs_kwargs={"collection": collection, "base": base, "name": name, **options},
        show_progress="full",
        **PRIVATE,
        **POOLED,
    )
    trained.success(lambda: gr.Button(visible=True), None, compare_button, **PRIVATE)
    return FinetuneTab(trained, report, collection, base, compare_button)


def compare_updates(report: dict[str, Any]) -> tuple[Any, ...]:
    """The Compare tab selected, with the report's collection, base vs fine-tuned model and
    no reranker on either side, so the two embedders are compared like for like."""
    models = [report["base_model"], report["model_key"]]
    return (
        gr.Tabs(selected="compare"),
        gr.Dropdown(value=report["collection"]),
        *(gr.Dropdown(choices=embedder_choices(models), value=m) for m in models),
        *(gr.Dropdown(value=NO_RERANKER) for _ in models),
    )
