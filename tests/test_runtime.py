"""The runtime and its model cache: LRU size, idle expiry that never drops a model in use,
one load per key under concurrency, and one owner per runtime (no state shared by accident)."""

from __future__ import annotations

import gc
import pickle
import threading
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.ingest.indexer import index_paths
from mmdemo.models import loading
from mmdemo.models.cache import ModelCache
from mmdemo.runtime import APP_MODEL_IDLE_S, CLI_MODEL_IDLE_S, Runtime, default_runtime
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.store import Store

IDLE_S = 60.0
WAIT_S = 30.0


class Model:
    """A stand-in loaded model (weakly referable, like a real handle)."""


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Timers:
    """A scheduler that records what it was asked to run, for the test to fire."""

    def __init__(self) -> None:
        self.set: list[tuple[float, Callable[[], None]]] = []

    def __call__(self, delay_s: float, fire: Callable[[], None]) -> None:
        self.set.append((delay_s, fire))

    def fire(self) -> None:
        _, fire = self.set.pop(0)
        fire()


class Loads:
    """A loader that counts its calls per key and makes a new model each time."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}

    def __call__(self, key: str) -> Callable[[], Model]:
        def load() -> Model:
            self.count[key] = self.count.get(key, 0) + 1
            return Model()

        return load


def _cache(idle_s: float = IDLE_S) -> tuple[ModelCache[Model], Clock, Timers, Loads]:
    clock, timers = Clock(), Timers()
    return ModelCache(idle_s, clock=clock, schedule=timers), clock, timers, Loads()


def test_a_model_unused_for_the_idle_time_is_let_go_on_the_next_request() -> None:
    cache, clock, _, loads = _cache()
    gone = weakref.ref(cache.get("a", loads("a"), 3))
    clock.now += IDLE_S - 1
    cache.get("b", loads("b"), 3)
    assert len(cache) == 2  # not idle long enough yet
    clock.now += 1
    cache.get("b", loads("b"), 3)  # b was used a second ago: kept; a is due
    gc.collect()
    assert len(cache) == 1 and gone() is None
    cache.get("a", loads("a"), 3)
    assert loads.count == {"a": 2, "b": 1}


def test_a_model_in_use_is_never_dropped_for_idling() -> None:
    cache, clock, timers, loads = _cache()
    held = cache.get("a", loads("a"), 3)  # an index run embedding for longer than idle_s
    clock.now += 10 * IDLE_S
    timers.fire()
    gc.collect()
    assert len(cache) == 0  # the cache no longer keeps it alive ...
    assert cache.get("a", loads("a"), 3) is held  # ... but never loads a second copy
    assert loads.count == {"a": 1}


def test_the_timer_frees_idle_models_with_no_request_and_sets_itself_for_the_next() -> None:
    cache, clock, timers, loads = _cache()
    first = weakref.ref(cache.get("a", loads("a"), 3))
    assert [delay for delay, _ in timers.set] == [IDLE_S]  # one timer, set for a's due time
    clock.now += 20
    second = weakref.ref(cache.get("b", loads("b"), 3))
    assert len(timers.set) == 1  # no second timer while one is pending
    clock.now += IDLE_S - 20
    timers.fire()
    assert first() is None and second() is not None and len(cache) == 1
    assert [delay for delay, _ in timers.set] == [20.0]  # b falls due 20 s later
    clock.now += 20
    timers.fire()
    assert second() is None and len(cache) == 0 and timers.set == []


def test_idle_zero_never_expires_and_sets_no_timer() -> None:
    cache, clock, timers, loads = _cache(idle_s=0)
    kept = weakref.ref(cache.get("a", loads("a"), 3))
    clock.now += 10**9
    cache.get("b", loads("b"), 3)
    gc.collect()
    assert kept() is not None and len(cache) == 2 and timers.set == []


def test_the_least_recently_used_goes_past_the_size() -> None:
    cache, _, _, loads = _cache()
    for key in ("a", "b", "a", "c"):  # b is the least recently used when c comes
        cache.get(key, loads(key), 2)
    cache.get("a", loads("a"), 2)
    cache.get("b", loads("b"), 2)
    assert loads.count == {"a": 1, "b": 2, "c": 1}


def test_dropped_and_cleared_models_load_again() -> None:
    cache, _, _, loads = _cache()
    for key in ("a", "b"):
        cache.get(key, loads(key), 3)
    cache.drop(lambda key: key == "a")
    assert len(cache) == 1
    cache.clear()
    for key in ("a", "b"):
        cache.get(key, loads(key), 3)
    assert loads.count == {"a": 2, "b": 2}


def test_concurrent_requests_for_one_key_load_it_once() -> None:
    cache = ModelCache[Model](IDLE_S, schedule=Timers())
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def slow_load() -> Model:
        calls.append(1)
        entered.set()
        assert release.wait(WAIT_S)
        return Model()

    got: list[Model] = []
    first = threading.Thread(target=lambda: got.append(cache.get("a", slow_load, 3)))
    first.start()
    assert entered.wait(WAIT_S)
    others = [
        threading.Thread(target=lambda: got.append(cache.get("a", slow_load, 3))) for _ in range(4)
    ]
    for thread in others:
        thread.start()
    release.set()
    for thread in [first, *others]:
        thread.join(WAIT_S)
    assert len(calls) == 1 and len(got) == 5 and all(model is got[0] for model in got)


def test_a_negative_idle_time_is_refused() -> None:
    with pytest.raises(ValueError, match="idle_s"):
        ModelCache(-1)


def test_the_idle_time_comes_from_the_setting_else_the_entry_points_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Runtime.for_settings(Settings(), APP_MODEL_IDLE_S).models.idle_s == APP_MODEL_IDLE_S
    assert Runtime.for_settings(Settings()).models.idle_s == CLI_MODEL_IDLE_S == 0
    monkeypatch.setenv("MMDEMO_MODEL_IDLE_S", "0")
    settings = Settings.from_env()
    assert Runtime.for_settings(settings, APP_MODEL_IDLE_S).models.idle_s == 0
    monkeypatch.setenv("MMDEMO_MODEL_IDLE_S", "45.5")
    assert Runtime.for_settings(Settings.from_env()).models.idle_s == 45.5
    monkeypatch.setenv("MMDEMO_MODEL_IDLE_S", "soon")
    with pytest.raises(InputError, match="MMDEMO_MODEL_IDLE_S"):
        Settings.from_env()


def test_runtimes_share_no_models_and_a_pickled_handle_finds_its_own(
    tiny_clip_dir: Path, tmp_path: Path, runtime: Runtime
) -> None:
    settings = Settings(data_dir=tmp_path, device="cpu", backend="torch")
    mine = loading.load_embedder(str(tiny_clip_dir), settings, runtime)
    other = loading.load_embedder(str(tiny_clip_dir), settings, Runtime())
    assert other is not mine
    # How a handle crosses into a ZeroGPU worker: by reference, back to its owner's cache.
    assert pickle.loads(pickle.dumps(mine)) is mine


def test_the_pipeline_uses_the_runtime_its_store_was_opened_with(
    tiny_clip_dir: Path, tmp_path: Path, runtime: Runtime
) -> None:
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    store = Store(settings, runtime)
    assert store.runtime is runtime and Store(settings).runtime is default_runtime()
    photos = tmp_path / "photos"
    photos.mkdir()
    for colour in ("red", "green", "blue"):
        Image.new("RGB", (32, 24), colour).save(photos / f"{colour}.png")
    model = str(tiny_clip_dir)
    index_paths([photos], collection="colours", models=[model], settings=settings, store=store)
    assert len(runtime.models) == 1
    embedder = loading.load_embedder(model, settings, runtime)
    search(Query(text="red"), collection="colours", model=model, settings=settings, store=store)
    assert len(runtime.models) == 1 and loading.load_embedder(model, settings, runtime) is embedder
    loading.forget(model, runtime)
    assert len(runtime.models) == 0
