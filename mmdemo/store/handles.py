"""Chroma handles of the store: clients, the write lock, and collections by (name, model).

The Chroma-collection layer each :class:`mmdemo.store.Store` owns one of (a part, not a
base class): which Chroma collection holds the image vectors of (collection, model), and
the caption vectors kept beside it, cached and looked up again when another process may
have changed them; and the page-by-page reads and writes of one such collection.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo import runtime as process_runtime
from mmdemo.chunking import chunks, first_of_each_new
from mmdemo.compat import is_chroma_not_found
from mmdemo.config import Settings
from mmdemo.crashpoint import crash_point
from mmdemo.errors import NotFoundError, OutOfSpaceError, ReadOnlyError
from mmdemo.store import space
from mmdemo.store.client import connect
from mmdemo.store.exact_cache import ExactCache, Rows
from mmdemo.store.layout import ensure_current
from mmdemo.store.naming import caption_collection_name, chroma_name
from mmdemo.store.parts import (
    CAPTIONS_OF_KEY,
    DIM_KEY,
    check_dimension,
    chroma_filter,
)
from mmdemo.store.reclaim import reclaim, unused_segments

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.collection_configuration import CreateHNSWConfiguration
    from chromadb.api.models.Collection import Collection

    from mmdemo.filters import ItemFilter
    from mmdemo.runtime import Runtime

#: The HNSW build of collections created from now on; used only above the exact-search
#: size (mmdemo/exact.py). Chosen from bench/perf_store.py's figures (bench/README.md,
#: "Store at 10k-100k"); collections made before keep the build they were created with.
HNSW_CONFIGURATION: CreateHNSWConfiguration = {
    "space": "cosine",
    "ef_construction": 100,
    "max_neighbors": 16,
    "ef_search": 1024,
}
COLLECTION_KEY = "mmdemo_collection"
MODEL_KEY = "mmdemo_model"


class Handles:
    """Clients, the write lock and cached collection handles: the part of a
    :class:`~mmdemo.store.Store` that finds Chroma collections (each store owns one)."""

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        """Open the Chroma database: a server at ``chroma_url`` or the local ``chroma_dir``,
        through ``runtime``'s clients (the process default's without one); the pipeline
        steps given this store use its :attr:`runtime` too."""
        ensure_current(settings)  # the data dir's layout, migrated first if it is older
        self.settings = settings
        self.runtime = runtime or process_runtime.default_runtime()
        self._clients = self.runtime.clients
        self._server = connect(settings) if settings.chroma_url else None
        self._readonly = settings.readonly
        self._handles: dict[str, dict[str, Collection]] | None = None
        self._caption_handles: dict[str, Collection | None] = {}
        self._counts: dict[str, tuple[str, int]] = {}
        self.exact = ExactCache()
        self._seen = self.marker()
        self.batch_size = self.client.get_max_batch_size()

    @property
    def client(self) -> ClientAPI:
        """The server's client, or this process's local one; when another process wrote
        since this store last looked, the cached handles and vectors are forgotten too."""
        if self._server is not None:
            return self._server
        client = self._clients.local(self.settings)
        marker = self.marker()
        if marker != self._seen:
            self.refresh()
            self._seen = marker
        return client

    def marker(self) -> str:
        """The store's change marker now: moved by every write of any process."""
        return self._clients.read_marker(self.settings)

    def refresh(self) -> None:
        """Forget cached collection handles and vectors (after another process changed them)."""
        self._handles = None
        self._caption_handles = {}
        self._counts.clear()
        self.exact.clear()

    @contextmanager
    def writing(self, adds: bool = False) -> Iterator[None]:
        """Write under the inter-process lock, on fresh handles; this store's own caches stay
        valid through its own write (each writer keeps them up to date).

        A write that ``adds`` data is refused while the disk is full (deletes, which free
        space, are not); a write the full disk stops raises :class:`OutOfSpaceError`.
        """
        self._check_writable()
        if self._server is not None:
            yield
            return
        if adds:
            space.require_room(self.settings)
        try:
            with self._clients.write_lock(self.settings) as markers:
                if markers.before != self._seen:
                    self.refresh()
                self._seen = markers.during
                yield
                self._seen = markers.after
        except Exception as exc:
            if isinstance(exc, OutOfSpaceError) or not space.is_out_of_space(exc):
                raise
            raise OutOfSpaceError(space.OUT_OF_SPACE) from exc

    def count(self, target: Collection) -> int:
        """``target.count()``, kept for as long as the change marker stays where it was when
        counted, i.e. until this or another process writes (Chroma's count costs about 9 ms
        at 100k items, more than the vector search itself). A count taken during a write
        is filed under that write's marker, which its end moves on. Never kept for a Chroma
        server, whose other clients leave no change marker."""
        if self._server is not None:
            return _count_or_zero(target)
        seen, key = self._seen, str(target.id)
        cached = self._counts.get(key)
        if cached is None or cached[0] != seen:
            cached = (seen, _count_or_zero(target))
            self._counts[key] = cached
        return cached[1]

    def caption_target(self, image_target: Collection) -> Collection | None:
        """The caption vectors kept beside ``image_target``, or None (indexed before them)."""
        name = image_target.name
        if self._caption_handles.get(name) is None:
            try:
                self._caption_handles[name] = self.client.get_collection(
                    caption_collection_name(name), embedding_function=None
                )
            except Exception as exc:
                if not is_chroma_not_found(exc):
                    raise
                return None
        return self._caption_handles[name]

    def vector_target(
        self, collection: str, model: str, captions: bool, dim: int | None = None
    ) -> Collection | None:
        """The image vectors of (collection, model), or its caption vectors (None if it has
        none); ``dim`` is checked against the stored dimension."""
        target = self.require(collection, model)
        if dim is not None:
            check_dimension(target, dim, collection, model)
        return self.caption_target(target) if captions else target

    def with_captions(self, targets: Iterable[Collection]) -> list[Collection]:
        """``targets`` and the caption vectors kept beside each, where there are some."""
        found = []
        for target in targets:
            captions = self.caption_target(target)
            found.extend([target] if captions is None else [target, captions])
        return found

    def _check_writable(self) -> None:
        if self._readonly:
            raise ReadOnlyError("This store is read-only (MMDEMO_READONLY is set).")

    def _grouped(self, refresh: bool = False) -> dict[str, dict[str, Collection]]:
        """User collection -> model key -> Chroma collection handle, listed once and cached
        (until this or another process writes: reading the client checks that first)."""
        client = self.client
        if refresh or self._handles is None:
            grouped: dict[str, dict[str, Collection]] = {}
            for target in client.list_collections():
                metadata = target.metadata or {}
                if COLLECTION_KEY in metadata and MODEL_KEY in metadata:
                    name, model = str(metadata[COLLECTION_KEY]), str(metadata[MODEL_KEY])
                    grouped.setdefault(name, {})[model] = target
            self._handles = grouped
        return self._handles

    def listed(self) -> dict[str, dict[str, Collection]]:
        """The user collections that hold something: one a killed first write left empty
        (created, nothing added) is not listed (``gc`` removes it)."""
        return {
            name: by_model
            for name, by_model in self._grouped(refresh=True).items()
            if any(self.count(target) for target in by_model.values())
        }

    def empty_collections(self) -> list[str]:
        """User collections that hold no item under any model (see :meth:`_listed`)."""
        return sorted(set(self._grouped(refresh=True)) - set(self.listed()))

    def unused_files(self) -> list[Path]:
        """What deleted collections left on disk: Chroma segment folders no collection uses."""
        return [] if self._server is not None else unused_segments(self.settings.chroma_dir)

    def reclaim(self) -> list[Path]:
        """Remove empty collections and unused segment folders, and compact the database
        fully (``gc --apply``); returns the folders removed."""
        with self.writing():
            for name in self.empty_collections():
                for target in self.with_captions(self._grouped()[name].values()):
                    self.client.delete_collection(target.name)
            self.refresh()
            return self.free_space(full=True)

    def free_space(self, full: bool = False) -> list[Path]:
        """After a delete (under the write lock): give its disk space back."""
        if self._server is not None:
            return []
        return reclaim(self.settings.chroma_dir, full=full)

    def by_model(self, collection: str, model: str | None = None) -> dict[str, Collection]:
        """Model key -> Chroma collection for one user collection.

        Listed again when the cache lacks the collection (or ``model`` in it): another
        process may have created it since.
        """
        found = self._grouped().get(collection) or {}
        if not found or (model is not None and model not in found):
            found = self._grouped(refresh=True).get(collection) or {}
        return dict(sorted(found.items()))

    def existing(self, collection: str) -> dict[str, Collection]:
        """Like :meth:`by_model`, but a collection with no model is an error."""
        found = self.by_model(collection)
        if not found:
            raise NotFoundError(f"Collection {collection!r} does not exist.")
        return found

    def require(self, collection: str, model: str) -> Collection:
        """The Chroma collection of (collection, model), or a NotFoundError naming what exists."""
        found = self.by_model(collection, model)
        if not found:
            raise NotFoundError(f"Collection {collection!r} does not exist.")
        if model not in found:
            raise NotFoundError(
                f"Collection {collection!r} is not indexed with model {model!r}; "
                f"it is indexed with: {', '.join(found)}."
            )
        return found[model]

    def collection_for_writing(
        self, collection: str, model: str, dim: int
    ) -> tuple[Collection, bool]:
        """The Chroma collection to add ``dim``-d vectors to, created on first use, and
        whether this call created it."""
        existing = self.by_model(collection, model).get(model)
        if existing is not None:
            check_dimension(existing, dim, collection, model)
            return existing, False
        created = self.client.get_or_create_collection(
            chroma_name(collection, model),
            configuration={"hnsw": HNSW_CONFIGURATION},
            metadata={COLLECTION_KEY: collection, MODEL_KEY: model, DIM_KEY: dim},
            embedding_function=None,
        )
        self._handles = None
        crash_point("collection-created")
        return created, True

    def captions_for_writing(self, image_target: Collection, dim: int) -> Collection:
        """The caption vectors kept beside ``image_target``, created on first use (its
        existence says the captions were embedded)."""
        target = self.client.get_or_create_collection(
            caption_collection_name(image_target.name),
            configuration={"hnsw": HNSW_CONFIGURATION},
            metadata={CAPTIONS_OF_KEY: image_target.name, DIM_KEY: dim},
            embedding_function=None,
        )
        self._caption_handles[image_target.name] = target
        return target

    def add_new(
        self,
        target: Collection,
        ids: list[str],
        vectors: np.ndarray,
        records: list[tuple[dict[str, Any] | None, str | None]],
    ) -> None:
        """Add the rows of ``ids`` that ``target`` lacks (the first of each id), in pages of
        Chroma's batch size, keeping the exact-search copy in step."""
        rows = first_of_each_new(ids, self.present_ids(target, ids))
        cached = self.exact.drop(str(target.id))
        for chunk in chunks(rows, self.batch_size):
            target.add(
                ids=[ids[i] for i in chunk],
                embeddings=vectors[chunk],
                metadatas=[records[i][0] for i in chunk],
                documents=[records[i][1] for i in chunk],
            )
        self.exact.appended(
            str(target.id),
            cached,
            [ids[i] for i in rows],
            vectors[rows],
            [records[i][0] for i in rows],
        )

    def matching(self, target: Collection, item_filter: ItemFilter) -> set[str] | None:
        """Ids of ``target``'s items that ``item_filter`` allows; None when it allows all."""
        if not item_filter.active:
            return None
        found: set[str] = set()
        while True:
            page = target.get(
                **chroma_filter(item_filter),
                include=[],
                limit=self.batch_size,
                offset=len(found),
            )
            found.update(page["ids"])
            if len(page["ids"]) < self.batch_size:
                return found

    def rows(self, target: Collection, with_metadata: bool = False) -> Rows:
        """Every id of ``target`` with its vector (an (n, dim) float32 matrix) and, when
        asked, its metadata (else no metadata at all)."""
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        metadata: list[Mapping[str, Any] | None] = []
        include = ["embeddings", "metadatas"] if with_metadata else ["embeddings"]
        for page in self.pages(target, include):
            ids.extend(page["ids"])
            vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
            metadata.extend(page["metadatas"] or [])
        dim = int((target.metadata or {}).get(DIM_KEY, 0))
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, dim), np.float32)
        return ids, matrix, metadata

    def distinct_count(self, targets: list[Collection]) -> int:
        """Distinct ids over a collection's models; one model needs no id scan."""
        if len(targets) == 1:
            return self.count(targets[0])
        return len(self.all_ids(targets))

    def present_ids(self, target: Collection, ids: Sequence[str]) -> set[str]:
        """Which of ``ids`` ``target`` holds."""
        present: set[str] = set()
        for chunk in chunks(list(dict.fromkeys(ids)), self.batch_size):
            present.update(target.get(ids=chunk, include=[])["ids"])
        return present

    def all_ids(self, targets: Iterable[Collection]) -> set[str]:
        """The union of the ids held by ``targets``."""
        return {item_id for t in targets for page in self.pages(t, []) for item_id in page["ids"]}

    def pages(self, target: Collection, include: list[str]) -> Iterator[Any]:
        """``target.get`` page by page, so no single request exceeds Chroma's batch size."""
        for offset in range(0, self.count(target), self.batch_size):
            yield target.get(include=include, limit=self.batch_size, offset=offset)  # type: ignore[arg-type]


def _count_or_zero(target: Collection) -> int:
    """How many items ``target`` holds; 0 when another process deleted it after we listed it
    (a visitor's collection removed as they leave, while this process lists the store)."""
    try:
        return int(target.count())
    except Exception as exc:
        if not is_chroma_not_found(exc):
            raise
        return 0
