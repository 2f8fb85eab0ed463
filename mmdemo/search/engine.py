"""The search pipeline: query -> query vector -> nearest candidates -> optional rerank -> table.

It knows neither whether the store is local or a server, nor which model family it
talks to: models come from the loader, vectors from the store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.errors import InputError, NotFoundError
from mmdemo.ingest.copies import image_path
from mmdemo.ingest.images import fit_for_models, load_image
from mmdemo.ingest.metadata import check_shareable
from mmdemo.models.loading import load_embedder, load_reranker
from mmdemo.models.registry import DEFAULT_EMBEDDER, rerankers_building_on, resolve
from mmdemo.models.rerank_cost import check_budget
from mmdemo.rerank import Candidate, Reranker
from mmdemo.search.batch import TextBatcher, encode_texts
from mmdemo.search.calibration import is_calibrated
from mmdemo.search.fusion import fuse, weighted_parts
from mmdemo.search.hybrid import hybrid_hits
from mmdemo.search.lexical import DenseScorer, with_words
from mmdemo.search.query import Query, combine
from mmdemo.search.rows import COLUMNS, kept_order_note, result_rows
from mmdemo.store import Hit, Store

if TYPE_CHECKING:
    import pandas as pd

#: How many nearest candidates a reranker rescores when none is given.
RERANK_CANDIDATES = 20


@dataclass
class SearchResults:
    """Ranked results, one record per result with the :data:`COLUMNS` keys (``None`` where
    a value is missing) and the item's own fields it has of
    :data:`~mmdemo.ingest.metadata.RESULT_FIELDS` (date taken, camera, DICOM fields, OCR
    text), plus where the time went (milliseconds).

    The records are what a search builds and what the API sends; :attr:`table`, their
    pandas form, is built only when read: building it and turning it back into records cost
    an API search more than its store lookup.
    """

    rows: list[dict[str, Any]]
    timings_ms: dict[str, float] = field(default_factory=dict)
    model: str = ""
    reranker: str | None = None
    notes: list[str] = field(default_factory=list)
    #: The share captions had in the scores: 0 when the search ranked by image alone.
    caption_weight: float = 0.0
    #: Whether ``match`` was calibrated for this model (else typical CLIP-like scales).
    calibrated: bool = True

    @cached_property
    def table(self) -> pd.DataFrame:
        """The results as a table with the :data:`COLUMNS` columns (pandas is imported only
        here: a cold command-line search does without its import)."""
        import pandas as pd

        return pd.DataFrame(self.rows, columns=COLUMNS)

    def to_json(self) -> dict[str, Any]:
        """The ``search --json`` shape: results as records, timings in ms, notes if any."""
        records = [dict(row) for row in self.rows]
        notes = {"notes": self.notes} if self.notes else {}
        return {
            "results": records,
            "calibrated": self.calibrated,
            "timings_ms": self.timings_ms,
            **notes,
        }


class _Clock:
    """Collects named wall-clock spans in milliseconds."""

    def __init__(self) -> None:
        self.spans: dict[str, float] = {"embed": 0.0, "search": 0.0, "rerank": 0.0}
        self._start = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.spans[name] = round((now - self._start) * 1000.0, 2)
        self._start = now


def _query_vector(
    query: Query, image: Image.Image | None, embedder: Embedder, batcher: TextBatcher
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The query's unit vector, and each of its texts' embedding by text (a reranker that
    builds on this embedder reuses them); texts are encoded in a batch with concurrent
    searches'."""
    texts = [query.text or ""] if query.has_text else []
    texts += [query.negative or ""] if query.has_negative else []
    rows = list(encode_texts(embedder, texts, batcher)) if texts else []
    encoded = dict(zip(texts, rows, strict=True))
    text_vec = rows.pop(0) if query.has_text else None
    negative = rows.pop(0) if query.has_negative else None
    image_vec = embedder.encode_images([image])[0] if image is not None else None
    return combine(text_vec, image_vec, query.weight, negative, query.negative_weight), encoded


def _retrieve(
    query: Query,
    vector: np.ndarray,
    depth: int,
    collection: str,
    embedder: Embedder,
    store: Store,
    notes: list[str],
) -> tuple[list[Hit], float]:
    """The ``depth`` best candidates and the caption weight their scores carry: by image and
    caption together when text shapes the query, it weighs captions and the collection has
    caption vectors, else by image alone, weight 0 (with a note when captions were asked for
    but the collection predates them). An image-only query matches images only, so finding
    an image's copies stays exact. Reads only: a collection lacking caption vectors gets
    them from its next index run or the app's start-up (:mod:`mmdemo.ingest.caption_vectors`)."""
    item_filter = query.item_filter
    weight = query.caption_weight
    if weight > 0 and query.text_counts:
        if store.has_captions(collection, embedder.key):
            hits = hybrid_hits(store, collection, embedder.key, vector, depth, item_filter, weight)
            return hits, weight
        notes.append(
            f"Collection {collection!r} was indexed before caption vectors existed, so captions "
            "did not count (an index run, or the app's start-up when writable, embeds them)."
        )
    return store.query(collection, embedder.key, vector, depth, item_filter), 0.0


def _rerank(
    hits: list[Hit],
    query: Query,
    image: Image.Image | None,
    reranker: Reranker,
    settings: Settings,
    with_captions: bool,
    text_vectors: dict[str, np.ndarray],
) -> tuple[list[Hit], np.ndarray, list[int]]:
    """Reorder hits by the fused score; returns hits, their fused scores and ranks before.

    The reranker scores each query part; those are weighted as the retrieval weighted
    them and fused with the first-stage score (:mod:`mmdemo.search.fusion`).
    """
    candidates = [
        Candidate(
            hit.id,
            image_path(settings, hit.metadata),
            (hit.metadata.get("caption") or None) if with_captions else None,
        )
        for hit in hits
    ]
    parts = reranker.score_parts(
        candidates,
        text=query.text if query.has_text else None,
        image=image,
        negative=query.negative if query.has_negative else None,
        features=reranker.feature_store(settings),
        text_vectors=text_vectors,
    )
    rerank = weighted_parts(
        parts.text, parts.image, query.weight, parts.negative, query.negative_weight
    )
    scores = fuse(np.array([hit.score for hit in hits]), rerank)
    order = sorted(range(len(hits)), key=lambda i: (-scores[i], i))
    return [hits[i] for i in order], scores[order], [i + 1 for i in order]


def indexed_model(store: Store, collection: str) -> str:
    """The model to search a collection with when none is named.

    The collection's only model, else the default embedder when it is among them, else the
    model that indexed the most images.
    """
    models = store.models(collection)
    if not models:
        raise NotFoundError(f"Collection {collection!r} does not exist.")
    if DEFAULT_EMBEDDER in models:
        return DEFAULT_EMBEDDER
    return max(sorted(models), key=lambda name: models[name])


def search(
    query: Query,
    *,
    collection: str,
    model: str,
    settings: Settings,
    store: Store,
    reranker: str | None = None,
    top_k: int = 10,
    candidates: int = RERANK_CANDIDATES,
    rerank_captions: bool = True,
) -> SearchResults:
    """Run a query against a collection indexed with ``model``.

    Without a reranker the ``top_k`` nearest items come back by cosine score. With one,
    the ``max(top_k, candidates)`` nearest are rescored jointly, the reranker's score fused
    with the cosine score (``rerank_score`` is the fused score), and the best ``top_k``
    kept, each with its rank before reranking. The reranker reads each candidate's caption
    too, unless ``rerank_captions`` is False. A rerank expected to take longer than
    ``settings.rerank_budget_s`` is refused before anything loads (mmdemo/models/rerank_cost.py).
    Models, the query-text batcher and the thread governor are ``store.runtime``'s.
    """
    query.validate()
    check_shareable(query.where, settings.keeps_gps)
    if top_k < 1:
        raise InputError(f"top-k must be at least 1, got {top_k}.")
    store.ensure_indexed(collection, resolve(model, "embedder").key)
    if reranker:
        check_budget(reranker, max(top_k, candidates), settings)
    image = fit_for_models(load_image(query.image)) if query.image is not None else None
    runtime = store.runtime
    embedder = load_embedder(model, settings, runtime)
    ranker = load_reranker(reranker, settings, runtime) if reranker else None
    clock = _Clock()
    with runtime.threads.single_query():
        vector, encoded = _query_vector(query, image, embedder, runtime.texts)
        clock.lap("embed")
        depth = max(top_k, candidates) if ranker else top_k
        notes: list[str] = []
        hits, weight = _retrieve(query, vector, depth, collection, embedder, store, notes)
        scorer = DenseScorer(store, collection, embedder.key, vector, weight, query.item_filter)
        words = with_words(hits, query.text or "", _lexical(query), scorer, depth, notes)
        hits = words.hits
        clock.lap("search")
        reranked = None
        if ranker and hits:
            shared = encoded if ranker.key in rerankers_building_on(embedder.key) else {}
            hits, scores, before = _rerank(
                hits, query, image, ranker, settings, rerank_captions, shared
            )
            reranked = (scores, before)
            notes.extend(filter(None, [kept_order_note(before[:top_k])]))
            clock.lap("rerank")
    context = (settings, embedder.key, weight)
    rows = result_rows(hits[:top_k], query, context, reranked, words.matched)
    return SearchResults(
        rows,
        clock.spans,
        embedder.key,
        ranker.key if ranker else None,
        notes,
        weight,
        is_calibrated(embedder.key),
    )


def _lexical(query: Query) -> float:
    """The lexical weight of a query whose text shapes its vector, else 0."""
    return query.lexical_weight if query.text_counts else 0.0


def warm_up(
    *, collection: str, model: str, reranker: str | None, settings: Settings, store: Store
) -> SearchResults:
    """Run one throw-away search so that models, kernels and stored features are ready.

    Loads the embedder and reranker, runs their first forward passes (much slower than
    later ones) and stores any missing reranker features of the likely first candidates,
    so that a visitor's first search costs what the tenth does.
    """
    return search(
        Query(text="a photo"),
        collection=collection,
        model=model,
        settings=settings,
        store=store,
        reranker=reranker,
        top_k=1,
    )
