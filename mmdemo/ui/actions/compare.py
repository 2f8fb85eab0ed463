"""Comparing: one query through two set-ups, the verdict and how much they agree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mmdemo.errors import MMDemoError, NotFoundError
from mmdemo.evaluate.compare import (
    DEFAULT_P,
    kendall_tau_shared,
    overlap_at_k,
    rank_biased_overlap,
)
from mmdemo.evaluate.verdict import SetupName, judge, same_list_reason, verdict
from mmdemo.models import registry
from mmdemo.policy.rules import NO_RERANKER
from mmdemo.search.engine import RERANK_CANDIDATES
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import CompareRequest, Setup
from mmdemo.ui.shared import present

if TYPE_CHECKING:
    from mmdemo.search.query import Query

Rows = list[dict[str, Any]]
SIDES = ("A", "B")


@dataclass(frozen=True)
class Side:
    """One set-up's result rows, its info line and its JSON; a failure stays on its side."""

    rows: Rows
    info: str
    payload: dict[str, Any]

    @property
    def ids(self) -> list[str]:
        return [str(row["id"]) for row in self.payload.get("results", [])]


@dataclass(frozen=True)
class Comparison:
    """Both sides, how much they agree and the verdict (None unless both have results)."""

    a: Side
    b: Side
    agreement: dict[str, Any] | None
    verdict: list[str] | None
    expected: tuple[str, ...] = ()
    winner: str | None = None

    @property
    def payload(self) -> dict[str, Any]:
        """What the API returns and the page keeps: both sides, agreement, verdict, and
        with known answers the winner (``A``, ``B``, ``tie`` or ``none``)."""
        sides = {"a": self.a.payload, "b": self.b.payload}
        told = {"agreement": self.agreement, "verdict": self.verdict}
        return {**sides, **told, "expected": list(self.expected), "winner": self.winner}


def compare(ctx: AppContext, request: CompareRequest) -> Comparison:
    """Run the query through both set-ups, then measure and tell how they differ."""
    from mmdemo.search.query import Query

    query = Query(request.text, request.image)
    query.validate()
    if not ctx.store().models(request.collection.stored):
        raise NotFoundError(f"Collection {request.collection.name!r} does not exist.")
    a, b = (_side(ctx, query, setup) for setup in request.setups)
    expected = request.expected
    if not (a.ids and b.ids):
        return Comparison(a, b, None, None, expected)
    stored = request.collection.stored
    told = tell(ctx, stored, (a, b), request.top_k, expected)
    judged = judge(_ranked(a), _ranked(b), SIDES, expected)
    measured = agreement(a.ids, b.ids, request.top_k)
    return Comparison(a, b, measured, told, expected, judged.winner if judged else None)


def _side(ctx: AppContext, query: Query, setup: Setup) -> Side:
    from mmdemo.search.engine import search

    key = registry.resolve(setup.model, "embedder").key
    if not ctx.store().has_model(setup.collection.stored, key):
        info = _not_indexed(ctx, setup.collection.name, key)
        payload = {"indexed": False, "model": key, "error": None, "message": info, "results": []}
        return Side([], info, payload)
    try:
        results = search(
            query,
            collection=setup.collection.stored,
            model=key,
            settings=ctx.settings,
            store=ctx.store(),
            reranker=setup.reranker,
            top_k=setup.top_k,
        )
    except MMDemoError as exc:
        return Side([], f"**Error:** {exc}", {"indexed": True, "model": key, "error": str(exc)})
    _, info, payload = present(results, ctx.settings)
    return Side(results.rows, info, {"indexed": True, "error": None, **payload})


def _not_indexed(ctx: AppContext, collection: str, key: str) -> str:
    """Why a side has no results when its model has not indexed the collection, and how to
    index it (the page and the API show the same sentence)."""
    lacking = f"Collection `{collection}` is not indexed with `{registry.display_key(key)}` yet"
    if ctx.readonly:
        return f"{lacking}, and this read-only demo cannot index it: choose an indexed model."
    return (
        f"{lacking}: index it with that model to compare (the Index button here, or the "
        f"`/index_existing` endpoint with this collection and model)."
    )


def agreement(first: list[str], second: list[str], top_k: int) -> dict[str, Any]:
    """overlap@k, RBO and Kendall's tau of two id lists; k is top-k, capped at the longer length."""
    k = min(top_k, max(len(first), len(second)))
    shared = len(set(first[:k]) & set(second[:k]))
    return {
        "k": k,
        "shared": shared,
        "overlap_at_k": overlap_at_k(first, second, k),
        "rbo": rank_biased_overlap(first, second, DEFAULT_P),
        "rbo_p": DEFAULT_P,
        "kendall_tau": kendall_tau_shared(first[:k], second[:k]),
    }


def _setup_name(label: str, side: dict[str, Any]) -> SetupName:
    return SetupName(label, str(side.get("model", "")), side.get("reranker"))


def _ranked(side: Side) -> list[tuple[str, str]]:
    return [(str(row["id"]), str(row["file_name"])) for row in side.payload["results"]]


def tell(
    ctx: AppContext,
    collection: str,
    sides: tuple[Side, Side],
    k: int,
    expected: tuple[str, ...] = (),
) -> list[str]:
    """The verdict sentences for two sides of the stored ``collection`` (see :func:`verdict`);
    with ``expected`` (the query's known answers) the first one names the winner."""
    a, b = (_setup_name(label, side.payload) for label, side in zip(SIDES, sides, strict=True))
    size = next((i.images for i in ctx.store().collections() if i.name == collection), 0)
    reason = same_list_reason(a, b, size, max(k, RERANK_CANDIDATES))
    return verdict(_ranked(sides[0]), _ranked(sides[1]), (a, b), reason, expected)


def default_comparison_reranker() -> str:
    """Side B reranks with the first offline reranker, so the default comparison runs here."""
    offline = [p.key for p in registry.presets("reranker") if p.offline]
    return offline[0] if offline else NO_RERANKER


def reranker_pair(model: str) -> tuple[str, str, str]:
    """Set-ups for "with vs without reranker": B = A's model, A unreranked, B reranked.

    B uses the model's default reranker, else the offline one, so the comparison runs here.
    """
    key = registry.resolve(model, "embedder").key
    return key, NO_RERANKER, registry.default_reranker(key) or default_comparison_reranker()
