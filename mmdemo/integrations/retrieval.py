"""What the framework retrievers share: run a library search, return plain result rows.

A :class:`CollectionSearch` is one collection, model, reranker and ``top_k``; each call
gives it a text and/or an image. Any further search options (``caption_contains``,
``negative``, filters the library's search gains later) are passed through unchanged: those
naming a :class:`~mmdemo.search.query.Query` field go into the query, the rest to
:func:`~mmdemo.search.engine.search`, so the retrievers never lag behind the search.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.errors import InputError, MissingPackageError
from mmdemo.search.engine import indexed_model, search
from mmdemo.search.query import Query
from mmdemo.store import Store

_QUERY_FIELDS = {f.name for f in fields(Query)}
#: Set by the retriever itself, so not accepted as pass-through options.
_OWN = {"query", "text", "image", "collection", "model", "settings", "store", "reranker", "top_k"}


def _split(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options for the :class:`Query` and for :func:`search`; an unknown one is an error."""
    search_params = set(inspect.signature(search).parameters)
    unknown = sorted(k for k in options if k in _OWN or k not in _QUERY_FIELDS | search_params)
    if unknown:
        raise InputError(f"Unknown search option(s): {', '.join(unknown)}.")
    in_query = {k: v for k, v in options.items() if k in _QUERY_FIELDS}
    return in_query, {k: v for k, v in options.items() if k not in _QUERY_FIELDS}


def missing_package(package: str) -> MissingPackageError:
    """The error to raise when an integration's framework cannot be imported."""
    return MissingPackageError(
        f"This retriever needs the {package!r} package: pip install {package}."
    )


@dataclass
class CollectionSearch:
    """Searches one collection the way ``mmdemo search`` does; rows out, best first."""

    collection: str
    model: str | None = None
    reranker: str | None = None
    top_k: int = 5
    settings: Settings = field(default_factory=Settings.from_env)
    options: dict[str, Any] = field(default_factory=dict)
    _store: Store | None = field(default=None, init=False, repr=False)

    @property
    def store(self) -> Store:
        """The store, opened on first use and kept."""
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    def run(
        self, text: str | None, image: str | Path | None = None, **options: Any
    ) -> list[dict[str, Any]]:
        """The ranked result rows for a text and/or image query; ``options`` add to (and
        override) the options given at construction.

        Each row has the search table's columns (``rank``, ``id``, ``file_name``, ``path``,
        ``caption``, ``match`` (0..1, falls with the rank), ``similarity`` (the first-stage
        cosine score), ``rerank_score``, ...) and the collection, model and reranker used.
        """
        in_query, in_search = _split({**self.options, **options})
        query = Query(text=text or None, image=image, **in_query)
        if not (query.has_text or query.has_image):
            raise InputError("Empty query: give a text, an image, or both.")
        model = self.model or indexed_model(self.store, self.collection)
        results = search(
            query,
            collection=self.collection,
            model=model,
            settings=self.settings,
            store=self.store,
            reranker=self.reranker,
            top_k=self.top_k,
            **in_search,
        )
        rows: list[dict[str, Any]] = results.to_json()["results"]
        for row in rows:
            row.update(collection=self.collection, model=results.model, reranker=results.reranker)
        return rows
