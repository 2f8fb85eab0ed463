"""What an evaluation shows besides its table: chart data and where two set-ups disagree."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from mmdemo.errors import InputError
from mmdemo.evaluate.runner import METRIC_COLUMNS, EvalQuery, EvalRun, setup_name

CHART_COLUMNS = ["setup", "metric", "value"]
#: The per-query measure two set-ups are compared on.
DISAGREEMENT_METRIC = "mrr"


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
