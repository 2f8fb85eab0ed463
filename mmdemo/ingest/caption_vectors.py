"""Caption vectors: each item's caption embedded with the model's text side, for hybrid search.

Written at index time beside the image vectors; a collection indexed before they existed
gets them on first use (:func:`ensure_caption_vectors`), or is searched by image only when
the store is read-only or the model has no text side.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.errors import OutOfSpaceError
from mmdemo.ingest.ocr import OCR_KEY
from mmdemo.records import CAPTION_KEY, chunks
from mmdemo.store import Store

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
    image, when there is some) and store them for ``ids``."""
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


def add_caption_vectors(
    store: Store,
    collection: str,
    embedder: Embedder,
    settings: Settings,
    ids: Sequence[str],
    metadatas: Sequence[dict[str, Any]],
) -> None:
    """Embed the captions of items just stored for (collection, model), at index time.

    A collection without caption vectors yet (its first batch, or one indexed before they
    existed) is backfilled whole, the items just stored among them, so each caption is
    encoded once.
    """
    if store.has_captions(collection, embedder.key):
        store_caption_vectors(store, collection, embedder, ids, metadatas)
    else:
        ensure_caption_vectors(store, collection, embedder, settings)


def ensure_caption_vectors(
    store: Store, collection: str, embedder: Embedder, settings: Settings
) -> bool:
    """Whether (collection, model) has caption vectors, embedding every stored caption now
    when it was indexed before they existed; False when that cannot be done (a read-only
    store, a model without a text side, a full disk), so search falls back to images alone."""
    if store.has_captions(collection, embedder.key):
        return True
    if settings.readonly or not embedder.supports("text"):
        return False
    items = store.items(collection, embedder.key)
    try:
        for batch in chunks(items, BACKFILL_BATCH) if items else [[]]:
            store_caption_vectors(
                store, collection, embedder, [i for i, _ in batch], [m for _, m in batch]
            )
    except OutOfSpaceError:  # a full disk: search by image alone until there is room
        return False
    return True
