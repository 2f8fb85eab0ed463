"""What every tab and endpoint shares: settings, the store, the start-up work, the visitors.

One :class:`AppContext` per running app. It holds state only; the rules every request
meets are :mod:`mmdemo.policy`'s, reached through :meth:`AppContext.admit`; the pools
events run in are :mod:`mmdemo.ui.pools`', the download area :mod:`mmdemo.ui.downloads`'.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from mmdemo.config import Settings
from mmdemo.policy import Policy, Request
from mmdemo.runtime import Runtime, default_runtime
from mmdemo.tenancy import Limits, Tenancy, Visitor
from mmdemo.ui.downloads import Downloads
from mmdemo.ui.media import upload_folder

if TYPE_CHECKING:
    import pandas as pd

    from mmdemo.export import Rows
    from mmdemo.store import Store
    from mmdemo.ui.bootstrap import Bootstrap

T = TypeVar("T")
R = TypeVar("R", bound=Request)
#: How an action reports progress: gr.Progress's call, ``progress((done, total), desc=...)``.
Progress = Callable[..., object]


def no_progress(*_: object, **__: object) -> None:
    """The progress of an API call: nobody watches it."""


#: The query shown, ready to run, on the first screen.
SAMPLE_QUERY = "a cup of coffee"


@dataclass
class AppContext:
    """The running app's settings, runtime, store, start-up work and notes for the page."""

    settings: Settings
    bootstrap: Bootstrap
    notes: tuple[str, ...] = ()
    runtime: Runtime = field(default_factory=default_runtime)
    tenancy: Tenancy | None = field(default=None, init=False)
    policy: Policy = field(init=False, repr=False)
    _store: Store | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _downloads: Downloads = field(default_factory=Downloads, init=False, repr=False)
    _memo: dict[Hashable, tuple[str, Any]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.settings.multiuser:
            self.tenancy = Tenancy(Limits.from_settings(self.settings), upload_folder())
        self.policy = Policy(self.settings, self.bootstrap, self.store)

    def visitor(self, session_hash: str | None) -> Visitor:
        """Who is asking: the operator locally, else the visitor of that session."""
        if self.tenancy is None:
            return Visitor.operator()
        return self.tenancy.visitor(session_hash)

    def admit(
        self,
        kind: type[R],
        values: Mapping[str, Any],
        session_hash: str | None,
        *,
        api: bool = False,
    ) -> R:
        """The request of the visitor of ``session_hash``, through the policy."""
        return self.policy.admit(kind, values, self.visitor(session_hash), api=api)

    def sweep_visitors(self) -> list[str]:
        """Remove idle visitors' collections (multi-visitor mode); returns their stored names."""
        if self.tenancy is None or self.readonly:
            return []
        return self.tenancy.sweep(self.settings, self.store())

    def visitor_left(self, session_hash: str | None) -> None:
        """Remove the collections of a visitor who closed the page (multi-visitor mode)."""
        if self.tenancy is not None and session_hash and not self.readonly:
            self.tenancy.leave(self.settings, self.store(), session_hash)

    @property
    def readonly(self) -> bool:
        """Whether uploads, indexing and deletion are turned off."""
        return self.settings.readonly

    @property
    def demo_name(self) -> str | None:
        """The primary demo collection (photos, the first screen's), if the app has demos."""
        return self.bootstrap.demo_name

    def store(self) -> Store:
        """The shared store, opened on first use (Chroma is imported only then)."""
        with self._lock:
            if self._store is None:
                from mmdemo.store import Store

                self._store = Store(self.settings, self.runtime)
            return self._store

    def until_store_changes(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, remembered under ``key`` until any process next writes the store.

        For page data read from a whole collection (its example queries), which would
        otherwise be rebuilt from every item each time a visitor picks the collection.
        """
        version = self.runtime.clients.read_marker(self.settings)
        with self._lock:
            found = self._memo.get(key)
        if found is not None and found[0] == version:
            kept: T = found[1]
            return kept
        value = compute()
        with self._lock:
            self._memo = {k: v for k, v in self._memo.items() if v[0] == version}
            self._memo[key] = (version, value)
        return value

    def write_csv(self, table: pd.DataFrame | Rows, name: str) -> Path:
        """Save ``table`` as ``name`` in a fresh folder of the app's download area
        (:class:`~mmdemo.ui.downloads.Downloads`: neutralised, removed minutes later)."""
        return self._downloads.write_csv(table, name)
