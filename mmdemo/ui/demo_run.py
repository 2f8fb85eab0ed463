"""One start-up's demo work for :class:`~mmdemo.ui.bootstrap.Bootstrap`: which demos need
indexing (a digest of each demo's sources, kept in ``<data_dir>/demos.json``, says which are
stored already), then indexing them in order, a failed replacement by its bundled demo.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from mmdemo.atomic import write_atomically
from mmdemo.config import Settings
from mmdemo.demos import Demo
from mmdemo.errors import InputError, MMDemoError

if TYPE_CHECKING:
    from mmdemo.store import Store
    from mmdemo.ui.bootstrap import Bootstrap

log = logging.getLogger(__name__)

#: Where the digest of each indexed demo's sources is kept, in the data dir.
FINGERPRINTS = "demos.json"


def read_fingerprints(settings: Settings) -> dict[str, str]:
    """The digest of each demo's sources when it was last indexed, by stored name."""
    try:
        data = json.loads((settings.data_dir / FINGERPRINTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


class DemoRun:
    """One start-up's demo work: which demos need indexing, then indexing them in order."""

    def __init__(self, boot: Bootstrap, store: Store, models: list[str], keys: list[str]):
        self.boot = boot
        self.store = store
        self.models = models
        self.keys = keys
        self.settings = boot.settings
        self.path = self.settings.data_dir / FINGERPRINTS
        self.recorded = read_fingerprints(self.settings)
        #: (demo, its sources' fingerprint, its item count) in order; None: already stored.
        self.work: list[tuple[Demo, str | None, int]] = []
        self.problems: list[str] = []
        self.counts: dict[Demo, int] = {}
        self.ready: list[str] = []

    def _write(self) -> None:
        write_atomically(self.path, json.dumps(self.recorded, indent=1, sort_keys=True))

    def _stored(self, demo: Demo, fingerprint: str) -> bool:
        if self.recorded.get(demo.collection) != fingerprint:
            return False
        return all(self.store.has_model(demo.collection, key) for key in self.keys)

    def _count(self, demo: Demo) -> int:
        from mmdemo.ingest.sources import count_sources

        return count_sources(demo.items(), self.settings.limits, demo.dataset)

    def _planned(self, demo: Demo) -> tuple[Demo, str | None, int]:
        fingerprint = demo.fingerprint()
        if self._stored(demo, fingerprint):
            return demo, None, 0
        return demo, fingerprint, self._count(demo)

    def plan(self) -> None:
        """Decide, for each demo, whether it is stored already or how many items it has;
        a demo whose sources cannot be read is reported, or replaced by its fallback."""
        for configured in self.boot.demos:
            demo: Demo | None = configured
            while demo is not None:
                try:
                    self.work.append(self._planned(demo))
                    break
                except (MMDemoError, OSError) as exc:
                    demo = self._failed(demo, exc)

    def _failed(self, demo: Demo, exc: BaseException) -> Demo | None:
        """Report a demo that cannot be set up; returns the bundled demo it replaced."""
        fallback = None if demo.bundled else self.boot.fallbacks.get(demo.key)
        instead = " (the bundled one is used instead)" if fallback else ""
        self.problems.append(f"Demo {demo.key!r} is not available{instead}: {exc}")
        log.warning("demo %s not available: %s", demo.key, exc)
        return fallback

    def index(self) -> None:
        """Index what needs it, in order, reporting one count over all of them. A demo is
        marked ready once a search on it answers without waiting on a model load: the
        models are warmed up as soon as the first demo is stored, and that demo (and each
        later one, once stored) is ready after that. A replacement that fails to index is
        reported and its bundled demo indexed in its place."""
        total = sum(count for _, _, count in self.work)
        done = 0
        queue = list(self.work)
        while queue:
            demo, fingerprint, count = queue.pop(0)
            if fingerprint is not None:
                try:
                    self._index(demo, fingerprint, done, total)
                except MMDemoError as exc:
                    done += count
                    fallback = self._failed(demo, exc)
                    if fallback is not None:
                        queue.insert(0, planned := self._planned(fallback))
                        total += planned[2]
                    continue
                done += count
            self.counts[demo] = self.store.models(demo.collection).get(self.keys[0], 0)
            if not self.ready:
                self.boot.warm_up(self.store, demo.collection)
            self.ready.append(demo.collection)
            self.boot.mark_ready(demo.collection)

    def _index(self, demo: Demo, fingerprint: str, offset: int, total: int) -> None:
        from mmdemo.ingest.indexer import index_paths
        from mmdemo.manage import delete_collection

        self.boot.progress(offset, total)
        if demo.collection in self.store.names():  # its sources changed: start afresh
            delete_collection(self.settings, self.store, demo.collection)
        self.recorded.pop(demo.collection, None)
        report = index_paths(
            demo.items(),
            collection=demo.collection,
            models=self.models,
            settings=self.settings,
            store=self.store,
            captions=demo.captions if demo.captions and demo.captions.exists() else None,
            dataset=demo.dataset,
            progress=lambda done, _: self.boot.progress(offset + done, total),
        )
        if report.added + report.present == 0:
            reasons = "; ".join(f"{r.file}: {r.reason}" for r in report.rejected[:3])
            sources = ", ".join(demo.sources)
            raise InputError(f"no image could be indexed from {sources} ({reasons or 'no files'}).")
        self.recorded[demo.collection] = fingerprint
        self._write()
