"""Does fine-tuning help? ``lite`` fine-tuned on captioned images it was never built from.

Data: Tux Paint photo cut-outs of the dev and test splits (152 images; lite's projection
was trained on tux-train, emoji and clipart only). Each run goes through the library the
CLI uses (index with lite, :func:`mmdemo.finetune.run.finetune`, before/after through
``evaluate``) with 30 % held out:

- by concept: held-out captions never appear in training;
- by image: held-out images; their concepts may also have training images (rare here).

Then a timing run on about 1,000 (caption, image) pairs of openclipart drawings that lite
was not trained on (after the first 2998 of the fixed order), with the default recipe.

    python -m bench.finetune_lite --share-dir /usr/share --cache-dir /tmp/clipart
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.offline_data import Item, clipart_items, tux_items
from mmdemo.config import Settings
from mmdemo.finetune.run import FinetuneRequest, finetune
from mmdemo.ingest.indexer import index_paths
from mmdemo.store import Store

LITE_CLIPART = 2998


def _index(items: list[Item], folder: Path, settings: Settings, collection: str) -> float:
    """Copy ``items`` with unique names plus a captions CSV, index with lite; seconds taken."""
    images = folder / collection
    images.mkdir(parents=True)
    with (folder / f"{collection}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["file_name", "caption"])
        for number, item in enumerate(items):
            name = f"{number:05d}{item.path.suffix}"
            shutil.copyfile(item.path, images / name)
            writer.writerow([name, item.caption])
    start = time.perf_counter()
    index_paths(
        [images],
        collection=collection,
        models=["lite"],
        settings=settings,
        store=Store(settings),
        captions=folder / f"{collection}.csv",
    )
    return time.perf_counter() - start


def _run(settings: Settings, folder: Path, collection: str, **options: Any) -> dict[str, Any]:
    request = FinetuneRequest(collection, "lite", folder / f"tuned-{collection}", **options)
    return finetune(request, settings=settings, store=Store(settings)).facts


def _print(name: str, facts: dict[str, Any]) -> None:
    print(
        f"\n{name}: {facts['train_pairs']} train pairs, {facts['eval_queries']} held-out "
        f"queries, {facts['steps']} steps, {facts['train_seconds']:.1f} s, "
        f"loss {facts['losses'][0]:.3f} -> {facts['final_loss']:.3f}"
    )
    for metric, before in facts["before"].items():
        after = facts["after"][metric]
        print(f"  {metric:10} {before:.3f} -> {after:.3f} ({after - before:+.3f})")


def main() -> None:
    """Run the by-concept and by-image splits, then the 1,000-pair timing run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--share-dir", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/mmdemo-clipart"))
    parser.add_argument("--timing-pairs", type=int, default=1000)
    parser.add_argument("--eval-split", type=float, default=0.3)
    args = parser.parse_args()
    tux = tux_items(args.share_dir, "dev") + tux_items(args.share_dir, "test")
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data", device="cpu")
        for split_by in ("caption", "image"):
            collection = f"tux-by-{split_by}"
            _index(tux, folder, settings, collection)
            facts = _run(
                settings, folder, collection, eval_split=args.eval_split, split_by=split_by
            )
            _print(f"tux dev+test, split by {split_by}", facts)
        if args.timing_pairs:
            clipart = clipart_items(
                args.share_dir, args.cache_dir, args.timing_pairs, skip=LITE_CLIPART
            )
            seconds = _index(clipart, folder, settings, "clipart-unseen")
            print(f"\nindexed {len(clipart)} clipart images with lite in {seconds:.1f} s")
            _print("clipart (timing run)", _run(settings, folder, "clipart-unseen", eval_split=0.1))


if __name__ == "__main__":
    main()
