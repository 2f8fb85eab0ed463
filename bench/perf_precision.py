"""Precision: bf16 autocast and dynamic int8 vs fp32, speed and relevance, in one process.

For each model every precision is loaded through the app's one loading path
(``Settings(precision=...)``). Speed: image encode throughput (batches of 32) and single
text-query encode throughput (one thread, as a search runs it), the precisions alternating
within each repeat; ratios are of medians (and of best runs) against fp32. Relevance: each
image's 5 nearest neighbours (image -> image) at that precision vs at fp32, and for
``lite`` the held-out nDCG@10 / R@10 of the caption queries on tux-test and on the photos
(bench/offline_data.py). A random-weight ViT-B/32 gets speed and neighbour agreement only:
its relevance means nothing.

    python -m bench.perf_precision [--quick] [--share-dir /usr/share]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.offline_data import Item, load_image, photo_items, tux_items
from bench.scoring_eval import caption_queries, evaluate_scores

PRECISIONS = ("fp32", "bf16", "int8")
QUERIES = ("a dog", "a red apple on a table", "a koala", "a rocket launch", "a cup of coffee")
NEIGHBOURS = 5


def _seconds(work: Callable[[], object]) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def neighbour_agreement(reference: np.ndarray, other: np.ndarray, k: int = NEIGHBOURS) -> float:
    """Mean share of each row's ``k`` nearest rows (itself excluded) that both embeddings keep."""

    def neighbours(vectors: np.ndarray) -> np.ndarray:
        similarity = vectors @ vectors.T
        np.fill_diagonal(similarity, -np.inf)
        return np.argsort(-similarity, axis=1, kind="stable")[:, :k]

    ours, theirs = neighbours(reference), neighbours(other)
    shared = [len(set(a) & set(b)) / k for a, b in zip(ours, theirs, strict=True)]
    return round(float(np.mean(shared)), 3)


def speed(handles: dict[str, Any], images: list[Image.Image], repeats: int) -> dict[str, Any]:
    """Images/s and queries/s of each precision, and their ratios to fp32."""
    from mmdemo.runtime import default_runtime

    def queries(handle: Any) -> None:
        with default_runtime().threads.single_query():
            for query in QUERIES:
                handle.encode_texts([query])

    times: dict[str, dict[str, list[float]]] = {p: {"image": [], "query": []} for p in handles}
    for handle in handles.values():  # warm-up: first calls pay one-off set-up
        handle.encode_images(images[:2])
        queries(handle)
    for _ in range(repeats):
        for precision, handle in handles.items():
            times[precision]["image"].append(_seconds(partial(handle.encode_images, images)))
            times[precision]["query"].append(_seconds(partial(queries, handle)))
    counts = {"image": len(images), "query": len(QUERIES)}
    rows: dict[str, Any] = {}
    for precision, by_kind in times.items():
        row: dict[str, Any] = {}
        for kind, seconds in by_kind.items():
            base, median = times["fp32"][kind], statistics.median(seconds)
            row[f"{kind}_per_s_median"] = round(counts[kind] / median, 2)
            row[f"{kind}_ratio_median"] = round(statistics.median(base) / median, 3)
            row[f"{kind}_ratio_best"] = round(min(base) / min(seconds), 3)
        rows[precision] = row
    return rows


def _corpora(share_dir: Path | None) -> dict[str, list[Item]]:
    """The held-out test corpora: tux-test (when the Tux Paint stamps are there) and photos."""
    corpora = {"photos": photo_items()}
    if share_dir is not None and (share_dir / "tuxpaint").is_dir():
        corpora = {"tux-test": tux_items(share_dir, "test"), **corpora}
    return corpora


def relevance(handle: Any, items: list[Item], image_vectors: np.ndarray) -> dict[str, float]:
    """nDCG@10 and R@10 of one query per caption over ``items``."""
    queries, relevant = caption_queries(items)
    metrics = evaluate_scores(handle.encode_texts(queries) @ image_vectors.T, relevant)
    return {name: metrics[name] for name in ("nDCG@10", "R@10")}


def quality(
    handles: dict[str, Any], corpora: dict[str, list[Item]], with_relevance: bool
) -> dict[str, Any]:
    """Neighbour agreement with fp32 (all corpora pooled) and, if asked, relevance per corpus."""
    items = [item for corpus in corpora.values() for item in corpus]
    images = [load_image(item) for item in items]
    vectors = {p: handle.encode_images(images) for p, handle in handles.items()}
    rows: dict[str, Any] = {"images": len(items)}
    for precision, handle in handles.items():
        row: dict[str, Any] = {
            "top5_agreement": neighbour_agreement(vectors["fp32"], vectors[precision])
        }
        start = 0
        for name, corpus in corpora.items() if with_relevance else ():
            part = vectors[precision][start : start + len(corpus)]
            start += len(corpus)
            row[name] = relevance(handle, corpus, part)
        rows[precision] = row
    return rows


def measure(
    model: str, corpora: dict[str, list[Item]], count: int, repeats: int, with_relevance: bool
) -> dict[str, Any]:
    """Speed and quality of every precision of ``model``."""
    from bench.ingest_scaling import make_images
    from mmdemo.config import Settings
    from mmdemo.ingest.images import decode_image, fit_for_models
    from mmdemo.models.loading import load_embedder
    from mmdemo.runtime import default_runtime

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        make_images(folder, count, 640, 480)
        files = sorted(folder.iterdir())
        images = [fit_for_models(decode_image(f.read_bytes()).image) for f in files]
        handles = {
            p: load_embedder(model, Settings(data_dir=Path(tmp), precision=p, max_models=8))
            for p in PRECISIONS
        }
        result = {
            "model": Path(model).name,
            "speed": speed(handles, images, repeats),
            "quality": quality(handles, corpora, with_relevance),
        }
    default_runtime().models.clear()
    print(json.dumps(result), flush=True)
    return result


def run(quick: bool, share_dir: Path | None) -> dict[str, Any]:
    """The precision section of bench/perf.py: lite and a random-weight ViT-B/32."""
    from bench.perf_ingest import vit_b32

    corpora = _corpora(None if quick else share_dir)
    rows = [measure("lite", corpora, 16 if quick else 32, 2 if quick else 3, True)]
    if not quick:
        rows.append(measure("lite-b2", corpora, 16, 2, True))
    rows.append(measure(vit_b32(), corpora, 8 if quick else 32, 2 if quick else 3, False))
    return {"rows": rows}


def main() -> None:
    """Runs the precision benchmark on its own."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="photos only, fewer repeats")
    parser.add_argument("--share-dir", type=Path, help="the usr/share holding tuxpaint/")
    args = parser.parse_args()
    run(args.quick, args.share_dir)


if __name__ == "__main__":
    main()
