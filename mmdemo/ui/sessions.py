"""Cheaper new sessions: gradio builds a session's block configs when first read, not all
at once.

Gradio 6.31 gives every new session (a page opened, an API client's first call) a
``SessionState`` whose ``config_values`` holds the config of every block on the page. It
keeps them only to serve deep links and updates the inputs' values after each event, yet
builds all of them up front on its one event-loop thread: about 17 ms for this app's 228
blocks, during which no other request moves (bench/README.md, "New sessions"). Here the
same mapping computes each block's config on first read instead, from the same block, so
every read sees what gradio would have built; reading all of it (a deep link) builds all.

The replacement mirrors ``SessionState.__init__`` of the gradio version pinned in
requirements.txt and is applied only to that version: any other gradio keeps its own
behaviour, and tests/test_sessions.py fails until the mirror is checked against it again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping
from copy import copy
from typing import Any

import gradio as gr
from gradio.state_holder import SessionState

logger = logging.getLogger(__name__)

#: The gradio release whose ``SessionState.__init__`` :func:`_lazy_init` mirrors.
CHECKED_GRADIO = "6.31.0"
#: Gradio's own ``SessionState.__init__``, kept to compare against (tests/test_sessions.py).
_GRADIO_INIT = SessionState.__init__


class LazyConfigs(dict[int, Any]):
    """Block id -> config, each computed by ``build(id, block)`` the first time it is read,
    from the block the session started with.

    Reads that may touch every entry (iteration, ``items``, ``==``, ``copy``) build the
    missing ones first and put every entry back in block order, so the mapping always looks
    as gradio's own, complete one would.
    """

    def __init__(self, blocks: Mapping[int, Any], build: Callable[[int, Any], Any]) -> None:
        super().__init__()
        self._missing = dict(blocks)
        self._order: list[int] | None = list(blocks)
        self._build = build

    def __missing__(self, key: int) -> Any:
        if key not in self._missing:
            raise KeyError(key)
        value = self._build(key, self._missing.pop(key))
        super().__setitem__(key, value)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._missing or super().__contains__(key)

    def __setitem__(self, key: int, value: Any) -> None:
        self._missing.pop(key, None)
        super().__setitem__(key, value)

    def __delitem__(self, key: int) -> None:
        if key in self._missing:
            del self._missing[key]
        else:
            super().__delitem__(key)

    def get(self, key: int, default: Any = None) -> Any:
        """As ``dict.get``, building the entry if it is still missing."""
        if key in self:
            return self[key]
        return default

    def complete(self) -> LazyConfigs:
        """Build every missing entry, then order the entries as gradio would; returns self."""
        for key in list(self._missing):
            self.__missing__(key)
        if self._order is not None:
            built = dict(super().items())
            ordered = {k: built.pop(k) for k in self._order if k in built}
            super().clear()
            super().update(ordered | built)  # entries set later for other blocks stay last
            self._order = None
        return self

    def __iter__(self) -> Iterator[int]:
        return super(LazyConfigs, self.complete()).__iter__()

    def __len__(self) -> int:
        return super().__len__() + len(self._missing)

    def __eq__(self, other: object) -> bool:
        return super(LazyConfigs, self.complete()).__eq__(other)

    def keys(self) -> Any:
        """As ``dict.keys``, after building every entry."""
        return super(LazyConfigs, self.complete()).keys()

    def values(self) -> Any:
        """As ``dict.values``, after building every entry."""
        return super(LazyConfigs, self.complete()).values()

    def items(self) -> Any:
        """As ``dict.items``, after building every entry."""
        return super(LazyConfigs, self.complete()).items()

    def copy(self) -> dict[int, Any]:
        """A plain dict of every entry."""
        return dict(self.items())


def _lazy_init(self: SessionState, blocks: gr.Blocks) -> None:
    """``SessionState.__init__`` of gradio 6.31.0, with ``config_values`` built lazily."""
    self.blocks_config = copy(blocks.default_config)
    page = blocks.blocks
    self.config_values = LazyConfigs(
        {k: v for k, v in self.blocks_config.blocks.items() if k in page},
        lambda k, v: self.blocks_config.config_for_block(k, [], v),
    )
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def lazy_session_configs() -> bool:
    """Make new gradio sessions build their block configs lazily; True if applied.

    Idempotent. Leaves gradio as it is (and says so in the log) on any release other than
    :data:`CHECKED_GRADIO`.
    """
    if SessionState.__init__ is _lazy_init:
        return True
    if gr.__version__ != CHECKED_GRADIO:
        logger.info(
            "gradio %s is not %s: new sessions keep building every block's config",
            gr.__version__,
            CHECKED_GRADIO,
        )
        return False
    SessionState.__init__ = _lazy_init  # type: ignore[method-assign]
    return True
