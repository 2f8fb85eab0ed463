"""Caption vectors: each item's caption embedded with the model's text side, for hybrid search.

Written at index time beside the image vectors. A collection indexed before they existed
gets them once, from its next index run (:mod:`mmdemo.ingest.indexer`) or the app's next
start-up (:func:`fill_missing_captions`), never from a search: a search only reads, and
ranks such a collection by image alone until then.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from mmdemo.chunking import chunks
from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.errors import MMDemoError, ModelLoadError, OutOfSpaceError
from mmdemo.ingest.ocr import OCR_KEY
from mmdemo.models.loading import load_embedder
from mmdemo.records import CAPTION_KEY
from mmdemo.store import Store

log = logging.getLogger(__name__)

#: Stored items read and embedded per step when a collection's captions are embedded late.
BACKFILL_BATCH = 256


def store_caption_vectors(
    store: Store,
    collection: str,
    embedder: Embedder,
    ids: Sequence[str],
    metadatas: Sequence[dict[str, Any]],
) -> None:
    """Embed the non-empty captions among ``metadatas`` (with the text OCR read in each
    image, when there is some) and store them for ``ids``; nothing for a model without a
    text side."""
    if not embedder.supports("text"):
        return
    texts_of = [_text(m) for m in metadatas]
    rows = [i for i, text in enumerate(texts_of) if text]
    texts = [texts_of[i] for i in rows]
    vectors = embedder.encode_texts(texts) if texts else None
    store.add_captions(
        collection, embedder.key, [ids[i] for i in rows], vectors, [metadatas[i] for i in rows]
    )


def _text(metadata: dict[str, Any]) -> str:
    """What the text side embeds for an item: its caption, then its OCR text."""
    parts = (str(metadata.get(key) or "").strip() for key in (CAPTION_KEY, OCR_KEY))
    return " ".join(part for part in parts if part)


def lacking_captions(store: Store, collection: str, models: Iterable[str]) -> list[str]:
    """The model keys among ``models`` that indexed ``collection`` before caption vectors
    existed; reads the store only and loads no model."""
    return [
        model
        for model in models
        if store.has_model(collection, model) and not store.has_captions(collection, model)
    ]


def backfill_captions(store: Store, collection: str, embedder: Embedder) -> bool:
    """Embed every stored caption of (collection, model), indexed before caption vectors
    existed; False when that cannot be done (a model without a text side, a full disk), so
    the collection stays ranked by image alone."""
    if not embedder.supports("text"):
        return False
    items = store.items(collection, embedder.key)
    try:
        for batch in chunks(items, BACKFILL_BATCH) if items else [[]]:
            store_caption_vectors(
                store, collection, embedder, [i for i, _ in batch], [m for _, m in batch]
            )
    except OutOfSpaceError:  # a full disk: ranked by image alone until there is room
        return False
    return True


class RunCaptions:
    """The caption vectors of one index run into ``collection`` with the ``models`` keys.

    Which models indexed the collection before caption vectors existed is read once, as
    the run starts: their batches store no captions (:meth:`add`), and :meth:`fill` then
    embeds all of theirs at once, this run's items among them, so each caption is encoded
    once; the other models' batches store their own.
    """

    def __init__(self, store: Store, collection: str, models: Iterable[str]) -> None:
        self._store = store
        self._collection = collection
        writable = not store.settings.readonly  # a read-only run stores nothing anyway
        self._uncaptioned = lacking_captions(store, collection, models) if writable else []

    def add(
        self, embedder: Embedder, ids: Sequence[str], metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Store the caption vectors of a batch just stored for ``embedder``."""
        if embedder.key not in self._uncaptioned:
            store_caption_vectors(self._store, self._collection, embedder, ids, metadatas)

    def fill(self, load: Callable[[], dict[str, Embedder]]) -> None:
        """Backfill the models that predate caption vectors, once the run has stored its
        batches; ``load`` gives the run's models by key (loading them when no batch needed
        them). Models that cannot load leave the collection ranked by image alone."""
        if not self._uncaptioned:
            return
        try:
            loaded = load()
        except ModelLoadError:
            return
        for key in self._uncaptioned:
            if key in loaded:
                backfill_captions(self._store, self._collection, loaded[key])


def fill_missing_captions(
    settings: Settings, collections: Iterable[str] | None = None
) -> list[tuple[str, str]]:
    """Backfill ``collections`` (default: every one) under each model that indexed them
    before caption vectors existed, loading those models: the app's start-up work. A model
    that cannot load, or a write that fails, is logged and leaves its collection ranked by
    image alone. Returns the (collection, model) pairs filled."""
    store = Store(settings)
    filled: list[tuple[str, str]] = []
    for collection in store.names() if collections is None else collections:
        for model in lacking_captions(store, collection, store.models(collection)):
            try:
                if backfill_captions(store, collection, load_embedder(model, settings)):
                    filled.append((collection, model))
            except MMDemoError as exc:
                log.warning("caption vectors of %r not embedded: %s", collection, exc)
    return filled
