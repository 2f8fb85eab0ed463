"""The store's small parts: what a query returns, and the checks every method shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mmdemo.compat import is_chroma_not_found
from mmdemo.dates import Span, companion
from mmdemo.errors import InputError
from mmdemo.filters import Condition, ItemFilter

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from mmdemo.store import Store

_T = TypeVar("_T")
#: The Chroma collection metadata key holding the embedding dimension.
DIM_KEY = "mmdemo_dim"
#: The Chroma collection metadata key of a caption-vector collection: its image collection.
CAPTIONS_OF_KEY = "mmdemo_captions_of"
_CHROMA_OPERATORS = {
    "=": "$eq",
    "!=": "$ne",
    "<": "$lt",
    ">": "$gt",
    "<=": "$lte",
    ">=": "$gte",
    "in": "$in",
    "not in": "$nin",
}


@dataclass(frozen=True)
class Hit:
    """One search result: the item id, its cosine similarity to the query and its metadata."""

    id: str
    score: float
    metadata: dict[str, Any]


@dataclass(frozen=True)
class CollectionInfo:
    """A user collection: how many distinct items it holds and how many per model."""

    name: str
    images: int
    models: dict[str, int]


def retry_if_stale(method: Callable[..., _T]) -> Callable[..., _T]:
    """Run ``method``; if a cached handle went stale, forget the caches and run it once more."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if not is_chroma_not_found(exc):
                raise
            self.refresh()
            return method(self, *args, **kwargs)

    return wrapper


def check_dimension(target: Collection, dim: int, collection: str, model: str) -> None:
    """Raise InputError when ``dim`` differs from the dimension stored for (collection, model)."""
    stored = (target.metadata or {}).get(DIM_KEY)
    if stored is not None and int(stored) != dim:
        raise InputError(
            f"Collection {collection!r} holds {stored}-d embeddings for model {model!r}, "
            f"but got {dim}-d ones: use the same model that indexed it."
        )


def _date_clause(key: str, op: str, span: Span) -> dict[str, Any]:
    """A date condition on the number stored beside the date (:mod:`mmdemo.dates`): the
    span's start and end bound it, so ``<= 2021-06-01`` takes in that whole day."""
    field = companion(key)
    bounds = {
        "<": {field: {"$lt": span.start}},
        "<=": {field: {"$lt": span.end}},
        ">": {field: {"$gte": span.end}},
        ">=": {field: {"$gte": span.start}},
    }
    if op in bounds:
        return bounds[op]
    within = [{field: {"$gte": span.start}}, {field: {"$lt": span.end}}]
    return {"$and": within} if op == "=" else {"$or": [bounds["<"], bounds[">"]]}


def _clause(condition: Condition) -> dict[str, Any]:
    value = condition.value
    if isinstance(value, Span):
        return _date_clause(condition.key, condition.op, value)
    operand = list(value) if isinstance(value, tuple) else value
    return {condition.key: {_CHROMA_OPERATORS[condition.op]: operand}}


def chroma_where(conditions: tuple[Condition, ...]) -> dict[str, Any] | None:
    """Metadata conditions as a Chroma ``where`` clause (all must hold), None when none."""
    clauses = [_clause(c) for c in conditions]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def chroma_filter(item_filter: ItemFilter | None) -> dict[str, Any]:
    """``where`` and ``where_document`` keyword arguments of a Chroma get/query call."""
    if item_filter is None:
        return {"where": None, "where_document": None}
    needle = item_filter.needle
    return {
        "where": chroma_where(item_filter.where),
        "where_document": {"$contains": needle} if needle else None,
    }
