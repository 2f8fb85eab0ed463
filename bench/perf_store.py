"""Store scaling: insert rate, query time and top-50 agreement with exact search vs size.

Sets ``HNSW_CONFIGURATION`` in ``mmdemo/store/handles.py`` and ``EXACT_MAX_FLOATS`` in
``mmdemo/exact.py``.

    python -m bench.perf_store --emoji-dir DIR --kinds lite-like --hnsw 100x16 --out F.json

Vectors go straight into Chroma collections made with each HNSW setting (batches of 32, as
the indexer adds them); at each checkpoint size it measures the insert rate of the last
segment (also as a ratio to the ``lite`` embedder's images/s, measured in the same run),
HNSW query time and top-50 agreement with exact search at several ef_search (each read
from disk by a fresh client), the exact scan's time (mmdemo.exact: float32 through BLAS,
and float16 as numpy computes it) and a whole ``Store.query``.

Two kinds of vectors, both 1664-d like ``lite``: ``random`` unit vectors (the worst case
for HNSW) and ``lite-like``: the ``lite`` embeddings of 1,000 emoji images (64 px PNGs of
the npm emoji package), each vector a random mix of two of them plus noise of norm 0.3,
renormalised (real embeddings sit on a low-dimensional, clustered manifold).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo.compat import forget_chroma_system
from mmdemo.exact import ExactIndex
from mmdemo.store import HNSW_CONFIGURATION

if TYPE_CHECKING:
    from chromadb.api.collection_configuration import CreateHNSWConfiguration

TOP = 50
QUERIES = 30
ADD_BATCH = 32
#: (ef_construction, max_neighbors); ef_search is varied at query time. The first is what
#: new collections get (mmdemo.store.HNSW_CONFIGURATION); the second, older stores' build.
HNSW_BUILDS = ((100, 16), (400, 32))
#: 1024 is new collections' own ef_search (mmdemo.store.handles.HNSW_CONFIGURATION).
EF_SEARCH = (128, 512, 1024, 2048)
KINDS = ("lite-like", "random")
#: ef_search values measured per kind: the sweep on real-looking vectors; random ones (the
#: worst case) only at new collections' own setting, as reopening the index for each value
#: costs seconds at 100k and kept the full bench over its 15 minutes.
EF_BY_KIND = {"lite-like": EF_SEARCH, "random": (HNSW_CONFIGURATION["ef_search"],)}
#: The largest random-vector size of the one bench's default sizes (see :func:`run`).
RANDOM_MAX = 50_000


def unit(rows: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length."""
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def lite_seeds(count: int, emoji_dir: Path | None) -> tuple[np.ndarray, float]:
    """``lite`` embeddings of ``count`` real images (emoji when given, else generated), and
    the embedder's rate in images per second while making them (the insert yardstick)."""
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
    embedder = load_embedder("lite", Settings.from_env())
    embedder.encode_images(images[:8])  # warm-up, not timed
    start = time.perf_counter()
    seeds = embedder.encode_images(images)
    return seeds, round(len(images) / (time.perf_counter() - start), 2)


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


def _reopened(folder: str) -> Any:
    """The bench collection through a fresh client, so its HNSW index (and ef_search) is
    read from disk again: a process's loaded index keeps the settings it was loaded with."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    forget_chroma_system(folder)
    client = chromadb.PersistentClient(folder, settings=ChromaSettings(anonymized_telemetry=False))
    return client.get_collection("bench")


def scan_ms(vectors: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """Median ms of one exact cosine scan: float32 (BLAS), and float16 as numpy has it."""
    half = vectors.astype(np.float16)
    few = queries[:3]
    return {
        "exact_f32_ms": _median_ms(lambda q: vectors @ q, queries),
        "exact_f16_ms": _median_ms(lambda q: half @ q.astype(np.float16), few),
    }


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
            "bench", configuration={"hnsw": hnsw}, embedding_function=None
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
                **scan_ms(index.vectors, queries),
                "load_average": round(os.getloadavg()[0], 1),
            }  # fmt: skip
            for ef in EF_BY_KIND[kind]:
                target.modify(configuration={"hnsw": {"ef_search": ef}})
                target = _reopened(tmp)
                search = partial(target.query, n_results=TOP, include=[])
                found = [search(query_embeddings=q[None])["ids"][0] for q in queries]
                row[f"hnsw_ef{ef}_agreement"] = _agreement(found, exact)
                row[f"hnsw_ef{ef}_query_ms"] = _median_ms(
                    lambda q, search=search: search(query_embeddings=q[None]), queries
                )
            rows.append(row)
            print(row, flush=True)
    return rows


def store_query_ms(count: int, seeds: np.ndarray | None) -> dict[str, float]:
    """A whole ``Store.query`` (handle lookup, count, exact scan or HNSW, metadata) when
    warm, on lite-like vectors (random ones without ``seeds``)."""
    from mmdemo.config import Settings
    from mmdemo.store import Store

    dim = seeds.shape[1] if seeds is not None else 1664
    vectors = make_vectors("lite-like", count, dim, seeds, seed=3)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Settings(data_dir=Path(tmp)))
        ids = [f"{i:07d}" for i in range(count)]
        for start in range(0, count, 1000):
            chunk = slice(start, start + 1000)
            store.add(
                "bench", "lite", ids[chunk], vectors[chunk], [{"caption": ""}] * len(ids[chunk])
            )
        queries = make_vectors("lite-like", QUERIES, dim, seeds, seed=4)
        store.query("bench", "lite", queries[0], TOP)  # loads the vectors once
        return {
            "size": count,
            "dim": dim,
            "store_query_ms": _median_ms(lambda q: store.query("bench", "lite", q, TOP), queries),
        }


def _sizes_for(kind: str, chosen: list[int], given: list[int] | None) -> list[int]:
    """Random vectors insert at a third of lite-like ones' rate (5.7 minutes for 100k), so
    the one bench's default sizes stop them at :data:`RANDOM_MAX`; sizes given are kept."""
    if given or kind != "random":
        return chosen
    return [n for n in chosen if n <= RANDOM_MAX]


def run(
    quick: bool,
    emoji_dir: Path | None = None,
    builds: list[tuple[int, int]] | None = None,
    kinds: tuple[str, ...] = KINDS,
    sizes: list[int] | None = None,
) -> dict[str, Any]:
    """The store section of bench/perf.py; ``builds`` default to :data:`HNSW_BUILDS`.

    Every insert rate is also given as a ratio to the ``lite`` embedder's images/s measured
    in this run (the issue's goal: the store inserts >= 10x faster than lite embeds).
    """
    chosen = sizes or ([2_000, 6_000] if quick else [10_000, 50_000, 100_000])
    seeds, embed_rate = lite_seeds(64 if quick else 1000, emoji_dir)
    builds = builds or list(HNSW_BUILDS[:1])
    series = []
    for build in builds:
        for kind in kinds:
            kind_sizes = _sizes_for(kind, chosen, sizes)
            series += run_series(kind, seeds.shape[1], kind_sizes, build, seeds)
    for row in series:
        row["insert_over_embed"] = round(row["insert_per_s"] / embed_rate, 1)
    # The smallest size scans exactly; the largest is the 100k through HNSW.
    switch = [store_query_ms(n, seeds) for n in (chosen[0], chosen[-1])]
    return {"embed_images_per_s": embed_rate, "series": series, "store_query": switch}


def main() -> None:
    """One store series from the command line (the long 100k runs), written as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emoji-dir", type=Path)
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--hnsw", nargs="+", default=["100x16"], help="EFCxM builds")
    parser.add_argument("--sizes", nargs="+", type=int, default=[10_000, 50_000, 100_000])
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    builds = [(int(a), int(b)) for a, b in (spec.split("x") for spec in args.hnsw)]
    result = run(False, args.emoji_dir, builds, tuple(args.kinds), args.sizes)
    args.out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
