"""Concurrent searches through the library alone: what the search work costs under 8 threads.

The same shape as bench/concurrent_search.py (a single warm search, then ``--clients``
threads released together, ``--rounds`` searches each) but calling
``mmdemo.search.engine.search`` in one process, without gradio, HTTP or client threads: it
shows how much of the API's p95 the search work itself (query encode, store, rerank)
accounts for. Each ``--app-root`` runs in its own process, in turn, on the same data dir.

    python3 -m bench.concurrent_library --data-dir DIR --app-root /tmp/before --app-root .

``DIR`` is a data dir with the ``demo`` collection indexed with ``lite`` (e.g. the one a
bench/concurrent_search.py run leaves under /tmp/mmdemo-bench-*/data).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench.concurrent_search import QUERIES, percentile


def measure(data_dir: Path, reranker: str | None, clients: int, rounds: int) -> str:
    """Single warm median, then p50/p95 under ``clients`` threads; one line of figures."""
    from mmdemo.config import Settings
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query
    from mmdemo.store import Store

    settings = Settings.from_env(data_dir=data_dir)
    store = Store(settings)

    def one(text: str) -> float:
        start = time.perf_counter()
        query = Query(text)
        search(query, collection="demo", model="lite", settings=settings, store=store,
               reranker=reranker)  # fmt: skip
        return time.perf_counter() - start

    for text in QUERIES:
        one(text)
    base = statistics.median(one(QUERIES[i % len(QUERIES)]) for i in range(15))
    times: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def run(index: int) -> None:
        barrier.wait()
        for r in range(rounds):
            took = one(QUERIES[(index + r) % len(QUERIES)])
            with lock:
                times.append(took)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    p95 = percentile(times, 0.95)
    return (
        f"single median {base * 1000:.0f} ms; {clients} threads x {rounds}: "
        f"p50 {percentile(times, 0.5) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"p95 / single {p95 / base:.2f}; load average {os.getloadavg()[0]:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--app-root", type=Path, action="append")
    parser.add_argument("--reranker", default="none", help='a reranker preset, or "none"')
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    roots = args.app_root or [Path(__file__).resolve().parents[1]]
    if args.child:
        sys.path.insert(0, str(roots[0].resolve()))  # that checkout's mmdemo, not this one's
        reranker = None if args.reranker == "none" else args.reranker
        print(measure(args.data_dir, reranker, args.clients, args.rounds))
        return
    for root in roots:
        command = [sys.executable, "-m", "bench.concurrent_library", "--child"]
        command += ["--app-root", str(root), "--data-dir", str(args.data_dir)]
        command += ["--reranker", args.reranker, "--clients", str(args.clients)]
        command += ["--rounds", str(args.rounds)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        cwd = Path(__file__).resolve().parents[1]
        found = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
        if found.returncode:
            raise SystemExit(f"{root}: {found.stderr.strip()}")
        print(f"{root} (reranker {args.reranker}): {found.stdout.strip()}")


if __name__ == "__main__":
    main()
