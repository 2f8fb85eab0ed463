"""Rerank latency as ratios measured in one process (issue 12's rerank goals).

On a collection of the demo photos plus transformed copies (56 images, indexed with the
``lite`` embedder), it times, with min/median over repeats:

- plain warm search vs warm search reranked with ``lite`` over the top 20 (goal <= 1.5x);
- the first reranked search after start-up, with and without the app's warm-up
  (:func:`mmdemo.search.engine.warm_up`), vs a warm one (goal <= 2x with warm-up);
- reranking from stored features vs recomputing them from the images every time;
- a one-text query through sentence-transformers' ``encode`` vs through
  :meth:`mmdemo.embed.Embedder.encode_texts` (the same vectors without ``encode``'s
  per-call set-up);
- a single text-query encode and a reranked search with 1 torch thread vs the default
  (by setting what the runtime's ``threads.single_query`` uses).

``run(quick)`` returns the figures as a dict (``bench/perf.py`` imports it);
``python -m bench.perf_rerank [--quick] [--out FILE]`` prints them as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageEnhance, ImageOps

from mmdemo.demos import PHOTOS_DIR as PHOTOS
from mmdemo.demos import SAMPLE_PHOTOS

COLLECTION = "perf"
MODEL = "lite"
RERANKER = "lite"
QUERIES = ("a space rocket", "a cup of coffee", "a tabby cat", "old coins", "a flower")


def make_images(folder: Path) -> None:
    """The demo photos and three transformed copies of each (distinct bytes, same content)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted(PHOTOS / name for name in SAMPLE_PHOTOS):
        image = Image.open(path).convert("RGB")
        width, height = image.size
        variants = {
            "": image,
            "-mirror": ImageOps.mirror(image),
            "-crop": image.crop((width // 8, height // 8, width * 7 // 8, height * 7 // 8)),
            "-warm": ImageEnhance.Color(image).enhance(1.6),
        }
        for suffix, variant in variants.items():
            variant.save(folder / f"{path.stem}{suffix}.jpg", quality=90)


def timed(action: Callable[[], object], repeats: int) -> dict[str, float]:
    """min and median wall milliseconds of ``repeats`` calls."""
    spans = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        spans.append((time.perf_counter() - start) * 1000.0)
    return {"min_ms": round(min(spans), 1), "median_ms": round(statistics.median(spans), 1)}


def ratio(slow: dict[str, float], fast: dict[str, float]) -> dict[str, float]:
    """``slow / fast`` of the min and of the median."""
    return {
        "min": round(slow["min_ms"] / fast["min_ms"], 2),
        "median": round(slow["median_ms"] / fast["median_ms"], 2),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Measure everything listed in the module docstring; returns ratios and raw timings."""
    import torch

    from mmdemo.config import Settings
    from mmdemo.ingest.indexer import index_paths
    from mmdemo.models.loading import load_embedder, load_reranker
    from mmdemo.runtime import default_runtime
    from mmdemo.search.engine import search, warm_up
    from mmdemo.search.query import Query
    from mmdemo.store import Store

    repeats = 3 if quick else 9
    governor = default_runtime().threads  # the searches' (their Store passes none)
    root = Path(tempfile.mkdtemp(prefix="perf-rerank-"))
    try:
        make_images(root / "images")
        settings = Settings(data_dir=root / "data", device="cpu")
        store = Store(settings)
        index_paths(
            [root / "images"], collection=COLLECTION, models=[MODEL], settings=settings, store=store
        )
        features = load_reranker(RERANKER, settings).feature_store(settings)
        assert features is not None, f"{RERANKER} stores no per-image features"
        turn = iter(range(10**9))

        def one(reranker: str | None) -> Callable[[], object]:
            def action() -> object:
                text = QUERIES[next(turn) % len(QUERIES)]
                return search(
                    Query(text=text),
                    collection=COLLECTION,
                    model=MODEL,
                    settings=settings,
                    store=store,
                    reranker=reranker,
                    top_k=10,
                )

            return action

        def cold_first(warm: bool) -> dict[str, float]:
            default_runtime().models.clear()
            if warm:
                warm_up(
                    collection=COLLECTION,
                    model=MODEL,
                    reranker=RERANKER,
                    settings=settings,
                    store=store,
                )
            return timed(one(RERANKER), 1)

        def recomputed() -> object:
            shutil.rmtree(features.folder, ignore_errors=True)
            load_reranker(RERANKER, settings).feature_rows.clear()  # kept rows too
            return one(RERANKER)()

        first_cold = cold_first(warm=False)
        first_warmed = cold_first(warm=True)
        one(RERANKER)()
        plain = timed(one(None), repeats)
        reranked = timed(one(RERANKER), repeats)
        recompute = timed(recomputed, repeats)
        one(RERANKER)()
        embedder = load_embedder(MODEL, settings)
        default_threads = torch.get_num_threads()

        def encode_one() -> object:
            with governor.single_query():
                return embedder.encode_texts(["a space rocket"])

        def library_encode_one() -> object:
            # sentence-transformers' own encode, which encode_texts no longer calls.
            with governor.single_query(), embedder.inference():
                return embedder.model.encode(["a space rocket"])

        query_encode = timed(encode_one, repeats * 3)
        library_encode = timed(library_encode_one, repeats * 3)
        chosen = governor.threads
        threads: dict[str, Any] = {}
        for count in sorted({1, default_threads}):
            governor.threads = count
            threads[str(count)] = {
                "text_encode": timed(encode_one, repeats * 3),
                "reranked_search": timed(one(RERANKER), repeats),
            }
        governor.threads = chosen
        return {
            "images": len(list((root / "images").iterdir())),
            "repeats": repeats,
            "reranked_vs_plain": ratio(reranked, plain),
            "first_after_start_vs_warm": ratio(first_cold, reranked),
            "first_after_warm_up_vs_warm": ratio(first_warmed, reranked),
            "recomputed_vs_stored_features": ratio(recompute, reranked),
            "library_encode_vs_query_encode": ratio(library_encode, query_encode),
            "timings": {
                "plain": plain,
                "reranked": reranked,
                "first_cold": first_cold,
                "first_after_warm_up": first_warmed,
                "recomputed": recompute,
                "query_encode": query_encode,
                "library_encode": library_encode,
            },
            "threads": threads,
            "default_threads": default_threads,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    """Run and print (and optionally write) the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    figures = run(args.quick)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
