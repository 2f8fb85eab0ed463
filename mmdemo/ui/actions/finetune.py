"""Fine-tuning an embedder on a collection's captions (the operator's, from the page)."""

from __future__ import annotations

from typing import Any

from mmdemo.models.registry import display_key
from mmdemo.ui.context import AppContext, Progress
from mmdemo.ui.requests import FinetuneRequest

TABLE_COLUMNS = ["metric", "base", "fine-tuned", "change"]


def finetune(
    ctx: AppContext, request: FinetuneRequest, progress: Progress
) -> tuple[str, list[tuple[Any, ...]], dict[str, Any]]:
    """Train, save (and push, when asked); returns a summary, the before/after rows
    (:data:`TABLE_COLUMNS`) and the report."""
    from mmdemo.finetune import run
    from mmdemo.finetune.hub import push_outcome

    job = run.FinetuneRequest(
        collection=request.collection.stored,
        base=request.base,
        out=run.named_output(ctx.settings, request.name),
        epochs=request.epochs or None,
        batch_size=request.batch_size or None,
        learning_rate=request.lr or None,
        eval_split=request.eval_split,
        overwrite=request.overwrite,
    )

    def report(stage: str, done: int, total: int, loss: float | None) -> None:
        desc = f"{stage} · loss {loss:.4f}" if loss is not None else stage
        progress((done, total), desc=desc, unit="steps" if stage == "train" else "images")

    result = run.finetune(job, settings=ctx.settings, store=ctx.store(), progress=report)
    facts = result.to_json()
    rows = [
        (metric, before, facts["after"][metric], round(facts["after"][metric] - before, 4))
        for metric, before in facts["before"].items()
    ]
    summary = (
        f"**Fine-tuned `{display_key(facts['base_model'])}`** on {facts['train_pairs']} pairs: "
        f"{facts['steps']} steps in {facts['train_seconds']:.0f} s, final loss "
        f"{facts['final_loss']:.4f}; held out {facts['eval_queries']} captions. "
        f"Saved as `{result.out.name}` among the fine-tuned models, ready to search, compare "
        "and evaluate."
    )
    repo_id = request.push_to_hub.strip()
    if repo_id:
        summary += "\n\n" + push_outcome(result.out, repo_id, ctx.settings)
    return summary, rows, facts
