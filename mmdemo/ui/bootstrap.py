"""First-start work done off the request path: pick the default embedder, index the demo.

The page is served at once; this runs in a background thread and the page polls its
status. Loading models and importing the heavy libraries happens here, not before launch.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from mmdemo.config import Settings
from mmdemo.errors import InputError, MMDemoError
from mmdemo.models.registry import OFFLINE_EMBEDDER

if TYPE_CHECKING:
    from mmdemo.store import Store

log = logging.getLogger(__name__)

DEMO_COLLECTION = "demo"
DEMO_PHOTOS = Path(__file__).resolve().parents[2] / "assets" / "photos"


@dataclass(frozen=True)
class DemoSource:
    """The images (and optional captions CSV) of the demo collection."""

    folder: Path = DEMO_PHOTOS
    captions: Path | None = DEMO_PHOTOS / "captions.csv"
    name: str = DEMO_COLLECTION


@dataclass(frozen=True)
class BootStatus:
    """A snapshot of the start-up work: phase, progress and the default embedder."""

    phase: str  # "starting", "indexing", "ready" or "failed"
    message: str
    default_model: str
    default_why: str
    done: int = 0
    total: int = 0
    #: Preset keys that cannot load here (Hub unreachable, not cached), once known.
    unavailable: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        """Whether the start-up work has ended, well or not."""
        return self.phase in ("ready", "failed")


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


class Bootstrap:
    """Chooses the default embedder and indexes the demo collection in a background thread.

    ``model`` fixes the default embedder (and the only demo model); without it,
    :func:`~mmdemo.models.loading.default_embedder` decides, and the demo is indexed with
    that model and with the offline ``lite`` model.
    """

    def __init__(self, settings: Settings, demo: DemoSource | None, model: str | None) -> None:
        """Remember what to do; nothing runs before :meth:`start`."""
        # The app's own demo set-up is not a user write, so it may run in read-only mode.
        self._settings = replace(settings, readonly=False)
        self._demo = demo
        self._model = model
        self._lock = threading.Lock()
        why = f"Default embedder {model!r}, as configured." if model else ""
        self._status = BootStatus("starting", "Starting up…", model or OFFLINE_EMBEDDER, why)
        self._thread: threading.Thread | None = None

    @property
    def demo_name(self) -> str | None:
        """The demo collection's name, or None when the app has no demo."""
        return self._demo.name if self._demo else None

    def status(self) -> BootStatus:
        """The current status (a consistent snapshot)."""
        with self._lock:
            return self._status

    def start(self) -> None:
        """Start the background work once."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mmdemo-bootstrap", daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the background work (tests and scripts)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _update(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _progress(self, done: int, total: int) -> None:
        self._update(
            done=done, total=total, message=f"Indexing the demo collection: {done}/{total}"
        )

    def _run(self) -> None:
        try:
            self._sweep()
            self._choose_default()
            self._find_unavailable()
            self._index_demo()
        except MMDemoError as exc:
            log.warning("demo set-up failed: %s", exc)
            self._update(phase="failed", message=f"The demo collection is not available: {exc}")
        except Exception:
            log.exception("start-up work failed")
            self._update(phase="failed", message="The demo collection could not be set up.")

    def _sweep(self) -> None:
        """Remove files that a killed ingest left behind (waits for running ingests)."""
        from mmdemo.manage import sweep_orphans
        from mmdemo.store import Store

        removed = sweep_orphans(self._settings, Store(self._settings), apply=True)
        if removed:
            log.info("removed %d stored file(s) that no item refers to", len(removed))

    def _choose_default(self) -> None:
        if self._model:
            return
        from mmdemo.models.loading import default_embedder

        name, why = default_embedder(self._settings)
        self._update(default_model=name, default_why=why)

    def _find_unavailable(self) -> None:
        from mmdemo.models.loading import hub_reachable, unavailable_presets

        self._update(unavailable=unavailable_presets(hub_reachable()[0]))

    def _index_demo(self) -> None:
        demo = self._demo
        if demo is None:
            self._update(phase="ready", message="")
            return
        from mmdemo.ingest.indexer import index_paths
        from mmdemo.models.registry import resolve
        from mmdemo.store import Store

        status = self.status()
        models = _unique([status.default_model] + ([] if self._model else [OFFLINE_EMBEDDER]))
        store = Store(self._settings)
        keys = [resolve(name, "embedder").key for name in models]
        if not all(store.has_model(demo.name, key) for key in keys):
            self._update(phase="indexing", message="Indexing the demo collection…")
            report = index_paths(
                [demo.folder],
                collection=demo.name,
                models=models,
                settings=self._settings,
                store=store,
                captions=demo.captions if demo.captions and demo.captions.exists() else None,
                progress=self._progress,
            )
            if report.added + report.present == 0:
                reasons = "; ".join(f"{r.file}: {r.reason}" for r in report.rejected[:3])
                raise InputError(
                    f"no image could be indexed from {demo.folder} ({reasons or 'no files'})."
                )
        self._warm_up(store, status.default_model)
        images = store.models(demo.name).get(keys[0], 0)
        self._update(
            phase="ready", message=f"Demo collection {demo.name!r} ready: {images} images."
        )

    def _warm_up(self, store: Store, model: str) -> None:
        """One search with the default embedder and reranker, so the first click is warm."""
        from mmdemo.models.registry import default_reranker
        from mmdemo.search.engine import warm_up

        assert self._demo is not None
        self._update(message="Warming up the models…")
        try:
            warm_up(
                collection=self._demo.name,
                model=model,
                reranker=default_reranker(model),
                settings=self._settings,
                store=store,
            )
        except MMDemoError as exc:
            log.warning("warm-up search failed: %s", exc)
