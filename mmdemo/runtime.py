"""The state a running mmdemo keeps between calls, in one object with an owner.

A :class:`Runtime` holds the loaded models (:class:`~mmdemo.models.cache.ModelCache`), the
batcher that lets concurrent searches share one text encode, the governor of torch's
threads, the open Chroma clients, the in-process half of the lock over stored files and
the lexical indexes read (:class:`~mmdemo.text.cache.LexicalCache`).
The app (app.py) and the command line each create one and pass it down: to the
:class:`~mmdemo.store.Store` they open, which every pipeline step it is given reads it from,
and to the model loads that happen without a store. Tests create a fresh one per test
instead of clearing module state.

A Python caller that passes none gets :func:`default_runtime`, the one process default, so
``load_embedder(name, settings)`` and ``Store(settings)`` stay one-liners. Creating a
Runtime changes nothing in the process (no thread starts until a model is cached with an
idle time, no environment variable is set).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from mmdemo.config import Settings
from mmdemo.ingest.files_lock import FilesLock
from mmdemo.models.base import ModelHandle
from mmdemo.models.cache import ModelCache, Scheduler, start_timer
from mmdemo.models.threads import ThreadGovernor
from mmdemo.search.batch import Coalescer, TextBatcher
from mmdemo.store.client import Clients
from mmdemo.text.cache import LexicalCache

#: Seconds a model nobody used stays loaded in the web app, unless ``MMDEMO_MODEL_IDLE_S``
#: says otherwise: long enough that visitors of one demo session never wait for a reload,
#: short enough that a Space nobody visits gives its memory back.
APP_MODEL_IDLE_S = 900.0
#: The same for the command line and library callers: never (a command ends soon anyway,
#: and a library caller decides when its process frees memory).
CLI_MODEL_IDLE_S = 0.0


class Runtime:
    """Loaded models, the query-text batcher, the torch thread governor, the Chroma clients,
    the files lock and the lexical indexes read, of one owner; ``idle_s`` (0: never) lets
    idle models go."""

    def __init__(
        self,
        idle_s: float = CLI_MODEL_IDLE_S,
        *,
        clock: Callable[[], float] | None = None,
        schedule: Scheduler = start_timer,
    ) -> None:
        timing = {"clock": clock} if clock is not None else {}
        self.models: ModelCache[ModelHandle] = ModelCache(idle_s, schedule=schedule, **timing)
        self.texts: TextBatcher = Coalescer()
        self.threads = ThreadGovernor()
        self.clients = Clients()
        self.files = FilesLock()
        self.lexical = LexicalCache()

    @classmethod
    def for_settings(cls, settings: Settings, idle_s: float = CLI_MODEL_IDLE_S) -> Runtime:
        """The runtime of an entry point: models idle for ``settings.model_idle_s`` seconds
        (``MMDEMO_MODEL_IDLE_S``) are let go, or for ``idle_s`` where that is unset."""
        chosen = settings.model_idle_s
        return cls(idle_s if chosen is None else chosen)


_default: Runtime | None = None
_default_lock = threading.Lock()


def default_runtime() -> Runtime:
    """The process default: what a library caller that passes no runtime shares (created on
    first use; its models never expire)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runtime()
        return _default
