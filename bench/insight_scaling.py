"""Map and near-duplicate timings on 10k synthetic embeddings (no model needed).

Vectors: ``--n`` unit vectors in ``--dim`` dimensions around 50 cluster centres, plus 1 %
planted near-copies. Times, once each (run it once; the machine is noisy):
- map compute: PCA + t-SNE + k-means (done once per collection version, then cached);
- map render: reading the cached map JSON and drawing the SVG the page shows;
- duplicates: ``find_duplicates`` through the store's batched neighbour search.

    python -m bench.insight_scaling --n 10000
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np


def vectors(n: int, dim: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dim))
    rows = centres[rng.integers(0, 50, n)] + rng.normal(scale=0.6, size=(n, dim))
    copies = rows[: n // 100] + rng.normal(scale=0.02, size=(n // 100, dim))
    rows[n - n // 100 :] = copies
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    from mmdemo.config import Settings
    from mmdemo.evaluate import collection_map as cmap
    from mmdemo.evaluate.clusters import cluster, label_clusters
    from mmdemo.evaluate.duplicates import find_duplicates
    from mmdemo.evaluate.projection import project
    from mmdemo.evaluate.scatter import svg
    from mmdemo.store import Store

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=512)
    args = parser.parse_args()
    data = vectors(args.n, args.dim)
    ids = [f"item{i:06d}" for i in range(args.n)]

    start = time.perf_counter()
    xy, labels = project(data), cluster(data)
    names = label_clusters(data, labels, [], np.zeros((0, args.dim)))
    print(f"map compute (once, cached after): {time.perf_counter() - start:.1f} s")
    points = [
        cmap.MapPoint(i, float(x), float(y), int(c), f"{i}.jpg", f"caption {i}")
        for i, (x, y), c in zip(ids, xy, labels, strict=True)
    ]
    found = cmap.CollectionMap("bench", "m", "v", points, names)
    cache = Path(tempfile.mkdtemp()) / "map.json"
    cache.write_text(json.dumps(found.to_json()))
    start = time.perf_counter()
    loaded = cmap.CollectionMap.from_json(json.loads(cache.read_text()))
    markup = svg(loaded, lambda i: f"/gradio_api/file=/thumbs/{i}.jpg")
    took = time.perf_counter() - start
    print(f"map render from cache: {took:.2f} s, {len(markup) / 1e6:.1f} MB of markup")

    store = Store(Settings.from_env(data_dir=Path(tempfile.mkdtemp())))
    start = time.perf_counter()
    store.add("bench", "m", ids, data, [{"file_name": f"{i}.jpg"} for i in ids])
    print(f"(store add: {time.perf_counter() - start:.1f} s)")
    start = time.perf_counter()
    groups = find_duplicates(store, "bench", "m")
    took = time.perf_counter() - start
    print(f"duplicates: {took:.1f} s, {len(groups)} groups ({args.n // 100} planted)")


if __name__ == "__main__":
    main()
