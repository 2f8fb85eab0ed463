"""Does fine-tuning help? ``lite`` fine-tuned on captioned images it was never built from.

Data: Tux Paint photo cut-outs of the dev and test splits (152 images; lite's projection
was trained on tux-train, emoji and clipart only). Each run goes through the library the
CLI uses (index with lite, :func:`mmdemo.finetune.run.finetune`, before/after through
``evaluate``) with 30 % held out:

- by concept: held-out captions never appear in training;
- by image: held-out images; their concepts may also have training images (rare here).

``--clipart-pairs N`` runs both splits on N openclipart drawings after the first 2998 of
the fixed order (20 % held out, as ``bench/finetune_sweep.py`` splits them). Then a timing
run on about 1,000 (caption, image) pairs of those drawings, with the default recipe.
``--out`` saves every run's facts (the model card's), its process CPU seconds and the load
average as JSON.

    python -m bench.finetune_lite --share-dir /usr/share --cache-dir /tmp/clipart \
        --clipart-pairs 1000 --out bench/results/finetune_lite.json
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
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


def cpu_seconds() -> float:
    """User plus system CPU seconds this process has used so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run(settings: Settings, folder: Path, collection: str, **options: Any) -> dict[str, Any]:
    """One fine-tune of ``collection``; its facts plus the CPU seconds and load it ran at."""
    name = "-".join([collection, *(str(v) for v in options.values())])
    request = FinetuneRequest(collection, "lite", folder / f"tuned-{name}", **options)
    load, cpu = os.getloadavg()[0], cpu_seconds()
    facts = finetune(request, settings=settings, store=Store(settings)).facts
    return facts | {
        "process_cpu_seconds": round(cpu_seconds() - cpu, 1),
        "load_average": [round(load, 1), round(os.getloadavg()[0], 1)],
    }


def _record(
    runs: dict[str, dict[str, Any]], name: str, facts: dict[str, Any], out: Path | None
) -> None:
    """Print one run, add it to ``runs`` and rewrite ``out``, so a stopped bench keeps it."""
    _print(name, facts)
    runs[name] = facts
    if out:
        report = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs}
        out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _splits(
    settings: Settings, folder: Path, collection: str, eval_split: float
) -> Iterator[tuple[str, dict[str, Any]]]:
    """Fine-tune the indexed ``collection`` by concept, then by image."""
    for split_by in ("caption", "image"):
        facts = _run(settings, folder, collection, eval_split=eval_split, split_by=split_by)
        yield f"{collection} by {split_by}", facts


def _print(name: str, facts: dict[str, Any]) -> None:
    print(
        f"\n{name}: {facts['train_pairs']} train pairs, {facts['eval_queries']} held-out "
        f"queries, {facts['steps']} steps, {facts['train_seconds']:.1f} s training, "
        f"{facts['process_cpu_seconds']:.0f} CPU-s in all, load {facts['load_average']}, "
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
    parser.add_argument("--clipart-pairs", type=int, default=0)
    parser.add_argument("--eval-split", type=float, default=0.3)
    parser.add_argument("--out", type=Path, help="write every run's facts here as JSON")
    args = parser.parse_args()
    tux = tux_items(args.share_dir, "dev") + tux_items(args.share_dir, "test")
    runs: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as tmp:
        folder = Path(tmp)
        settings = Settings(data_dir=folder / "data", device="cpu")
        _index(tux, folder, settings, "tux")
        for name, facts in _splits(settings, folder, "tux", args.eval_split):
            _record(runs, name, facts, args.out)
        if args.clipart_pairs:
            clipart = clipart_items(
                args.share_dir, args.cache_dir, args.clipart_pairs, skip=LITE_CLIPART
            )
            _index(clipart, folder, settings, "clipart")
            for name, facts in _splits(settings, folder, "clipart", 0.2):
                _record(runs, name, facts, args.out)
        if args.timing_pairs:
            clipart = clipart_items(
                args.share_dir, args.cache_dir, args.timing_pairs, skip=LITE_CLIPART
            )
            seconds = _index(clipart, folder, settings, "clipart-unseen")
            print(f"\nindexed {len(clipart)} clipart images with lite in {seconds:.1f} s")
            facts = _run(settings, folder, "clipart-unseen", eval_split=0.1)
            _record(runs, "clipart timing", facts, args.out)


if __name__ == "__main__":
    main()
