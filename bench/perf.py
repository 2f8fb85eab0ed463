"""The speed suite: every speed goal of issues 12 and 25, as ratios measured in one run.

    python -m bench.perf [--quick] [--out FILE.json] [--emoji-dir DIR] [--share-dir DIR]
                         [--sections ...]

Sections: ``ingest`` (end-to-end vs model-only throughput of ``lite`` and a random
ViT-B/32, bench/perf_ingest.py), ``precision`` (bf16 and int8 vs fp32: encode speed,
neighbour agreement and held-out relevance, bench/perf_precision.py),
``rerank`` (bench/perf_rerank.py when present: reranked vs plain search, cold vs warm),
``store`` (insert / query / top-50 agreement vs size, bench/perf_store.py), ``cli``
(start-up of each command, and a cold ``search`` process vs a warm in-process search) and
``memory`` (peak RSS of a 4x larger ingest, bench/ingest_scaling.py) and ``backends``
(ONNX Runtime and OpenVINO against torch, bench/backend_speed.py; last, as it points the
process at a temporary graph cache). Each figure is a min/median over repeats; ratios
compare runs made in this same process or run. The goals each section checks are printed
last, each beside its figure (bench/goals.py).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import backend_speed, perf_ingest, perf_precision, perf_store
from bench.goals import goals

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("ingest", "precision", "rerank", "store", "cli", "memory", "backends")


def _wall_ms(command: list[str], repeats: int) -> dict[str, float]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=True)
        times.append((time.perf_counter() - start) * 1e3)
    return {"min": round(min(times)), "median": round(statistics.median(times))}


def cli_section(quick: bool) -> dict[str, Any]:
    """Wall time of each command in a fresh process, and cold vs warm search."""
    from bench.ingest_scaling import make_images
    from mmdemo.config import Settings
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query
    from mmdemo.store import Store

    repeats = 1 if quick else 3
    mmdemo = [sys.executable, "-m", "mmdemo"]
    with tempfile.TemporaryDirectory() as tmp:
        folder, data = Path(tmp) / "images", ["--data-dir", str(Path(tmp) / "data")]
        make_images(folder, 8, 320, 240)
        index = [*mmdemo, "index", str(folder), "--collection", "c", "--model", "lite", *data]
        search_cmd = [*mmdemo, "search", "--collection", "c", "--text", "a dog", *data]
        rows = {"python -c pass": _wall_ms([sys.executable, "-c", "pass"], repeats)}
        rows["index (first, embeds 8)"] = _wall_ms(index, 1)
        for name, command in {
            "--help": [*mmdemo, "--help"],
            "models": [*mmdemo, "models"],
            "list": [*mmdemo, "list", *data],
            "index (all present)": index,
            "search (cold process)": search_cmd,
        }.items():
            rows[name] = _wall_ms(command, repeats)
        settings = Settings.from_env(data_dir=Path(tmp) / "data")
        store = Store(settings)
        query = Query(text="a dog")
        warm = []
        for _ in range(6):
            start = time.perf_counter()
            search(query, collection="c", model="lite", settings=settings, store=store)
            warm.append((time.perf_counter() - start) * 1e3)
    rows["search (warm, in process)"] = {
        "min": round(min(warm[1:])),
        "median": round(statistics.median(warm[1:])),
    }
    ratio = rows["search (cold process)"]["median"] / max(
        rows["search (warm, in process)"]["median"], 1
    )
    return {"wall_ms": rows, "search_cold_over_warm": round(ratio, 1)}


def memory_section(quick: bool) -> dict[str, Any]:
    """Peak RSS of a small and a 4x larger ingest, each in a fresh process."""
    sizes = (40, 120) if quick else (100, 400)
    rows = []
    for size in sizes:
        out = subprocess.run(
            [sys.executable, "-m", "bench.ingest_scaling", "--model", "lite", "--child", str(size)],
            capture_output=True, text=True, check=True, cwd=ROOT,
        )  # fmt: skip
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {
        "sizes": sizes,
        "runs": rows,
        "peak_ratio": round(rows[1]["peak_rss_mb"] / rows[0]["peak_rss_mb"], 3),
    }


def rerank_section(quick: bool) -> dict[str, Any]:
    """bench/perf_rerank.py's figures, or a note that it has not landed yet."""
    try:
        module = importlib.import_module("bench.perf_rerank")
    except ModuleNotFoundError as exc:
        if exc.name != "bench.perf_rerank":
            raise
        return {"skipped": "bench/perf_rerank.py is not in this checkout"}
    result: dict[str, Any] = module.run(quick)
    return result


def _builds(specs: list[str] | None) -> list[tuple[int, int]] | None:
    """``["400x32"]`` -> ``[(400, 32)]``."""
    if not specs:
        return None
    return [(int(a), int(b)) for a, b in (spec.split("x") for spec in specs)]


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return out.stdout.strip() or "unknown"


def _print_table(results: dict[str, Any]) -> None:
    """A short human table of the headline figures."""
    for row in results.get("ingest", {}).get("rows", []):
        ratios = f"{row['ratio_median']} (median), {row['ratio_best']} (best)"
        print(f"ingest {row['model']:>10}, {row['image_set']:>6}: e2e / model-only = {ratios}")
        pairs = f"{row['pair_ratio_median']}, to model work {row['pair_ratio_to_model_work']}"
        print(f"{'':25} median of repeats' own ratios: {pairs}")
        print(f"{'':25} per CPU-second: {row['cpu_ratio_median']}")
    if "jpeg_12mp_decode" in results.get("ingest", {}):
        decode = results["ingest"]["jpeg_12mp_decode"]
        print(f"12 MP JPEG to model input, full vs draft decode: {decode}")
    for row in results.get("precision", {}).get("rows", []):
        for precision, speed in row["speed"].items():
            quality = row["quality"][precision]
            relevance = {k: v for k, v in quality.items() if isinstance(v, dict)}
            print(
                f"precision {row['model']:>8} {precision}: image x{speed['image_ratio_median']} "
                f"query x{speed['query_ratio_median']} (median vs fp32), "
                f"top-5 agreement {quality['top5_agreement']} {json.dumps(relevance)}"
            )
    for row in results.get("store", {}).get("series", []):
        build = f"efC{row['ef_construction']}/M{row['max_neighbors']}"
        hnsw = "  ".join(
            f"ef{e}: agree {row[f'hnsw_ef{e}_agreement']:.3f} {row[f'hnsw_ef{e}_query_ms']:.1f} ms"
            for e in perf_store.EF_BY_KIND[row["kind"]]
        )
        print(
            f"store {row['kind']:>9} {row['dim']:5d}-d {row['size']:7d} {build}: "
            f"insert {row['insert_per_s']:7.1f}/s ({row['insert_over_embed']}x lite)  "
            f"exact {row['exact_query_ms']:6.2f} ms (f16 scan {row['exact_f16_ms']} ms)  {hnsw}"
        )
    for row in results.get("store", {}).get("store_query", []):
        print(f"Store.query {row['size']:7d} x {row['dim']}-d: {row['store_query_ms']} ms (median)")
    for name, times in results.get("cli", {}).get("wall_ms", {}).items():
        print(f"cli {name:>26}: {times['median']:6d} ms median ({times['min']} min)")
    if "cli" in results:
        print(f"search cold process / warm in-process: {results['cli']['search_cold_over_warm']}x")
    if "memory" in results:
        print(f"peak RSS {results['memory']['sizes']}: {results['memory']['peak_ratio']}x")
    if "rerank" in results:
        print(f"rerank: {json.dumps(results['rerank'])[:400]}")


def main() -> None:
    """Run the chosen sections, print the table and write the JSON."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and fewer repeats")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument(
        "--emoji-dir", type=Path, help="npm emoji package/ folder (lite-like seeds)"
    )
    parser.add_argument(
        "--share-dir", type=Path, help="usr/share holding tuxpaint/ (held-out tux-test relevance)"
    )
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument(
        "--hnsw", nargs="+", metavar="EFCxM", help="HNSW builds to measure, e.g. 400x32 100x16"
    )
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    runners: dict[str, Callable[[], Any]] = {
        "ingest": lambda: perf_ingest.run(args.quick),
        "precision": lambda: perf_precision.run(args.quick, args.share_dir),
        "rerank": lambda: rerank_section(args.quick),
        "store": lambda: perf_store.run(args.quick, args.emoji_dir, _builds(args.hnsw)),
        "cli": lambda: cli_section(args.quick),
        "memory": lambda: memory_section(args.quick),
        "backends": lambda: backend_speed.run(args.quick),
    }
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "commit": _commit(),
        "quick": args.quick,
        "seconds": {},
    }
    for name in args.sections:
        start = time.perf_counter()
        results[name] = runners[name]()
        results["seconds"][name] = round(time.perf_counter() - start, 1)
        print(f"[{name} done in {results['seconds'][name]} s]", flush=True)
    _print_table(results)
    load = Path("/proc/loadavg").read_text().split()[0]
    print("\n".join(["", f"Goals (load average {load}):", *goals(results)]))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
