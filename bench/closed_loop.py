"""Closed-loop load for bench/concurrent_search.py: does concurrency waste anything?

Each client session sends its next search as soon as the last one returns, for a fixed
time (and until a number of searches is done, for the memory figure). The goals (issue
24), all measured in the same run:

- throughput >= 85 % of what the cores allow: searches per second over
  cores / CPU-seconds-per-search (the app's CPU and the client threads', under load);
- p95 latency <= 2x the mean latency;
- 0 errors;
- the app's resident memory grows by at most 50 MB over 1,000 searches.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

Search = Callable[[str], object]

EFFICIENCY_GOAL = 0.85
TAIL_GOAL = 2.0
RSS_GOAL_MB = 50.0
RSS_SEARCHES = 1_000


def rss_mb(pid: int) -> float:
    """The resident memory of process ``pid`` in MB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


@dataclass(frozen=True)
class Run:
    """What a closed-loop run measured."""

    seconds: float
    latencies: list[float]
    errors: int
    cpu_seconds: float
    rss_before_mb: float
    rss_after_mb: float


def closed_loop(
    sessions: Sequence[Search],
    queries: Sequence[str],
    duration_s: float,
    min_searches: int,
    cpu_seconds: Callable[[], float],
    pid: int,
) -> Run:
    """Every session searching back to back until ``duration_s`` has passed and at least
    ``min_searches`` are done; latencies, errors, CPU and the app's RSS before and after."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions) + 1)
    stop = threading.Event()

    def run(index: int) -> None:
        nonlocal errors
        barrier.wait()
        n = 0
        while not stop.is_set():
            query = queries[(index + n) % len(queries)]
            n += 1
            start = time.perf_counter()
            try:
                sessions[index](query)
            except Exception:  # counted: the goal is none
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(sessions))]
    for thread in threads:
        thread.start()
    rss_before = rss_mb(pid)
    cpu = cpu_seconds()
    barrier.wait()
    start = time.perf_counter()
    while time.perf_counter() - start < duration_s or len(latencies) + errors < min_searches:
        time.sleep(0.2)
    stop.set()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    return Run(seconds, latencies, errors, cpu_seconds() - cpu, rss_before, rss_mb(pid))


def report(run: Run, clients: int, p95: float) -> list[str]:
    """The run's figures against the goals, one line each (``p95``: of its latencies)."""
    cores = len(os.sched_getaffinity(0))
    done = len(run.latencies)
    rate = done / run.seconds
    cpu_each = run.cpu_seconds / max(done + run.errors, 1)
    allowed = cores / cpu_each
    mean = statistics.mean(run.latencies)
    grew = run.rss_after_mb - run.rss_before_mb
    return [
        f"closed loop: {clients} clients for {run.seconds:.0f} s, {done} searches, "
        f"{run.errors} errors (goal 0)",
        f"throughput {rate:.2f}/s; CPU a search (app + clients) {cpu_each * 1000:.0f} ms, "
        f"{cores} cores allow {allowed:.2f}/s: {rate / allowed:.0%} of it "
        f"(goal >= {EFFICIENCY_GOAL:.0%})",
        f"latency mean {mean * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms: p95 / mean "
        f"{p95 / mean:.2f} (goal <= {TAIL_GOAL:g})",
        f"app RSS {run.rss_before_mb:.0f} -> {run.rss_after_mb:.0f} MB over "
        f"{done + run.errors} searches: {grew:+.1f} MB (goal <= {RSS_GOAL_MB:g} MB over "
        f"{RSS_SEARCHES:,})",
    ]
