"""The store's small parts: what a query returns, and the checks every method shares."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from mmdemo.errors import InputError

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from mmdemo.store import Store

_T = TypeVar("_T")
#: The Chroma collection metadata key holding the embedding dimension.
DIM_KEY = "mmdemo_dim"


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


def _is_stale(exc: Exception) -> bool:
    """Whether Chroma says a collection handle we hold no longer exists (another process)."""
    return type(exc).__name__ == "NotFoundError" and type(exc).__module__.startswith("chromadb")


def retry_if_stale(method: Callable[..., _T]) -> Callable[..., _T]:
    """Run ``method``; if a cached handle went stale, forget the caches and run it once more."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> _T:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            if not _is_stale(exc):
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
