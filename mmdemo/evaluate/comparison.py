"""One query through two set-ups (embedder + optional reranker) over one collection.

What the Compare tab, its API and ``python -m mmdemo compare`` show: each side's results,
how much the two rankings agree, the verdict in words and, when the query has known answers
(``expected`` file names or ids), which set-up answered it better. A side that cannot answer
(its model has not indexed the collection, or its search failed) says why and how to fix it,
while the other side's results still come back.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from mmdemo.config import Settings
from mmdemo.errors import MMDemoError
from mmdemo.evaluate.compare import agreement
from mmdemo.evaluate.runner import setup_name
from mmdemo.evaluate.verdict import Judgement, SetupName, judge, same_list_reason, verdict
from mmdemo.models.registry import resolve
from mmdemo.search.engine import RERANK_CANDIDATES, SearchResults, search
from mmdemo.search.query import Query
from mmdemo.store import Store

LABELS = ("A", "B")
#: How the page says to index a side's model ({label}: the side).
PAGE_INDEX_HINT = "press “Index with this model” under {label}"
#: How the command line says it.
CLI_INDEX_HINT = "run the comparison again with --index-missing"


@dataclass(frozen=True)
class Setup:
    """One side's embedder and reranker (None: no reranking)."""

    model: str
    reranker: str | None = None

    @property
    def name(self) -> str:
        """How the set-up is named in votes, charts and exports: ``model + reranker``."""
        return setup_name(self.model, self.reranker)

    def resolved(self) -> Setup:
        """The same set-up with canonical model keys (``clip-b32``, not its Hub id)."""
        reranker = resolve(self.reranker, "reranker").key if self.reranker else None
        return Setup(resolve(self.model, "embedder").key, reranker)


@dataclass
class Side:
    """How one set-up answered: its results, or why it has none."""

    label: str
    setup: Setup
    indexed: bool
    results: SearchResults | None = None
    error: str | None = None

    @property
    def ranked(self) -> list[tuple[str, str]]:
        """(id, file name) of each result in rank order; empty when it has none."""
        rows = self.results.rows if self.results is not None else []
        return [(str(row["id"]), str(row["file_name"] or "")) for row in rows]

    def to_json(self) -> dict[str, Any]:
        """The comparison JSON's ``a`` / ``b``."""
        found = self.results.to_json() if self.results is not None else {"results": []}
        return {
            "setup": self.setup.name,
            "model": self.setup.model,
            "reranker": self.setup.reranker,
            "indexed": self.indexed,
            "error": self.error,
            **found,
        }


@dataclass
class Comparison:
    """Both sides, their agreement, the verdict and, with known answers, the judgement."""

    collection: str
    sides: tuple[Side, Side]
    sentences: list[str]
    agreement: dict[str, Any] | None = None
    judgement: Judgement | None = None
    expected: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``compare --json`` and API shape."""
        a, b = self.sides
        return {
            "collection": self.collection,
            "a": a.to_json(),
            "b": b.to_json(),
            "agreement": self.agreement,
            "verdict": self.sentences,
            "expected": self.expected,
            "judgement": self.judgement.to_json() if self.judgement else None,
        }


def _answer(
    label: str,
    setup: Setup,
    query: Query,
    context: tuple[str, Settings, Store],
    top_k: int,
) -> Side:
    collection, settings, store = context
    if not store.has_model(collection, setup.model):
        return Side(label, setup, indexed=False)
    try:
        results = search(
            query,
            collection=collection,
            model=setup.model,
            settings=settings,
            store=store,
            reranker=setup.reranker,
            top_k=top_k,
        )
    except MMDemoError as exc:
        return Side(label, setup, indexed=True, error=str(exc))
    return Side(label, setup, indexed=True, results=results)


def unanswered(side: Side, collection: str, index_hint: str) -> str | None:
    """Why ``side`` has no results, with what to do about it; None when it has some."""
    if not side.indexed:
        how = index_hint.format(label=side.label)
        return (
            f"{side.label} cannot answer: collection “{collection}” is not indexed with "
            f"{side.setup.model} yet; to compare, {how}."
        )
    if side.error is not None:
        return f"{side.label} failed: {side.error}"
    if not side.ranked:
        return f"{side.label} returned no results."
    return None


def _sentences(
    sides: tuple[Side, Side],
    collection: str,
    sizes: tuple[int, int],
    expected: Collection[str],
    hint: str,
) -> list[str]:
    """The verdict; a side without results says why (``sizes``: collection, top-k)."""
    missing = [why for side in sides if (why := unanswered(side, collection, hint))]
    if missing:
        answered = [side.label for side in sides if side.ranked]
        alone = [f"Only {answered[0]} answered, so there is nothing to compare yet."]
        return missing + (alone if answered else [])
    a, b = (SetupName(s.label, s.setup.model, s.setup.reranker) for s in sides)
    reason = same_list_reason(a, b, sizes[0], max(sizes[1], RERANK_CANDIDATES))
    return verdict(sides[0].ranked, sides[1].ranked, (a, b), reason, expected)


def compare_setups(
    query: Query,
    *,
    collection: str,
    setups: tuple[Setup, Setup],
    settings: Settings,
    store: Store,
    top_k: int = 10,
    expected: Collection[str] = (),
    index_hint: str = PAGE_INDEX_HINT,
) -> Comparison:
    """Run ``query`` through both set-ups over ``collection`` and tell what differs.

    ``expected``: file names or ids that answer the query; with them the verdict names the
    better set-up. ``index_hint`` says how to index a side's missing model ({label}).
    """
    query.validate()
    sides = (
        _answer(LABELS[0], setups[0].resolved(), query, (collection, settings, store), top_k),
        _answer(LABELS[1], setups[1].resolved(), query, (collection, settings, store), top_k),
    )
    size = max(store.models(collection).values(), default=0)
    wanted = sorted(set(expected))
    sentences = _sentences(sides, collection, (size, top_k), wanted, index_hint)
    ids = [[item for item, _ in side.ranked] for side in sides]
    both = bool(ids[0] and ids[1])
    return Comparison(
        collection,
        sides,
        sentences,
        agreement(ids[0], ids[1], top_k) if both else None,
        judge(sides[0].ranked, sides[1].ranked, LABELS, wanted) if both else None,
        wanted,
    )
