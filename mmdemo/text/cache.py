"""What one owner (a :class:`mmdemo.runtime.Runtime`) holds of the collections' lexical
indexes, so that a search reads the data dir's files only when the store changed.

Keyed by (data dir, collection). Each entry remembers the store's change marker it was
read at and when, for :mod:`mmdemo.text.persist` to decide whether it may still be trusted;
a per-key lock keeps two threads of the owner from building the same index at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mmdemo.text.index import LexicalIndex

Key = tuple[str, str]


@dataclass
class Known:
    """An index as read at the store change ``marker``, at ``checked`` (monotonic)."""

    marker: str
    checked: float
    index: LexicalIndex


class LexicalCache:
    """The lexical indexes one owner has read, and the locks that build them."""

    def __init__(self) -> None:
        self._known: dict[Key, Known] = {}
        self._builds: dict[Key, threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: Key) -> Known | None:
        """The entry held for ``key``, if any."""
        with self._lock:
            return self._known.get(key)

    def put(self, key: Key, known: Known) -> None:
        """Hold ``known`` for ``key``."""
        with self._lock:
            self._known[key] = known

    def drop(self, key: Key) -> None:
        """Forget ``key`` (its collection was deleted)."""
        with self._lock:
            self._known.pop(key, None)

    def build_lock(self, key: Key) -> threading.Lock:
        """The lock under which ``key``'s index is read or built."""
        with self._lock:
            return self._builds.setdefault(key, threading.Lock())
