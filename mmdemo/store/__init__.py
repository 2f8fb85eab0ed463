"""The vector store: the only package that uses chromadb (its private parts are reached
through :mod:`mmdemo.compat`).

A user collection indexed with several models is kept as one Chroma collection per
(collection, model), all holding the same item ids. Each Chroma collection carries the
user's collection name, the model key and the embedding dimension in its metadata, so the
store can list what exists without a side registry. Chroma never embeds anything here:
vectors always come from our own models. How clients are opened, and how processes that
share a local database see each other's writes, is :mod:`mmdemo.store.client`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo.chunking import chunks
from mmdemo.errors import InputError
from mmdemo.exact import exact_fits
from mmdemo.filters import ItemFilter, check_keys
from mmdemo.names import validate_collection_name
from mmdemo.records import CAPTION_KEY, GPS_KEYS, record
from mmdemo.store.handles import COLLECTION_KEY, HNSW_CONFIGURATION, Handles
from mmdemo.store.naming import chroma_name
from mmdemo.store.parts import (
    DIM_KEY,
    CollectionInfo,
    Hit,
    check_dimension,
    chroma_filter,
    retry_if_stale,
)
from mmdemo.vectors import as_matrix

if TYPE_CHECKING:
    from pathlib import Path

    from mmdemo.config import Settings
    from mmdemo.runtime import Runtime


class Store:
    """Embeddings and metadata of every indexed item, in a local or remote Chroma.

    Collection handles are looked up once and cached (by the store's :class:`Handles`); a
    name not in the cache is looked up again (another process may have created it), and a
    cached handle another process deleted is dropped on first use. Queries scan an
    in-memory copy of the vectors exactly while it is small (:func:`mmdemo.exact.exact_fits`)
    and use Chroma's HNSW index above.
    """

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        """Open the Chroma database: a server at ``chroma_url`` or the local ``chroma_dir``,
        through ``runtime``'s clients (the process default's without one); the pipeline
        steps given this store use its :attr:`runtime` too."""
        self._chroma = Handles(settings, runtime)

    @property
    def settings(self) -> Settings:
        """The settings the store was opened with."""
        return self._chroma.settings

    @property
    def runtime(self) -> Runtime:
        """The runtime whose models, clients and files lock this store's users share."""
        return self._chroma.runtime

    def marker(self) -> str:
        """The store's change marker now: moved by every write of any process."""
        return self._chroma.marker()

    def refresh(self) -> None:
        """Forget cached collection handles and vectors (after another process changed them)."""
        self._chroma.refresh()

    def empty_collections(self) -> list[str]:
        """User collections that hold no item under any model (a killed first write's)."""
        return self._chroma.empty_collections()

    def unused_files(self) -> list[Path]:
        """What deleted collections left on disk: Chroma segment folders no collection uses."""
        return self._chroma.unused_files()

    def reclaim(self) -> list[Path]:
        """Remove empty collections and unused segment folders, and compact the database
        fully (``gc --apply``); returns the folders removed."""
        return self._chroma.reclaim()

    @retry_if_stale
    def add(
        self,
        collection: str,
        model: str,
        ids: list[str],
        embeddings: np.ndarray,
        metadatas: list[dict[str, Any]],
        documents: list[str] | None = None,
    ) -> None:
        """Store new items of ``collection`` embedded with ``model``; known ids are skipped.

        ``documents`` are the items' captions (default: each metadata's ``caption``); a
        lower-cased copy is stored as the Chroma document so caption filters ignore case.
        """
        collection = validate_collection_name(collection)
        captions = documents if documents is not None else [m.get(CAPTION_KEY) for m in metadatas]
        if not len(metadatas) == len(captions) == len(ids):
            raise InputError(
                f"Got {len(ids)} ids, {len(metadatas)} metadata entries and "
                f"{len(captions)} captions: they must match one to one."
            )
        if not ids:
            return
        vectors = as_matrix(embeddings, len(ids))
        records = [record(m, c) for m, c in zip(metadatas, captions, strict=True)]
        with self._chroma.writing(adds=True):
            target, created = self._chroma.collection_for_writing(
                collection, model, vectors.shape[1]
            )
            try:
                self._chroma.add_new(target, ids, vectors, records)
            except BaseException:
                if created:  # never leave a collection with nothing in it behind
                    self._chroma.client.delete_collection(target.name)
                    self.refresh()
                raise

    @retry_if_stale
    def add_captions(
        self,
        collection: str,
        model: str,
        ids: list[str],
        embeddings: np.ndarray | None,
        metadatas: list[dict[str, Any]],
    ) -> None:
        """Store the caption vectors of items of (collection, model); known ids are skipped.

        They live in a Chroma collection beside the image vectors, created here even for no
        ids, so that its existence says "captions are embedded" (:meth:`has_captions`);
        each row carries the item's metadata and caption so filters apply to it alike.
        """
        if len(metadatas) != len(ids):
            raise InputError(f"Got {len(ids)} ids and {len(metadatas)} metadata entries.")
        given = embeddings if embeddings is not None else np.zeros(0, np.float32)
        vectors = as_matrix(given, len(ids)) if ids else None
        records = [record(m, m.get(CAPTION_KEY)) for m in metadatas]
        with self._chroma.writing(adds=True):
            image_target = self._chroma.require(collection, model)
            dim = int((image_target.metadata or {}).get(DIM_KEY, 0))
            if vectors is not None:
                check_dimension(image_target, vectors.shape[1], collection, model)
                dim = vectors.shape[1]
            target = self._chroma.captions_for_writing(image_target, dim)
            if vectors is not None:
                self._chroma.add_new(target, ids, vectors, records)

    @retry_if_stale
    def has_captions(self, collection: str, model: str) -> bool:
        """Whether the captions of (collection, model) were embedded (by index or backfill)."""
        return self._chroma.caption_target(self._chroma.require(collection, model)) is not None

    @retry_if_stale
    def existing_ids(self, collection: str, model: str, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` already stored for (collection, model)."""
        target = self._chroma.by_model(collection, model).get(model)
        return self._chroma.present_ids(target, ids) if target is not None else set()

    def ids_in_use(self, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` that any collection, under any model, still holds."""
        in_use: set[str] = set()
        for target in self._chroma.client.list_collections():
            if COLLECTION_KEY in (target.metadata or {}):
                in_use |= self._chroma.present_ids(target, ids)
        return in_use

    @retry_if_stale
    def has_model(self, collection: str, model: str) -> bool:
        """Whether ``collection`` has been indexed with ``model``."""
        return model in self._chroma.by_model(collection, model)

    @retry_if_stale
    def ensure_indexed(self, collection: str, model: str) -> None:
        """Raise NotFoundError, naming the models it has, unless ``collection`` has ``model``."""
        self._chroma.require(collection, model)

    @retry_if_stale
    def models(self, collection: str) -> dict[str, int]:
        """Model key -> item count for ``collection`` (empty when it does not exist)."""
        return {
            model: self._chroma.count(target)
            for model, target in self._chroma.by_model(collection).items()
        }

    @retry_if_stale
    def query(
        self,
        collection: str,
        model: str,
        embedding: np.ndarray,
        k: int,
        item_filter: ItemFilter | None = None,
        captions: bool = False,
    ) -> list[Hit]:
        """The ``k`` items most cosine-similar to ``embedding``, best first.

        ``item_filter`` keeps only the items it allows (caption keyword, metadata
        conditions). ``captions`` compares with the items' caption vectors instead of their
        image vectors (none when the collection has none).
        """
        if k < 1:
            raise InputError(f"The number of results must be at least 1, got {k}.")
        vector = as_matrix(embedding, 1)
        target = self._chroma.vector_target(collection, model, captions, vector.shape[1])
        count = self._chroma.count(target) if target is not None else 0
        if target is None or count == 0:
            return []
        if exact_fits(count, vector.shape[1]):
            allowed = self._chroma.matching(target, item_filter) if item_filter else None
            self._check_keys(collection, model, item_filter, allowed != set())
            index = self._chroma.exact.get(
                str(target.id), count, lambda: self._chroma.rows(target, with_metadata=True)
            )
            return [
                Hit(i, score, dict(index.metadata[i]))
                for i, score in index.top_k(vector[0], k, allowed)
            ]
        result = target.query(
            query_embeddings=vector,
            n_results=min(k, count),
            include=["distances", "metadatas"],
            **chroma_filter(item_filter),
        )
        self._check_keys(collection, model, item_filter, bool(result["ids"][0]))
        distances = (result["distances"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        return [
            Hit(id=item_id, score=1.0 - float(distance), metadata=dict(metadata or {}))
            for item_id, distance, metadata in zip(
                result["ids"][0], distances, metadatas, strict=True
            )
        ]

    @retry_if_stale
    def vectors_of(
        self,
        collection: str,
        model: str,
        ids: Sequence[str],
        captions: bool = False,
        item_filter: ItemFilter | None = None,
    ) -> dict[str, np.ndarray]:
        """The stored image (or caption) vectors of those ``ids`` that have one (and that
        ``item_filter`` allows, when given)."""
        target = self._chroma.vector_target(collection, model, captions)
        found: dict[str, np.ndarray] = {}
        for chunk in chunks(list(dict.fromkeys(ids)), self._chroma.batch_size):
            if target is not None and chunk:
                got = target.get(ids=chunk, include=["embeddings"], **chroma_filter(item_filter))
                vectors = got["embeddings"] if got["embeddings"] is not None else []
                for item_id, vector in zip(got["ids"], vectors, strict=True):
                    found[item_id] = np.asarray(vector, dtype=np.float32)
        return found

    def _check_keys(
        self, collection: str, model: str, item_filter: ItemFilter | None, found: bool
    ) -> None:
        """Refuse a condition on a key no item has (:func:`check_keys`), where it would
        quietly match nothing, or everything (``!=``, ``not in``). ``found``: whether the
        filter let some item through (then, without a negation, every key is there). Keys
        are read from the image vectors, which every item has: the caption vectors hold
        only the items with a caption."""
        if item_filter is None or not item_filter.where or (found and not item_filter.negated):
            return
        keys = {
            key
            for page in self._chroma.pages(self._chroma.require(collection, model), ["metadatas"])
            for metadata in page["metadatas"] or []
            for key in metadata or {}
        }
        check_keys(item_filter.where, keys, () if self.settings.keeps_gps else GPS_KEYS)

    def neighbours(
        self, collection: str, model: str, vectors: np.ndarray, k: int
    ) -> tuple[list[list[str]], np.ndarray]:
        """The ids of the ``k`` items nearest each row of ``vectors``, and their similarities.

        One batched nearest-neighbour query per page of rows, so a whole collection can be
        scanned for near-duplicates without an all-pairs matrix. Similarities are cosine,
        best first; rows with fewer than ``k`` items to find are padded with ``-inf``.
        """
        if k < 1:
            raise InputError(f"The number of neighbours must be at least 1, got {k}.")
        target = self._chroma.require(collection, model)
        matrix = as_matrix(vectors, len(vectors))
        check_dimension(target, matrix.shape[1], collection, model)
        n_results = min(k, self._chroma.count(target))
        found_ids: list[list[str]] = []
        similarities = np.full((len(matrix), k), -np.inf, dtype=np.float32)
        if n_results == 0:
            return [[] for _ in range(len(matrix))], similarities
        for chunk in chunks(list(range(len(matrix))), self._chroma.batch_size):
            result = target.query(
                query_embeddings=matrix[chunk], n_results=n_results, include=["distances"]
            )
            for row, ids, distances in zip(
                chunk, result["ids"], result["distances"] or [], strict=True
            ):
                found_ids.append(list(ids))
                similarities[row, : len(ids)] = 1.0 - np.asarray(distances, dtype=np.float32)
        return found_ids, similarities

    @retry_if_stale
    def items(self, collection: str, model: str | None = None) -> list[tuple[str, dict[str, Any]]]:
        """Every item id of ``collection`` (over all its models, or ``model``'s) with its
        metadata."""
        found: dict[str, dict[str, Any]] = {}
        targets = (
            self._chroma.existing(collection)
            if model is None
            else {model: self._chroma.require(collection, model)}
        )
        for target in targets.values():
            for page in self._chroma.pages(target, ["metadatas"]):
                for item_id, metadata in zip(page["ids"], page["metadatas"] or [], strict=True):
                    found.setdefault(item_id, dict(metadata or {}))
        return list(found.items())

    @retry_if_stale
    def embeddings(self, collection: str, model: str) -> tuple[list[str], np.ndarray]:
        """All ids of (collection, model) and their embeddings as an (n, dim) float32 array."""
        ids, vectors, _ = self._chroma.rows(self._chroma.require(collection, model))
        return ids, vectors

    def names(self) -> list[str]:
        """Every user collection's name, sorted (item counts are cached until a write)."""
        return sorted(self._chroma.listed())

    def collections(self) -> list[CollectionInfo]:
        """Every user collection with its distinct item count and per-model counts, by name."""
        grouped = self._chroma.listed()
        return [
            CollectionInfo(
                name=name,
                images=self._chroma.distinct_count(list(by_model.values())),
                models={
                    model: self._chroma.count(target) for model, target in sorted(by_model.items())
                },
            )
            for name, by_model in sorted(grouped.items())
        ]

    @retry_if_stale
    def delete_collection(self, collection: str) -> int:
        """Delete ``collection`` with every model's index; return how many items it held."""
        with self._chroma.writing():
            targets = self._chroma.existing(collection)
            removed = len(self._chroma.all_ids(targets.values()))
            for target in self._chroma.with_captions(targets.values()):
                self._chroma.client.delete_collection(target.name)
            self.refresh()
            self._chroma.free_space()
        return removed

    def drop_model(self, collection: str, model: str) -> None:
        """Delete the index of ``collection`` made with ``model``, if any (e.g. a model
        folder that was trained again, whose stored vectors are stale)."""
        with self._chroma.writing():
            target = self._chroma.by_model(collection).get(model)
            if target is not None:
                for each in self._chroma.with_captions([target]):
                    self._chroma.client.delete_collection(each.name)
                self.refresh()
                self._chroma.free_space()

    @retry_if_stale
    def delete_items(self, collection: str, ids: Sequence[str]) -> int:
        """Delete ``ids`` from every model's index of ``collection``; return how many existed."""
        removed: set[str] = set()
        with self._chroma.writing():
            for target in self._chroma.with_captions(self._chroma.existing(collection).values()):
                present = self._chroma.present_ids(target, ids)
                self._chroma.exact.drop(str(target.id))
                for chunk in chunks(sorted(present), self._chroma.batch_size):
                    target.delete(ids=chunk)
                removed |= present
        return len(removed)


__all__ = ["HNSW_CONFIGURATION", "CollectionInfo", "Hit", "Store", "chroma_name"]
