"""Store scaling: insert rate, query time and top-50 agreement with exact search vs size.

Vectors go straight into Chroma collections made with each HNSW setting (batches of 32, as
the indexer adds them); at each checkpoint size it measures the insert rate of the last
segment, HNSW query time and its top-50 agreement with exact search, the exact scan's time
(mmdemo.exact, what the store uses below the switch) and a whole ``Store.query``.

Two kinds of vectors: ``random`` unit vectors (the worst case for HNSW) and ``lite-like``:
mixtures of real ``lite`` image embeddings plus noise, renormalised (real embeddings sit on
a low-dimensional, clustered manifold, which HNSW handles far better).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo.exact import ExactIndex

if TYPE_CHECKING:
    from chromadb.api.collection_configuration import CreateHNSWConfiguration

TOP = 50
QUERIES = 30
ADD_BATCH = 32
#: (ef_construction, max_neighbors); ef_search is varied at query time.
HNSW_BUILDS = ((400, 32), (100, 16))
EF_SEARCH = (512, 2048)


def unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def lite_seeds(count: int, emoji_dir: Path | None) -> np.ndarray:
    """``lite`` embeddings of ``count`` real images (emoji when given, else generated)."""
    from PIL import Image

    from mmdemo.config import Settings
    from mmdemo.models.loading import load_embedder

    images: list[Image.Image] = []
    if emoji_dir is not None:
        files = sorted((emoji_dir / "img" / "google" / "64").glob("*.png"))[:count]
        images = [Image.open(f).convert("RGB") for f in files]
    rng = np.random.default_rng(7)
    while len(images) < count:
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        image = Image.new("RGB", (96, 96), colour)
        image.paste(tuple(int(c) for c in rng.integers(0, 256, 3)), (10, 20, 60, 80))
        images.append(image)
    return load_embedder("lite", Settings.from_env()).encode_images(images)


def make_vectors(
    kind: str, count: int, dim: int, seeds: np.ndarray | None, seed: int
) -> np.ndarray:
    """``count`` unit vectors: random, or mixtures of two seed embeddings plus noise."""
    rng = np.random.default_rng(seed)
    if kind == "random" or seeds is None:
        return unit(rng.standard_normal((count, dim)))
    a, b = rng.integers(0, len(seeds), count), rng.integers(0, len(seeds), count)
    w = rng.uniform(0, 1, (count, 1)).astype(np.float32)
    noise = unit(rng.standard_normal((count, seeds.shape[1]))) * 0.3
    return unit(w * seeds[a] + (1 - w) * seeds[b] + noise)


def _median_ms(fn: Any, inputs: np.ndarray) -> float:
    times = []
    for row in inputs:
        start = time.perf_counter()
        fn(row)
        times.append((time.perf_counter() - start) * 1e3)
    return round(statistics.median(times), 2)


def _agreement(found: list[list[str]], exact: list[list[str]]) -> float:
    return round(
        float(np.mean([len(set(f) & set(e)) / TOP for f, e in zip(found, exact, strict=True)])), 4
    )


def run_series(
    kind: str, dim: int, sizes: list[int], build: tuple[int, int], seeds: Any
) -> list[dict[str, Any]]:
    """Fill one collection up to each size in turn; measure at each checkpoint."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    ef_construction, neighbours = build
    vectors = make_vectors(kind, max(sizes), dim, seeds, seed=1)
    queries = make_vectors(kind, QUERIES, dim, seeds, seed=2)
    ids = [f"{i:07d}" for i in range(len(vectors))]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        client = chromadb.PersistentClient(tmp, settings=ChromaSettings(anonymized_telemetry=False))
        hnsw: CreateHNSWConfiguration = {
            "space": "cosine",
            "ef_construction": ef_construction,
            "max_neighbors": neighbours,
            "ef_search": EF_SEARCH[0],
        }
        target = client.create_collection(
            "bench",
            configuration={"hnsw": hnsw},
            embedding_function=None,
        )
        done = 0
        for size in sizes:
            wall, cpu = time.perf_counter(), time.process_time()
            for start in range(done, size, ADD_BATCH):
                stop = min(start + ADD_BATCH, size)
                target.add(ids=ids[start:stop], embeddings=vectors[start:stop])
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            segment = size - done
            done = size
            index = ExactIndex.build(ids[:size], vectors[:size], size)
            exact = [[i for i, _ in index.top_k(q, TOP)] for q in queries]
            row = {
                "kind": kind, "dim": dim, "size": size,
                "ef_construction": ef_construction, "max_neighbors": neighbours,
                "insert_per_s": round(segment / wall, 1),
                "insert_per_cpu_s": round(segment / max(cpu, 1e-9), 1),
                "exact_query_ms": _median_ms(partial(index.top_k, k=TOP), queries),
            }  # fmt: skip
            for ef in EF_SEARCH:
                target.modify(configuration={"hnsw": {"ef_search": ef}})
                found = [
                    target.query(query_embeddings=q[None], n_results=TOP, include=[])["ids"][0]
                    for q in queries
                ]
                row[f"hnsw_ef{ef}_agreement"] = _agreement(found, exact)
                row[f"hnsw_ef{ef}_query_ms"] = _median_ms(
                    lambda q: target.query(query_embeddings=q[None], n_results=TOP, include=[]),
                    queries,
                )
            rows.append(row)
            print(row, flush=True)
    return rows


def store_query_ms(count: int, dim: int) -> dict[str, float]:
    """A whole ``Store.query`` (handle lookup, count, exact scan, metadata) when warm."""
    from mmdemo.config import Settings
    from mmdemo.store import Store

    vectors = make_vectors("random", count, dim, None, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Settings(data_dir=Path(tmp)))
        ids = [f"{i:07d}" for i in range(count)]
        for start in range(0, count, 1000):
            chunk = slice(start, start + 1000)
            store.add(
                "bench", "lite", ids[chunk], vectors[chunk], [{"caption": ""}] * len(ids[chunk])
            )
        queries = make_vectors("random", QUERIES, dim, None, seed=4)
        store.query("bench", "lite", queries[0], TOP)  # loads the vectors once
        return {
            "size": count,
            "dim": dim,
            "store_query_ms": _median_ms(lambda q: store.query("bench", "lite", q, TOP), queries),
        }


def run(
    quick: bool, emoji_dir: Path | None = None, builds: list[tuple[int, int]] | None = None
) -> dict[str, Any]:
    """The store section of bench/perf.py; ``builds`` default to :data:`HNSW_BUILDS`."""
    sizes = [2_000, 10_000] if quick else [10_000, 50_000, 100_000]
    seeds = lite_seeds(64 if quick else 400, emoji_dir)
    builds = builds or list(HNSW_BUILDS[:1] if quick else HNSW_BUILDS)
    series = []
    for build in builds:
        series += run_series("lite-like", seeds.shape[1], sizes, build, seeds)
        series += run_series("random", 512, sizes[:2] if not quick else sizes, build, None)
    switch = [store_query_ms(n, seeds.shape[1]) for n in (sizes[0], sizes[1] // 2)]
    return {"series": series, "store_query": switch}
