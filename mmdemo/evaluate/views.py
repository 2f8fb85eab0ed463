"""What an evaluation shows: its table in words with the best values marked, chart data,
the pair of set-ups to compare first, and where two set-ups disagree."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from mmdemo.errors import InputError
from mmdemo.evaluate.runner import COLUMNS, METRIC_COLUMNS, EvalQuery, EvalRun, setup_name

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

CHART_COLUMNS = ["setup", "metric", "value"]
#: The per-query measure two set-ups are compared on.
DISAGREEMENT_METRIC = "mrr"
#: Each metrics-table column as a reader names it.
LABELS = {
    "model": "Model",
    "reranker": "Reranker",
    "recall@1": "Recall@1",
    "recall@5": "Recall@5",
    "recall@10": "Recall@10",
    "mrr": "MRR",
    "ndcg@10": "nDCG@10",
    "queries": "Queries",
    "ms_per_query": "ms per query",
}
#: The columns a best value is marked in, and whether higher is better there.
RANKED_COLUMNS = {**dict.fromkeys(METRIC_COLUMNS, True), "ms_per_query": False}
#: What a best value shows before it, and how it is styled.
BEST_MARK = "★"
BEST_STYLE = "font-weight: 700; background-color: #d3f9d8; color: #0b3d1a"


def best_rows(table: pd.DataFrame) -> dict[str, list[int]]:
    """Per ranked column, the row positions holding its best value (ties all count); none
    when the table has fewer than two rows, where "best" would say nothing."""
    if len(table) < 2:
        return {}
    best = {}
    for column, higher in RANKED_COLUMNS.items():
        values = pd.to_numeric(table[column], errors="coerce").reset_index(drop=True)
        top = values.max() if higher else values.min()
        best[column] = [int(i) for i in values.index[values == top]]
    return best


def metrics_view(table: pd.DataFrame) -> Styler:
    """The metrics table as shown: columns named in words (Recall@10, MRR, nDCG@10, ms per
    query) and each column's best value starred and highlighted."""
    shown = table.reset_index(drop=True)[COLUMNS].rename(columns=LABELS)
    styler = shown.style.format(precision=3, subset=[LABELS[m] for m in METRIC_COLUMNS])
    styler = styler.format(precision=1, subset=[LABELS["ms_per_query"]])
    for column, rows in best_rows(table).items():
        decimals = 1 if column == "ms_per_query" else 3
        cells = pd.IndexSlice[rows, [LABELS[column]]]
        styler = styler.format(lambda v, d=decimals: f"{BEST_MARK} {v:.{d}f}", subset=cells)
        styler = styler.map(lambda _: BEST_STYLE, subset=cells)
    return styler.hide(axis="index")


def default_pair(setups: Sequence[str]) -> tuple[str, str]:
    """The two set-ups to compare per query first: the first two, which differ whenever the
    evaluation ran more than one (one set-up is compared with itself, and says so)."""
    if not setups:
        raise InputError("The evaluation ran no set-up.")
    return setups[0], setups[1] if len(setups) > 1 else setups[0]


def chart_data(table: pd.DataFrame) -> pd.DataFrame:
    """The metrics table in long form, one row per (set-up, metric), for a grouped bar chart."""
    rows = [
        {"setup": setup_name(row["model"], row["reranker"]), "metric": m, "value": float(row[m])}
        for row in table.to_dict("records")
        for m in METRIC_COLUMNS
    ]
    return pd.DataFrame(rows, columns=CHART_COLUMNS)


@dataclass(frozen=True)
class Disagreement:
    """One query where two set-ups differ: each one's reciprocal rank and top results."""

    query: EvalQuery
    score_a: float
    score_b: float
    top_a: list[tuple[str, str]]
    top_b: list[tuple[str, str]]

    @property
    def gap(self) -> float:
        """How far apart the two set-ups' reciprocal ranks are (positive: A is better)."""
        return self.score_a - self.score_b


def disagreements(run: EvalRun, a: str, b: str, limit: int = 5) -> list[Disagreement]:
    """The ``limit`` queries where set-ups ``a`` and ``b`` differ most in reciprocal rank.

    Queries both answer equally well are left out; ties keep the queries' order.
    """
    missing = [name for name in (a, b) if name not in run.outcomes]
    if missing:
        raise InputError(f"No set-up named {missing[0]!r} in this evaluation.")
    found = [
        Disagreement(
            query,
            oa.metrics[DISAGREEMENT_METRIC],
            ob.metrics[DISAGREEMENT_METRIC],
            list(zip(oa.top_ids, oa.top_names, strict=True)),
            list(zip(ob.top_ids, ob.top_names, strict=True)),
        )
        for query, oa, ob in zip(run.queries, run.outcomes[a], run.outcomes[b], strict=True)
    ]
    found = [d for d in found if d.gap != 0]
    return sorted(found, key=lambda d: -abs(d.gap))[:limit]
