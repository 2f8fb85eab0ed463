"""The vector store: the only module that imports chromadb.

A user collection indexed with several models is kept as one Chroma collection per
(collection, model), all holding the same item ids. Each Chroma collection carries the
user's collection name, the model key and the embedding dimension in its metadata, so the
store can list what exists without a side registry. Chroma never embeds anything here:
vectors always come from our own models.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo.config import Settings
from mmdemo.errors import InputError, MMDemoError, NotFoundError, ReadOnlyError
from mmdemo.records import (
    CAPTION_KEY,
    as_matrix,
    chunks,
    first_of_each_new,
    parse_url,
    record,
    validate_collection_name,
)

_connect_lock = threading.Lock()

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.collection_configuration import CreateHNSWConfiguration
    from chromadb.api.models.Collection import Collection

# Search effort well above Chroma's default, so top-k agrees with exact cosine search
# (tests/test_store.py measures recall against numpy).
HNSW_CONFIGURATION: CreateHNSWConfiguration = {
    "space": "cosine",
    "ef_construction": 400,
    "max_neighbors": 32,
    "ef_search": 512,
}
_COLLECTION_KEY = "mmdemo_collection"
_MODEL_KEY = "mmdemo_model"
_DIM_KEY = "mmdemo_dim"


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


def chroma_name(collection: str, model: str) -> str:
    """The Chroma collection name for (collection, model): readable slug plus a hash."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", collection).strip("-")[:40] or "x"
    digest = hashlib.sha1(f"{collection}\0{model}".encode()).hexdigest()[:12]
    return f"mmd-{slug}-{digest}"


class Store:
    """Embeddings and metadata of every indexed item, in a local or remote Chroma."""

    def __init__(self, settings: Settings) -> None:
        """Open the Chroma database: a server at ``chroma_url`` or the local ``chroma_dir``."""
        self._client = _connect(settings)
        self._readonly = settings.readonly
        self._batch_size = self._client.get_max_batch_size()

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
        self._check_writable()
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
        target = self._collection_for_writing(collection, model, vectors.shape[1])
        rows = first_of_each_new(ids, self._present_ids(target, ids))
        for chunk in chunks(rows, self._batch_size):
            target.add(
                ids=[ids[i] for i in chunk],
                embeddings=vectors[chunk],
                metadatas=[records[i][0] for i in chunk],
                documents=[records[i][1] for i in chunk],
            )

    def existing_ids(self, collection: str, model: str, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` already stored for (collection, model)."""
        target = self._models(collection).get(model)
        return self._present_ids(target, ids) if target is not None else set()

    def ids_in_use(self, ids: Sequence[str]) -> set[str]:
        """The subset of ``ids`` that any collection, under any model, still holds."""
        in_use: set[str] = set()
        for target in self._client.list_collections():
            if _COLLECTION_KEY in (target.metadata or {}):
                in_use |= self._present_ids(target, ids)
        return in_use

    def has_model(self, collection: str, model: str) -> bool:
        """Whether ``collection`` has been indexed with ``model``."""
        return model in self._models(collection)

    def ensure_indexed(self, collection: str, model: str) -> None:
        """Raise NotFoundError, naming the models it has, unless ``collection`` has ``model``."""
        self._require(collection, model)

    def models(self, collection: str) -> dict[str, int]:
        """Model key -> item count for ``collection`` (empty when it does not exist)."""
        return {model: target.count() for model, target in self._models(collection).items()}

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
        _check_dimension(target, vector.shape[1], collection, model)
        count = target.count()
        if count == 0:
            return []
        needle = (caption_contains or "").strip().casefold()
        result = target.query(
            query_embeddings=vector,
            n_results=min(k, count),
            where_document={"$contains": needle} if needle else None,
            include=["distances", "metadatas"],
        )
        distances = (result["distances"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        return [
            Hit(id=item_id, score=1.0 - float(distance), metadata=dict(metadata or {}))
            for item_id, distance, metadata in zip(
                result["ids"][0], distances, metadatas, strict=True
            )
        ]

    def items(self, collection: str) -> list[tuple[str, dict[str, Any]]]:
        """Every item id of ``collection`` (over all its models) with its metadata."""
        found: dict[str, dict[str, Any]] = {}
        for target in self._existing(collection).values():
            for page in self._pages(target, ["metadatas"]):
                for item_id, metadata in zip(page["ids"], page["metadatas"] or [], strict=True):
                    found.setdefault(item_id, dict(metadata or {}))
        return list(found.items())

    def embeddings(self, collection: str, model: str) -> tuple[list[str], np.ndarray]:
        """All ids of (collection, model) and their embeddings as an (n, dim) float32 array."""
        target = self._require(collection, model)
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        for page in self._pages(target, ["embeddings"]):
            ids.extend(page["ids"])
            vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
        dim = int((target.metadata or {}).get(_DIM_KEY, 0))
        return ids, np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)

    def collections(self) -> list[CollectionInfo]:
        """Every user collection with its distinct item count and per-model counts, by name."""
        grouped: dict[str, dict[str, Collection]] = {}
        for target in self._client.list_collections():
            metadata = target.metadata or {}
            if _COLLECTION_KEY in metadata and _MODEL_KEY in metadata:
                name, model = str(metadata[_COLLECTION_KEY]), str(metadata[_MODEL_KEY])
                grouped.setdefault(name, {})[model] = target
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
        return len(self._all_ids(targets))

    def delete_collection(self, collection: str) -> int:
        """Delete ``collection`` with every model's index; return how many items it held."""
        self._check_writable()
        targets = self._existing(collection)
        removed = len(self._all_ids(targets.values()))
        for target in targets.values():
            self._client.delete_collection(target.name)
        return removed

    def drop_model(self, collection: str, model: str) -> None:
        """Delete the index of ``collection`` made with ``model``, if any (e.g. a model
        folder that was trained again, whose stored vectors are stale)."""
        self._check_writable()
        target = self._models(collection).get(model)
        if target is not None:
            self._client.delete_collection(target.name)

    def delete_items(self, collection: str, ids: Sequence[str]) -> int:
        """Delete ``ids`` from every model's index of ``collection``; return how many existed."""
        self._check_writable()
        removed: set[str] = set()
        for target in self._existing(collection).values():
            present = self._present_ids(target, ids)
            for chunk in chunks(sorted(present), self._batch_size):
                target.delete(ids=chunk)
            removed |= present
        return len(removed)

    def _check_writable(self) -> None:
        if self._readonly:
            raise ReadOnlyError("This store is read-only (MMDEMO_READONLY is set).")

    def _models(self, collection: str) -> dict[str, Collection]:
        """Model key -> Chroma collection for one user collection."""
        found: dict[str, Collection] = {}
        for target in self._client.list_collections():
            metadata = target.metadata or {}
            if metadata.get(_COLLECTION_KEY) == collection and _MODEL_KEY in metadata:
                found[str(metadata[_MODEL_KEY])] = target
        return dict(sorted(found.items()))

    def _existing(self, collection: str) -> dict[str, Collection]:
        """Like :meth:`_models`, but a collection with no model is an error."""
        found = self._models(collection)
        if not found:
            raise NotFoundError(f"Collection {collection!r} does not exist.")
        return found

    def _require(self, collection: str, model: str) -> Collection:
        """The Chroma collection of (collection, model), or a NotFoundError naming what exists."""
        found = self._existing(collection)
        if model not in found:
            raise NotFoundError(
                f"Collection {collection!r} is not indexed with model {model!r}; "
                f"it is indexed with: {', '.join(found)}."
            )
        return found[model]

    def _collection_for_writing(self, collection: str, model: str, dim: int) -> Collection:
        """The Chroma collection to add ``dim``-d vectors to, created on first use."""
        existing = self._models(collection).get(model)
        if existing is not None:
            _check_dimension(existing, dim, collection, model)
            return existing
        return self._client.get_or_create_collection(
            chroma_name(collection, model),
            configuration={"hnsw": HNSW_CONFIGURATION},
            metadata={_COLLECTION_KEY: collection, _MODEL_KEY: model, _DIM_KEY: dim},
            embedding_function=None,
        )

    def _present_ids(self, target: Collection, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` ``target`` holds."""
        present: set[str] = set()
        for chunk in chunks(list(dict.fromkeys(ids)), self._batch_size):
            present.update(target.get(ids=chunk, include=[])["ids"])
        return present

    def _all_ids(self, targets: Iterable[Collection]) -> set[str]:
        """The union of the ids held by ``targets``."""
        return {item_id for t in targets for page in self._pages(t, []) for item_id in page["ids"]}

    def _pages(self, target: Collection, include: list[str]) -> Iterator[Any]:
        """``target.get`` page by page, so no single request exceeds Chroma's batch size."""
        for offset in range(0, target.count(), self._batch_size):
            yield target.get(include=include, limit=self._batch_size, offset=offset)  # type: ignore[arg-type]


def _connect(settings: Settings) -> ClientAPI:
    """A Chroma client for ``settings``; any failure to open it becomes an MMDemoError."""
    with _connect_lock:  # chromadb fails when two threads open clients at the same moment
        return _open_client(settings)


def _open_client(settings: Settings) -> ClientAPI:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        host, port, ssl = parse_url(settings.chroma_url)
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb wraps transport errors in varied types
            raise MMDemoError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({exc})."
            ) from exc
        return client
    path = settings.chroma_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # an unwritable folder or a database of another version
        raise MMDemoError(f"Cannot open the Chroma database in {path} ({exc}).") from exc


def _check_dimension(target: Collection, dim: int, collection: str, model: str) -> None:
    """Raise InputError when ``dim`` differs from the dimension stored for (collection, model)."""
    stored = (target.metadata or {}).get(_DIM_KEY)
    if stored is not None and int(stored) != dim:
        raise InputError(
            f"Collection {collection!r} holds {stored}-d embeddings for model {model!r}, "
            f"but got {dim}-d ones: use the same model that indexed it."
        )
