"""Reading one Chroma collection page by page, so no request exceeds Chroma's batch size."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo.records import chunks
from mmdemo.store.parts import DIM_KEY, Hit

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection


def pages(target: Collection, include: list[str], batch: int) -> Iterator[Any]:
    """``target.get`` page by page."""
    for offset in range(0, target.count(), batch):
        yield target.get(include=include, limit=batch, offset=offset)  # type: ignore[arg-type]


def present_ids(target: Collection, ids: Sequence[str], batch: int) -> set[str]:
    """Which of ``ids`` ``target`` holds."""
    present: set[str] = set()
    for chunk in chunks(list(dict.fromkeys(ids)), batch):
        present.update(target.get(ids=chunk, include=[])["ids"])
    return present


def all_ids(targets: Iterable[Collection], batch: int) -> set[str]:
    """The union of the ids held by ``targets``."""
    return {item_id for t in targets for page in pages(t, [], batch) for item_id in page["ids"]}


def all_vectors(target: Collection, batch: int) -> tuple[list[str], np.ndarray]:
    """Every id of ``target`` and its embedding, as an (n, dim) float32 array."""
    ids: list[str] = []
    rows: list[np.ndarray] = []
    for page in pages(target, ["embeddings"], batch):
        ids.extend(page["ids"])
        rows.append(np.asarray(page["embeddings"], dtype=np.float32))
    dim = int((target.metadata or {}).get(DIM_KEY, 0))
    return ids, np.concatenate(rows) if rows else np.zeros((0, dim), np.float32)


def matching(target: Collection, needle: str, batch: int) -> set[str]:
    """Ids of ``target``'s items whose (lower-cased) caption contains ``needle``."""
    found: set[str] = set()
    while True:
        page = target.get(
            where_document={"$contains": needle}, include=[], limit=batch, offset=len(found)
        )
        found.update(page["ids"])
        if len(page["ids"]) < batch:
            return found


def hits(target: Collection, ranked: list[tuple[str, float]]) -> list[Hit]:
    """``ranked`` (id, score) pairs as hits carrying their stored metadata."""
    if not ranked:
        return []
    got = target.get(ids=[item_id for item_id, _ in ranked], include=["metadatas"])
    metadata = dict(zip(got["ids"], got["metadatas"] or [], strict=True))
    return [Hit(i, score, dict(metadata.get(i) or {})) for i, score in ranked]


def hnsw_hits(target: Collection, vector: np.ndarray, k: int, needle: str) -> list[Hit]:
    """The ``k`` best hits for one query row from Chroma's HNSW index."""
    result = target.query(
        query_embeddings=vector,
        n_results=k,
        where_document={"$contains": needle} if needle else None,
        include=["distances", "metadatas"],
    )
    distances = (result["distances"] or [[]])[0]
    metadatas = (result["metadatas"] or [[]])[0]
    return [
        Hit(id=item_id, score=1.0 - float(distance), metadata=dict(metadata or {}))
        for item_id, distance, metadata in zip(result["ids"][0], distances, metadatas, strict=True)
    ]
