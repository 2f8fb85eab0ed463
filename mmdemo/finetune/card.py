"""The model card (README.md) written beside a fine-tuned model: what it was trained from,
on what, how, and how much it helped on the held-out captions."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mmdemo.evaluate.runner import METRIC_COLUMNS


def _metrics_table(before: Mapping[str, float], after: Mapping[str, float]) -> str:
    rows = ["| metric | base | fine-tuned | change |", "| --- | --- | --- | --- |"]
    for name in METRIC_COLUMNS:
        old, new = before[name], after[name]
        rows.append(f"| {name} | {old:.4f} | {new:.4f} | {new - old:+.4f} |")
    return "\n".join(rows)


def model_card(facts: Mapping[str, Any]) -> str:
    """Markdown with Hub front matter; ``facts`` is :meth:`FinetuneReport.to_json`'s dict."""
    hyper = facts["hyper_parameters"]
    return f"""---
library_name: sentence-transformers
pipeline_tag: sentence-similarity
tags:
- sentence-transformers
- multimodal
- mmdemo
- fine-tuned
base_model: {facts["base_model"]}
---

# Fine-tuned {facts["base_model"]}

Fine-tuned with mmdemo on the captions of collection `{facts["collection"]}` with
sentence-transformers' `SentenceTransformerTrainer` and `MultipleNegativesRankingLoss`
over (caption, image) pairs. Created {facts["created"]}.

## Data

- training pairs: {facts["train_pairs"]}
- held-out pairs: {facts["eval_pairs"]} ({facts["eval_queries"]} caption queries), split by
  {facts["split_by"]} ({facts["eval_split"]:.0%} held out)

## Training

- what trains: {facts["trains"]} ({facts["trainable_parameters"]:,} parameters)
- epochs: {hyper["epochs"]}, batch size: {hyper["batch_size"]}, learning rate:
  {hyper["learning_rate"]:g}, loss scale: {hyper["loss_scale"]:g}, steps: {facts["steps"]},
  final loss: {facts["final_loss"]:.4f}
- device: {facts["device"]}, precision: {facts["precision"]}, training time:
  {facts["train_seconds"]:.1f} s

## Evaluation on the held-out captions

Text-to-image search over the whole collection; each held-out caption queries its images.

{_metrics_table(facts["before"], facts["after"])}

## Use

```bash
python -m mmdemo search --collection {facts["collection"]} --model THIS_FOLDER --text "..."
```
"""


def write_model_card(folder: Path, facts: Mapping[str, Any]) -> Path:
    """Write (or replace) ``folder/README.md``; returns its path."""
    path = folder / "README.md"
    path.write_text(model_card(facts), encoding="utf-8")
    return path
