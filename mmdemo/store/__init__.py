"""The vector store: the only module that imports chromadb.

A user collection indexed with several models is kept as one Chroma collection per
(collection, model), all holding the same item ids. Each Chroma collection carries the
user's collection name, the model key and the embedding dimension in its metadata, so the
store can list what exists without a side registry. Chroma never embeds anything here:
vectors always come from our own models. How clients are opened, and how processes that
share a local database see each other's writes, is :mod:`mmdemo.store.client`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo.config import Settings
from mmdemo.errors import InputError, NotFoundError, ReadOnlyError
from mmdemo.exact import exact_fits
from mmdemo.records import (
    CAPTION_KEY,
    as_matrix,
    chroma_name,
    chunks,
    first_of_each_new,
    record,
    validate_collection_name,
)
from mmdemo.store.client import connect, local_client, read_marker, write_lock
from mmdemo.store.exact_cache import ExactCache
from mmdemo.store.parts import (
    DIM_KEY,
    CollectionInfo,
    Hit,
    check_dimension,
    retry_if_stale,
)
from mmdemo.store.reading import (
    all_ids,
    all_vectors,
    hits,
    hnsw_hits,
    matching,
    pages,
    present_ids,
)

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.collection_configuration import CreateHNSWConfiguration
    from chromadb.api.models.Collection import Collection

#: The HNSW build of collections created from now on; used only above the exact-search
#: size (mmdemo/exact.py). Chosen from bench/perf_store.py's figures (bench/README.md,
#: "Store at 10k-100k"); collections made before keep the build they were created with.
HNSW_CONFIGURATION: CreateHNSWConfiguration = {
    "space": "cosine",
    "ef_construction": 100,
    "max_neighbors": 16,
    "ef_search": 2048,
}
_COLLECTION_KEY = "mmdemo_collection"
_MODEL_KEY = "mmdemo_model"


class Store:
    """Embeddings and metadata of every indexed item, in a local or remote Chroma.

    Collection handles are looked up once and cached; a name not in the cache is looked up
    again (another process may have created it), and a cached handle another process
    deleted is dropped on first use. Queries scan an in-memory copy of the vectors exactly
    while it is small (:func:`mmdemo.exact.exact_fits`) and use Chroma's HNSW index above.
    """

    def __init__(self, settings: Settings) -> None:
        """Open the Chroma database: a server at ``chroma_url`` or the local ``chroma_dir``."""
        self.settings = settings
        self._server = connect(settings) if settings.chroma_url else None
        self._readonly = settings.readonly
        self._handles: dict[str, dict[str, Collection]] | None = None
        self._exact = ExactCache()
        self._seen = read_marker(settings)
        self._batch_size = self._client.get_max_batch_size()

    @property
    def _client(self) -> ClientAPI:
        """The server's client, or this process's local one; when another process wrote
        since this store last looked, the cached handles and vectors are forgotten too."""
        if self._server is not None:
            return self._server
        client = local_client(self.settings)
        marker = read_marker(self.settings)
        if marker != self._seen:
            self.refresh()
            self._seen = marker
        return client

    def refresh(self) -> None:
        """Forget cached collection handles and vectors (after another process changed them)."""
        self._handles = None
        self._exact.clear()

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Write under the inter-process lock, on fresh handles; this store's own caches stay
        valid through its own write (each writer keeps them up to date)."""
        self._check_writable()
        if self._server is not None:
            yield
            return
        with write_lock(self.settings) as markers:
            if markers.before != self._seen:
                self.refresh()
            self._seen = markers.during
            yield
            self._seen = markers.after

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
        with self._writing():
            self._add_new(collection, model, ids, vectors, records)

    def _add_new(
        self,
        collection: str,
        model: str,
        ids: list[str],
        vectors: np.ndarray,
        records: list[tuple[dict[str, Any] | None, str | None]],
    ) -> None:
        target = self._collection_for_writing(collection, model, vectors.shape[1])
        rows = first_of_each_new(ids, present_ids(target, ids, self._batch_size))
        cached = self._exact.drop(str(target.id))
        for chunk in chunks(rows, self._batch_size):
            target.add(
                ids=[ids[i] for i in chunk],
                embeddings=vectors[chunk],
                metadatas=[records[i][0] for i in chunk],
                documents=[records[i][1] for i in chunk],
            )
        self._exact.appended(str(target.id), cached, [ids[i] for i in rows], vectors[rows])

    @retry_if_stale
    def existing_ids(self, collection: str, model: str, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` already stored for (collection, model)."""
        target = self._models(collection, model).get(model)
        return present_ids(target, ids, self._batch_size) if target is not None else set()

    def ids_in_use(self, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` that any collection, under any model, still holds."""
        in_use: set[str] = set()
        for target in self._client.list_collections():
            if _COLLECTION_KEY in (target.metadata or {}):
                in_use |= present_ids(target, ids, self._batch_size)
        return in_use

    @retry_if_stale
    def has_model(self, collection: str, model: str) -> bool:
        """Whether ``collection`` has been indexed with ``model``."""
        return model in self._models(collection, model)

    @retry_if_stale
    def ensure_indexed(self, collection: str, model: str) -> None:
        """Raise NotFoundError, naming the models it has, unless ``collection`` has ``model``."""
        self._require(collection, model)

    @retry_if_stale
    def models(self, collection: str) -> dict[str, int]:
        """Model key -> item count for ``collection`` (empty when it does not exist)."""
        return {model: target.count() for model, target in self._models(collection).items()}

    @retry_if_stale
    def query(
        self,
        collection: str,
        model: str,
        embedding: np.ndarray,
        k: int,
        caption_contains: str | None = None,
    ) -> list[Hit]:
        """The ``k`` items most cosine-similar to ``embedding``, best first.

        ``caption_contains`` keeps only items whose caption contains it, ignoring case.
        """
        if k < 1:
            raise InputError(f"The number of results must be at least 1, got {k}.")
        target = self._require(collection, model)
        vector = as_matrix(embedding, 1)
        check_dimension(target, vector.shape[1], collection, model)
        count = target.count()
        if count == 0:
            return []
        needle = (caption_contains or "").strip().casefold()
        if exact_fits(count, vector.shape[1]):
            batch = self._batch_size
            allowed = matching(target, needle, batch) if needle else None
            index = self._exact.get(str(target.id), count, lambda: all_vectors(target, batch))
            return hits(target, index.top_k(vector[0], k, allowed))
        return hnsw_hits(target, vector, min(k, count), needle)

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
        target = self._require(collection, model)
        matrix = as_matrix(vectors, len(vectors))
        check_dimension(target, matrix.shape[1], collection, model)
        n_results = min(k, target.count())
        found_ids: list[list[str]] = []
        similarities = np.full((len(matrix), k), -np.inf, dtype=np.float32)
        if n_results == 0:
            return [[] for _ in range(len(matrix))], similarities
        for chunk in chunks(list(range(len(matrix))), self._batch_size):
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
    def items(self, collection: str) -> list[tuple[str, dict[str, Any]]]:
        """Every item id of ``collection`` (over all its models) with its metadata."""
        found: dict[str, dict[str, Any]] = {}
        for target in self._existing(collection).values():
            for page in pages(target, ["metadatas"], self._batch_size):
                for item_id, metadata in zip(page["ids"], page["metadatas"] or [], strict=True):
                    found.setdefault(item_id, dict(metadata or {}))
        return list(found.items())

    @retry_if_stale
    def embeddings(self, collection: str, model: str) -> tuple[list[str], np.ndarray]:
        """All ids of (collection, model) and their embeddings as an (n, dim) float32 array."""
        return all_vectors(self._require(collection, model), self._batch_size)

    def names(self) -> list[str]:
        """Every user collection's name, sorted, without counting items (cheap to poll)."""
        return sorted(self._grouped(refresh=True))

    def collections(self) -> list[CollectionInfo]:
        """Every user collection with its distinct item count and per-model counts, by name."""
        grouped = self._grouped(refresh=True)
        return [
            CollectionInfo(
                name=name,
                images=self._distinct_count(list(by_model.values())),
                models={model: target.count() for model, target in sorted(by_model.items())},
            )
            for name, by_model in sorted(grouped.items())
        ]

    def _distinct_count(self, targets: list[Collection]) -> int:
        """Distinct ids over a collection's models; one model needs no id scan."""
        if len(targets) == 1:
            return targets[0].count()
        return len(all_ids(targets, self._batch_size))

    @retry_if_stale
    def delete_collection(self, collection: str) -> int:
        """Delete ``collection`` with every model's index; return how many items it held."""
        with self._writing():
            targets = self._existing(collection)
            removed = len(all_ids(targets.values(), self._batch_size))
            for target in targets.values():
                self._client.delete_collection(target.name)
            self.refresh()
        return removed

    def drop_model(self, collection: str, model: str) -> None:
        """Delete the index of ``collection`` made with ``model``, if any (e.g. a model
        folder that was trained again, whose stored vectors are stale)."""
        with self._writing():
            target = self._models(collection).get(model)
            if target is not None:
                self._client.delete_collection(target.name)
                self.refresh()

    @retry_if_stale
    def delete_items(self, collection: str, ids: Sequence[str]) -> int:
        """Delete ``ids`` from every model's index of ``collection``; return how many existed."""
        removed: set[str] = set()
        with self._writing():
            for target in self._existing(collection).values():
                present = present_ids(target, ids, self._batch_size)
                self._exact.drop(str(target.id))
                for chunk in chunks(sorted(present), self._batch_size):
                    target.delete(ids=chunk)
                removed |= present
        return len(removed)

    def _check_writable(self) -> None:
        if self._readonly:
            raise ReadOnlyError("This store is read-only (MMDEMO_READONLY is set).")

    def _grouped(self, refresh: bool = False) -> dict[str, dict[str, Collection]]:
        """User collection -> model key -> Chroma collection handle, listed once and cached
        (until this or another process writes: reading the client checks that first)."""
        client = self._client
        if refresh or self._handles is None:
            grouped: dict[str, dict[str, Collection]] = {}
            for target in client.list_collections():
                metadata = target.metadata or {}
                if _COLLECTION_KEY in metadata and _MODEL_KEY in metadata:
                    name, model = str(metadata[_COLLECTION_KEY]), str(metadata[_MODEL_KEY])
                    grouped.setdefault(name, {})[model] = target
            self._handles = grouped
        return self._handles

    def _models(self, collection: str, model: str | None = None) -> dict[str, Collection]:
        """Model key -> Chroma collection for one user collection.

        Listed again when the cache lacks the collection (or ``model`` in it): another
        process may have created it since.
        """
        found = self._grouped().get(collection) or {}
        if not found or (model is not None and model not in found):
            found = self._grouped(refresh=True).get(collection) or {}
        return dict(sorted(found.items()))

    def _existing(self, collection: str) -> dict[str, Collection]:
        """Like :meth:`_models`, but a collection with no model is an error."""
        found = self._models(collection)
        if not found:
            raise NotFoundError(f"Collection {collection!r} does not exist.")
        return found

    def _require(self, collection: str, model: str) -> Collection:
        """The Chroma collection of (collection, model), or a NotFoundError naming what exists."""
        found = self._models(collection, model)
        if not found:
            raise NotFoundError(f"Collection {collection!r} does not exist.")
        if model not in found:
            raise NotFoundError(
                f"Collection {collection!r} is not indexed with model {model!r}; "
                f"it is indexed with: {', '.join(found)}."
            )
        return found[model]

    def _collection_for_writing(self, collection: str, model: str, dim: int) -> Collection:
        """The Chroma collection to add ``dim``-d vectors to, created on first use."""
        existing = self._models(collection, model).get(model)
        if existing is not None:
            check_dimension(existing, dim, collection, model)
            return existing
        created = self._client.get_or_create_collection(
            chroma_name(collection, model),
            configuration={"hnsw": HNSW_CONFIGURATION},
            metadata={_COLLECTION_KEY: collection, _MODEL_KEY: model, DIM_KEY: dim},
            embedding_function=None,
        )
        self._handles = None
        return created


__all__ = ["HNSW_CONFIGURATION", "CollectionInfo", "Hit", "Store", "chroma_name"]
