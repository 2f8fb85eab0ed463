"""The loaded-model cache: least recently used out past a size, idle models out after a time.

A :class:`ModelCache` belongs to whoever creates it (the app's and the command line's
:class:`mmdemo.runtime.Runtime`), so two owners never share loaded models by accident and a
test starts from an empty one. It holds at most the number of models the load that adds one
allows (``Settings.max_models``), dropping the least recently used; with ``idle_s`` above 0,
a model nobody asked for in ``idle_s`` seconds is let go too, so an app that no visitor uses
frees its memory (as Immich ML's model cache expires idle models).

Letting an idle model go never drops one in use: it moves to a table of weak references, so
while any caller still holds it (an index run that embeds for longer than ``idle_s``, a
search in flight) the next request gets that same model back instead of loading a second
copy; once the last holder lets go, it is freed. Expiry runs on every request and on a
one-shot timer set for the next model due (no thread waits or polls in between); neither
ever holds the cache's lock while a model loads, and one model loads at a time per key while
other keys load or are served meanwhile.
"""

from __future__ import annotations

import gc
import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

H = TypeVar("H")
#: ``schedule(delay_s, fire)``: run ``fire`` once, ``delay_s`` seconds from now.
Scheduler = Callable[[float, Callable[[], None]], object]


def start_timer(delay_s: float, fire: Callable[[], None]) -> threading.Timer:
    """The default :data:`Scheduler`: a daemon one-shot timer (it never delays an exit)."""
    timer = threading.Timer(delay_s, fire)
    timer.daemon = True
    timer.start()
    return timer


#: Every live cache by token: how a model pickled by reference (ZeroGPU) finds its owner's
#: cache again in the worker process. Weak: a cache nobody owns leaves it.
_OWNERS: weakref.WeakValueDictionary[str, ModelCache[Any]] = weakref.WeakValueDictionary()


def owner(token: str) -> ModelCache[Any] | None:
    """The live cache with this :attr:`ModelCache.token`, if any."""
    return _OWNERS.get(token)


@dataclass
class _Entry(Generic[H]):
    model: H
    used: float  # the clock's reading when it was last asked for


class ModelCache(Generic[H]):
    """Loaded models by key: LRU within a size, idle ones let go after ``idle_s`` (0: never).

    Models must take weak references (instances of ordinary classes do). ``clock``
    (seconds, monotonic) and ``schedule`` are injectable so that tests move time themselves
    instead of sleeping.
    """

    def __init__(
        self,
        idle_s: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        schedule: Scheduler = start_timer,
    ) -> None:
        if idle_s < 0:
            raise ValueError(f"idle_s must be 0 (never) or more, got {idle_s}.")
        self.idle_s = idle_s
        self.token = uuid.uuid4().hex
        self._clock = clock
        self._schedule = schedule
        self._lock = threading.Lock()  # guards what follows; never held while loading
        self._entries: OrderedDict[Hashable, _Entry[H]] = OrderedDict()
        self._idle: weakref.WeakValueDictionary[Hashable, H] = weakref.WeakValueDictionary()
        self._key_locks: dict[Hashable, threading.Lock] = {}
        self._timer_set = False
        _OWNERS[self.token] = self

    def get(self, key: Hashable, load: Callable[[], H], max_models: int) -> H:
        """The model cached under ``key``, else ``load()``'s, cached with at most
        ``max_models`` kept (the least recently used go first)."""
        with self._lock:
            key_lock = self._key_locks.setdefault(key, threading.Lock())
        with key_lock:
            model = self._take(key)
            if model is None:
                model = load()
                with self._lock:
                    self._entries[key] = _Entry(model, self._clock())
                    while len(self._entries) > max_models:
                        self._entries.popitem(last=False)
            with self._lock:
                self._set_timer()
            return model

    def _take(self, key: Hashable) -> H | None:
        """The model under ``key``, marked used now: cached, or let go idle but still held
        by someone (then cached again)."""
        with self._lock:
            now = self._clock()
            self._expire(now)
            entry = self._entries.get(key)
            if entry is not None:
                entry.used = now
                self._entries.move_to_end(key)
                return entry.model
            model = self._idle.pop(key, None)
            if model is not None:
                self._entries[key] = _Entry(model, now)
            return model

    def _expire(self, now: float) -> bool:
        """Let go of every model idle for ``idle_s`` or more (caller holds the lock)."""
        if not self.idle_s:
            return False
        due = [key for key, entry in self._entries.items() if now - entry.used >= self.idle_s]
        for key in due:
            self._idle[key] = self._entries.pop(key).model
        return bool(due)

    def _set_timer(self) -> None:
        """Schedule a check for when the next model falls due (caller holds the lock)."""
        if not self.idle_s or self._timer_set or not self._entries:
            return
        oldest = min(entry.used for entry in self._entries.values())
        self._timer_set = True
        self._schedule(max(0.0, oldest + self.idle_s - self._clock()), self._on_timer)

    def _on_timer(self) -> None:
        """Let idle models go, free what nobody holds, and schedule the next check."""
        with self._lock:
            self._timer_set = False
            expired = self._expire(self._clock())
            self._set_timer()
        if expired:
            gc.collect()  # models with reference cycles are freed now, not at some later gc

    def drop(self, matches: Callable[[Hashable], bool]) -> None:
        """Forget every model whose key ``matches`` (its files were written anew)."""
        with self._lock:
            for key in [k for k in self._entries if matches(k)]:
                del self._entries[key]
            for key in [k for k in list(self._idle.keys()) if matches(k)]:
                self._idle.pop(key, None)

    def clear(self) -> None:
        """Forget every model (the next use loads again)."""
        with self._lock:
            self._entries.clear()
            self._idle.clear()

    def __len__(self) -> int:
        """How many models the cache holds (not counting idle ones still held elsewhere)."""
        with self._lock:
            return len(self._entries)
