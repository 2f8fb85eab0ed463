"""The map of a collection under one model: 2-D points, clusters and their names, cached.

Computing a map (t-SNE, k-means, naming) takes seconds to minutes for large collections,
so it is done once per (collection, model, collection version) and kept as JSON under the
data folder. The version is a digest of the item ids: ids are content hashes, so any
added or deleted image gives a new version and a fresh map.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mmdemo.atomic import write_atomically
from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.evaluate.clusters import cluster, name_clusters
from mmdemo.evaluate.projection import project
from mmdemo.models.loading import load_embedder
from mmdemo.store import Hit, Store, chroma_name


@dataclass(frozen=True)
class MapPoint:
    """One item on the map."""

    id: str
    x: float
    y: float
    cluster: int
    file_name: str
    caption: str


@dataclass(frozen=True)
class CollectionMap:
    """Every item of a collection placed in 2-D, with each cluster's name."""

    collection: str
    model: str
    version: str
    points: list[MapPoint]
    cluster_names: list[str]

    def to_json(self) -> dict[str, Any]:
        """A plain-JSON form (the cache file and the ``map --json`` output)."""
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CollectionMap:
        """The inverse of :meth:`to_json`."""
        points = [MapPoint(**p) for p in data["points"]]
        return cls(
            data["collection"], data["model"], data["version"], points, data["cluster_names"]
        )

    def position(self, item_id: str) -> tuple[float, float] | None:
        """Where ``item_id`` lies on the map, if it is there."""
        point = next((p for p in self.points if p.id == item_id), None)
        return None if point is None else (point.x, point.y)


def collection_version(ids: list[str]) -> str:
    """A short digest of a collection's item ids, independent of their order."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def _guess_words(embedder: Embedder) -> tuple[list[str], np.ndarray]:
    """Words to guess an untexted cluster's name by: the ImageNet class names and their
    text embeddings (none for image-only models)."""
    from mmdemo.models.lite.classes import class_names, class_prompts

    if not embedder.supports("text"):
        return [], np.zeros((0, 0), np.float32)
    return class_names(), embedder.encode_texts(class_prompts())


def compute_map(store: Store, settings: Settings, collection: str, model: str) -> CollectionMap:
    """Project, cluster and name the items of (collection, model), without the cache."""
    from mmdemo.text.documents import item_text

    ids, vectors = store.embeddings(collection, model)
    metadata = dict(store.items(collection))
    captions = [str(metadata.get(i, {}).get("caption", "")) for i in ids]
    xy = project(vectors)
    labels = cluster(vectors)
    texts = [item_text(metadata.get(i, {})) for i in ids]
    names = name_clusters(
        texts, vectors, labels, lambda: _guess_words(load_embedder(model, settings, store.runtime))
    )
    points = [
        MapPoint(
            id=item_id,
            x=round(float(xy[row, 0]), 5),
            y=round(float(xy[row, 1]), 5),
            cluster=int(labels[row]),
            file_name=str(metadata.get(item_id, {}).get("file_name", "")),
            caption=captions[row],
        )
        for row, item_id in enumerate(ids)
    ]
    return CollectionMap(collection, model, collection_version(ids), points, names)


def _cache_file(settings: Settings, collection: str, model: str, version: str) -> Path:
    name = f"{chroma_name(collection, model)}-{version}.json"
    return settings.data_dir / "maps" / name


def collection_map(store: Store, settings: Settings, collection: str, model: str) -> CollectionMap:
    """The map of (collection, model), from the cache when the collection has not changed."""
    ids, _ = store.embeddings(collection, model)
    cache = _cache_file(settings, collection, model, collection_version(ids))
    try:
        return CollectionMap.from_json(json.loads(cache.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no cache yet, or an unreadable one: compute it afresh
    found = compute_map(store, settings, collection, model)
    write_atomically(cache, json.dumps(found.to_json()))
    return found


def place_query(found: CollectionMap, hits: list[Hit]) -> tuple[float, float] | None:
    """Where a query sits on the map: the similarity-weighted centre of its top hits.

    t-SNE cannot place a new point, so the query goes among the items it found.
    """
    placed = [(found.position(h.id), max(h.score, 1e-6)) for h in hits]
    known = [(xy, w) for xy, w in placed if xy is not None]
    if not known:
        return None
    total = sum(w for _, w in known)
    return (
        sum(xy[0] * w for xy, w in known) / total,
        sum(xy[1] * w for xy, w in known) / total,
    )


def query_overlay(
    found: CollectionMap, store: Store, settings: Settings, text: str, k: int = 10
) -> tuple[list[Hit], tuple[float, float] | None]:
    """A text query's top ``k`` items on the map and where its marker goes."""
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query

    results = search(
        Query(text=text),
        collection=found.collection,
        model=found.model,
        settings=settings,
        store=store,
        top_k=k,
    )
    hits = [Hit(str(row["id"]), float(row["similarity"]), {}) for row in results.rows]
    return hits, place_query(found, hits)
