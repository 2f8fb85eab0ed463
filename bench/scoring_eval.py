"""Caption queries and metric tables over a score matrix (queries x images)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from bench.offline_data import Item
from mmdemo.evaluate.metrics import ndcg_at_k, recall_at_k, summarise

METRICS = ("R@1", "R@5", "R@10", "nDCG@10")


def caption_queries(items: Sequence[Item]) -> tuple[list[str], list[set[int]]]:
    """One query per distinct caption; its relevant items are those with that caption."""
    groups: dict[str, set[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(item.caption.strip().lower(), set()).add(index)
    return list(groups), list(groups.values())


def ranking_metrics(ranked: Sequence[int], relevant: set[int]) -> dict[str, float]:
    """R@1/5/10 and nDCG@10 of one ranked list."""
    return {
        "R@1": recall_at_k(ranked, relevant, 1),
        "R@5": recall_at_k(ranked, relevant, 5),
        "R@10": recall_at_k(ranked, relevant, 10),
        "nDCG@10": ndcg_at_k(ranked, relevant, 10),
    }


def evaluate_scores(scores: np.ndarray, relevant: Sequence[set[int]]) -> dict[str, float]:
    """Mean metrics of ranking each row of ``scores`` (higher is better)."""
    rows = [
        ranking_metrics(list(np.argsort(-row, kind="stable")), rel)
        for row, rel in zip(scores, relevant, strict=True)
    ]
    return {name: round(value, 3) for name, value in summarise(rows).items()}
