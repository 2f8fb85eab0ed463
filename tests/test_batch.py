"""Micro-batching of concurrent queries: shared batches, each caller's own results, errors."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.ingest.indexer import index_paths
from mmdemo.runtime import Runtime
from mmdemo.search import batch
from mmdemo.search.batch import Coalescer
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.store import Store

from helpers import COLOURS, write_images

WAIT_S = 60.0


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll ``condition`` until it holds (threads start slowly on a busy machine)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "the other callers never queued"
        time.sleep(0.01)


def waiting(coalescer: Coalescer[Any, Any]) -> int:
    """How many items are queued for the next batch, over all keys."""
    with coalescer._lock:
        return sum(len(call.items) for calls in coalescer._pending.values() for call in calls)


def release_when(condition: Callable[[], bool], release: threading.Event) -> None:
    """Set ``release`` from another thread once ``condition`` holds."""

    def watch() -> None:
        wait_until(condition)
        release.set()

    threading.Thread(target=watch).start()


class HeldRun:
    """A batch function that records its batches and holds the first one until released."""

    def __init__(self, fn: Callable[[str], Any]) -> None:
        self.fn = fn
        self.batches: list[list[str]] = []
        self.release = threading.Event()

    def __call__(self, items: list[str]) -> list[Any]:
        self.batches.append(list(items))
        if len(self.batches) == 1:
            assert self.release.wait(WAIT_S)
        return [self.fn(item) for item in items]


def call_in_threads(work: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each callable in its own thread; their results (or errors) in order."""
    outcomes: list[Any] = [None] * len(work)

    def run(index: int) -> None:
        try:
            outcomes[index] = work[index]()
        except Exception as exc:  # compared by the test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def start_leader_then_others(
    coalescer: Coalescer[str, Any], run: HeldRun, first: list[str], others: list[list[str]]
) -> list[Any]:
    """``first`` leads a held batch; ``others`` queue behind it, then the batch is let go."""
    outcomes: list[Any] = []
    leader = threading.Thread(target=lambda: outcomes.append(coalescer("k", first, run)))
    leader.start()
    wait_until(lambda: len(run.batches) == 1)
    queued = sum(len(items) for items in others)
    release_when(lambda: waiting(coalescer) == queued, run.release)
    rest = call_in_threads([lambda items=items: coalescer("k", items, run) for items in others])
    leader.join()
    return outcomes + rest


def test_callers_that_arrive_during_a_batch_share_the_next_one() -> None:
    coalescer: Coalescer[str, str] = Coalescer(gather_s=0)
    run = HeldRun(str.upper)
    others = [["b"], ["c", "d"], ["e"]]
    results = start_leader_then_others(coalescer, run, ["a"], others)
    assert results == [["A"], ["B"], ["C", "D"], ["E"]]
    assert run.batches[0] == ["a"]
    assert sorted(run.batches[1]) == ["b", "c", "d", "e"]
    assert len(run.batches) == 2


def test_a_caller_alone_runs_at_once_and_waiting_callers_gather(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gather_s = 0.0123
    gathered: list[float] = []
    sleep = time.sleep

    def recorded(seconds: float) -> None:
        if seconds == gather_s:
            gathered.append(seconds)
        sleep(seconds)

    monkeypatch.setattr(batch.time, "sleep", recorded)
    coalescer: Coalescer[str, str] = Coalescer(gather_s=gather_s)
    assert coalescer("k", ["a"], lambda items: [item.upper() for item in items]) == ["A"]
    assert gathered == []
    # The leader finds nobody waiting and runs at once; the two queued behind its batch
    # wait one gathering window, then share the next batch.
    run = HeldRun(str.upper)
    assert start_leader_then_others(coalescer, run, ["a"], [["b"], ["c"]]) == [
        ["A"],
        ["B"],
        ["C"],
    ]
    assert gathered == [gather_s]
    assert sorted(run.batches[1]) == ["b", "c"]


def test_an_error_in_a_batch_reaches_every_caller_in_it() -> None:
    def fail_on_x(item: str) -> str:
        if item == "x":
            raise ValueError("bad item x")
        return item

    coalescer: Coalescer[str, str] = Coalescer(gather_s=0)
    run = HeldRun(fail_on_x)
    results = start_leader_then_others(coalescer, run, ["a"], [["x"], ["b"]])
    assert results[0] == ["a"]
    assert [str(error) for error in results[1:]] == ["bad item x", "bad item x"]


def test_different_keys_never_share_a_batch() -> None:
    coalescer: Coalescer[str, str] = Coalescer(gather_s=0)
    seen: list[tuple[str, list[str]]] = []

    def run_for(key: str) -> Callable[[list[str]], list[str]]:
        return lambda items: seen.append((key, list(items))) or list(items)

    results = call_in_threads(
        [lambda key=key: coalescer(key, [key], run_for(key)) for key in ("p", "q", "p")]
    )
    assert results == [["p"], ["q"], ["p"]]
    assert all(items == [key] * len(items) for key, items in seen)


def test_a_wrong_result_count_is_an_error() -> None:
    coalescer: Coalescer[str, str] = Coalescer(gather_s=0)
    with pytest.raises(RuntimeError, match="A batch of 2 gave 1 results"):
        coalescer("k", ["a", "b"], lambda items: items[:1])


QUERIES = [
    Query(text="red"),
    Query(text="a photo of a blue car"),
    Query(text="the dog", negative="red"),
    Query(text="yes", negative="a photo of the cat", negative_weight=0.3),
    Query(text="blue", caption_contains="square"),
]


def test_concurrent_searches_return_what_single_searches_return(
    tmp_path: Path, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch, runtime: Runtime
) -> None:
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    store = Store(settings, runtime)
    photos = write_images(tmp_path / "photos", COLOURS)
    model = str(tiny_clip_dir)
    index_paths([photos], collection="colours", models=[model], settings=settings, store=store)

    def run(query: Query) -> list[tuple[str, float]]:
        found = search(query, collection="colours", model=model, settings=settings, store=store)
        return list(zip(found.table["id"], found.table["similarity"], strict=True))

    alone = [run(query) for query in QUERIES]

    coalescer: Coalescer[str, np.ndarray] = Coalescer(gather_s=0)
    runtime.texts = coalescer
    batches: list[int] = []
    release = threading.Event()
    original = Embedder.encode_texts

    def held(self: Embedder, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        batches.append(len(texts))
        if len(batches) == 1:
            assert release.wait(WAIT_S)
        return original(self, texts, batch_size)

    monkeypatch.setattr(Embedder, "encode_texts", held)
    texts = sum(1 + query.has_negative for query in QUERIES)
    # Whichever search comes first leads a held batch; the others queue behind it.
    release_when(lambda: bool(batches) and batches[0] + waiting(coalescer) == texts, release)
    together = call_in_threads([lambda query=query: run(query) for query in QUERIES])

    # Two batches, or one when every search queued before the first batch began (a busy
    # machine can delay the first thread that long); either way every text was shared.
    assert len(batches) in (1, 2) and sum(batches) == texts
    for single, batched in zip(alone, together, strict=True):
        assert [item for item, _ in batched] == [item for item, _ in single]
        assert np.allclose([s for _, s in batched], [s for _, s in single], atol=1e-5)
