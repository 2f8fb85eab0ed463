"""The Fine-tune tab: train an embedder on a collection's captions, see before/after,
and open Compare with the base model against the fine-tuned one.

Hidden in read-only mode. API endpoint: ``finetune``.
"""

from dataclasses import dataclass
from typing import Any

import gradio as gr
import pandas as pd
from gradio.events import Dependency

from mmdemo.errors import InputError, ReadOnlyError
from mmdemo.ui.context import POOLED, AppContext
from mmdemo.ui.shared import (
    NO_RERANKER,
    PRIVATE,
    embedder_choices,
    model_dropdown,
    shows_errors,
)

TABLE_COLUMNS = ["metric", "base", "fine-tuned", "change"]


@dataclass
class FinetuneTab:
    """What the page wires: the run's event and report, the lists to refresh, the button."""

    trained: Dependency
    report: gr.JSON
    collection: gr.Dropdown
    base: gr.Dropdown
    compare_button: gr.Button


def _number(value: float | None) -> float | None:
    """A blank or zero box means "the model family's default"."""
    return float(value) if value else None


def run_finetune(
    ctx: AppContext,
    collection: str | None,
    base: str,
    name: str,
    options: dict[str, Any],
    progress: Any,
) -> tuple[str, pd.DataFrame, dict[str, Any]]:
    """Fine-tune from the page; returns a summary, the before/after table and the report."""
    from mmdemo.finetune.hub import push_outcome
    from mmdemo.finetune.run import FinetuneRequest, finetune, named_output

    ctx.require_writable("fine-tuning")
    if ctx.tenancy is not None:
        raise ReadOnlyError("Fine-tuning is for the operator: it is off for public visitors.")
    if not collection:
        raise InputError("Choose a collection whose captions to train on.")
    ctx.require_ready(collection)
    epochs, batch = _number(options["epochs"]), _number(options["batch_size"])
    request = FinetuneRequest(
        collection=collection,
        base=base,
        out=named_output(ctx.settings, name),
        epochs=int(epochs) if epochs else None,
        batch_size=int(batch) if batch else None,
        learning_rate=_number(options["lr"]),
        eval_split=float(options["eval_split"]),
        overwrite=bool(options["overwrite"]),
    )

    def report(stage: str, done: int, total: int, loss: float | None) -> None:
        desc = f"{stage} · loss {loss:.4f}" if loss is not None else stage
        progress((done, total), desc=desc, unit="steps" if stage == "train" else "images")

    result = finetune(request, settings=ctx.settings, store=ctx.store(), progress=report)
    facts = result.to_json()
    rows = [
        (metric, before, facts["after"][metric], round(facts["after"][metric] - before, 4))
        for metric, before in facts["before"].items()
    ]
    summary = (
        f"**Fine-tuned `{facts['base_model']}`** on {facts['train_pairs']} pairs: "
        f"{facts['steps']} steps in {facts['train_seconds']:.0f} s, final loss "
        f"{facts['final_loss']:.4f}; held out {facts['eval_queries']} captions. "
        f"Saved to `{result.out}`."
    )
    repo_id = str(options.get("push_to_hub") or "").strip()
    if repo_id:
        summary += "\n\n" + push_outcome(result.out, repo_id, ctx.settings)
    return summary, pd.DataFrame(rows, columns=TABLE_COLUMNS), facts


def _options() -> list[Any]:
    with gr.Row():
        epochs = gr.Number(label="Epochs (0 = default)", value=0, precision=0, minimum=0)
        batch = gr.Number(label="Batch size (0 = default)", value=0, precision=0, minimum=0)
        lr = gr.Number(label="Learning rate (0 = default)", value=0, minimum=0)
        split = gr.Slider(0.05, 0.5, value=0.2, step=0.05, label="Held out for evaluation")
        overwrite = gr.Checkbox(label="Replace a model of the same name")
    push_to = gr.Textbox(
        label="Push to the Hub as (optional repo id, e.g. me/my-model)", elem_id="ft-push"
    )
    return [epochs, batch, lr, split, overwrite, push_to]


def build(ctx: AppContext) -> FinetuneTab:
    """Render the tab inside the current Blocks and register its event."""

    @shows_errors
    def on_finetune(
        collection: str | None,
        base: str,
        name: str,
        epochs: float | None,
        batch_size: float | None,
        lr: float | None,
        eval_split: float,
        overwrite: bool,
        push_to_hub: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's injection idiom)
    ) -> tuple[str, pd.DataFrame, dict[str, Any]]:
        """Fine-tune an embedder on a collection's captions and report before/after metrics.

        Args:
            collection: a collection whose items have captions
            base: the embedding model to start from
            name: the fine-tuned model's name (saved under the data directory)
            epochs: epochs, 0 for the model family's default
            batch_size: batch size, 0 for the default
            lr: learning rate, 0 for the default
            eval_split: share of captions held out for evaluation
            overwrite: replace an existing model of that name
            push_to_hub: a Hub repo id to push the saved model to, blank for none
        Returns:
            a summary, the before/after table, and the report (model_key, before, after, ...)
        """
        options: dict[str, Any] = {"epochs": epochs, "batch_size": batch_size, "lr": lr}
        options |= {"eval_split": eval_split, "overwrite": overwrite, "push_to_hub": push_to_hub}
        return run_finetune(ctx, collection, base, name, options, progress)

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
        [collection, base, name, *options],
        [summary, table, report],
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
