"""First-start work done off the request path: pick the default embedder, index the demos.

The page is served at once; this runs in a background thread and the page polls its
status. Loading models and importing the heavy libraries happens here, not before launch.
The demos (mmdemo/demos.py) are indexed in order, photos first, and the models are warmed
up as soon as that first demo is ready; a demo whose sources have not changed since it was
indexed (a digest kept in ``<data_dir>/demos.json``) is not read again, so later starts are
quick. A demo that cannot be set up is reported in the status and the others still index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from mmdemo.config import Settings
from mmdemo.demos import Demo, DemoPlan
from mmdemo.errors import MMDemoError
from mmdemo.models.registry import OFFLINE_EMBEDDER
from mmdemo.runtime import Runtime, default_runtime
from mmdemo.ui.demo_run import DemoRun

if TYPE_CHECKING:
    from mmdemo.store import Store

log = logging.getLogger(__name__)

#: How many progress lines the terminal gets over one start-up's demo indexing.
PROGRESS_LINES = 10


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
    #: Stored names of the demo collections ready to search so far.
    ready_demos: tuple[str, ...] = ()
    #: One sentence per demo that could not be set up, or per bad MMDEMO_DEMO_SOURCES entry.
    problems: tuple[str, ...] = ()

    @property
    def finished(self) -> bool:
        """Whether the start-up work has ended, well or not."""
        return self.phase in ("ready", "failed")

    def demo_ready(self, collection: str) -> bool:
        """Whether the demo stored as ``collection`` can be searched now."""
        return collection in self.ready_demos


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


class Bootstrap:
    """Chooses the default embedder and indexes the demo collections in a background thread.

    ``model`` fixes the default embedder (and the only demo model); without it,
    :func:`~mmdemo.models.loading.default_embedder` decides, and the demos are indexed with
    that model and with the offline ``lite`` model. ``plan`` lists the demos (None: none).
    ``tell`` gets what the page says, one line at a time, for the app's terminal.
    """

    def __init__(
        self,
        settings: Settings,
        plan: DemoPlan | None,
        model: str | None,
        tell: Callable[[str], object] = lambda _: None,
        runtime: Runtime | None = None,
    ) -> None:
        """Remember what to do; nothing runs before :meth:`start`."""
        self.runtime = runtime or default_runtime()
        # The app's own demo set-up is not a user write, so it may run in read-only mode.
        self._settings = replace(settings, readonly=False)
        self._readonly = settings.readonly
        self._plan = plan or DemoPlan(())
        self._model = model
        self._lock = threading.Lock()
        why = f"Default embedder {model!r}, as configured." if model else ""
        self._status = BootStatus(
            "starting",
            "Starting up…",
            model or OFFLINE_EMBEDDER,
            why,
            problems=self._plan.problems,
        )
        self._thread: threading.Thread | None = None
        self._tell = tell
        self._url = ""
        self._told = -1  # the last progress step told, of PROGRESS_LINES

    @property
    def demo_name(self) -> str | None:
        """The primary demo collection (photos, the first screen's), or None without demos."""
        return self._plan.demos[0].collection if self._plan.demos else None

    @property
    def demos(self) -> tuple[Demo, ...]:
        """Every demo this app sets up, in the order they are indexed (the registry the
        page reads: :attr:`Demo.collection` and :attr:`Demo.label`)."""
        return self._plan.demos

    def demo(self, collection: str) -> Demo | None:
        """The demo stored as ``collection``, or None when it is not a demo."""
        return self._plan.find(collection.strip())

    def status(self) -> BootStatus:
        """The current status (a consistent snapshot)."""
        with self._lock:
            return self._status

    def start(self, url: str = "") -> None:
        """Start the background work once; ``url``: where the page is served, for the
        terminal's lines."""
        if url:
            self._url = url.rstrip("/")
            self._tell(f"Serving the page at {self._url}; the demos are set up in the background.")
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

    def _run(self) -> None:
        try:
            self._scrub_copies()
            self._sweep()
            hub_why = self._find_unavailable()
            self._choose_default(hub_why)
            self._index_demos()
            self._fill_captions()
        except MMDemoError as exc:
            log.warning("demo set-up failed: %s", exc)
            self._update(phase="failed", message=f"The demo collections are not available: {exc}")
        except Exception:
            log.exception("start-up work failed")
            self._update(phase="failed", message="The demo collections could not be set up.")
        self._tell_ready()

    def _tell_ready(self) -> None:
        """The terminal's last start-up line: ready (and where), or why not."""
        status = self.status()
        where = f" at {self._url}" if self._url else ""
        if status.phase == "ready":
            self._tell(f"Ready{where}. {status.message}".rstrip())
        else:
            self._tell(f"Started{where}, without demos. {status.message}")

    def _scrub_copies(self) -> None:
        """Where visitors are served, rewrite stored copies that still carry GPS."""
        from mmdemo.ingest.rescrub import scrub_stored_copies

        rewritten = scrub_stored_copies(self._settings, runtime=self.runtime)
        if rewritten:
            log.info("removed GPS and private metadata from %d stored copies", rewritten)

    def _sweep(self) -> None:
        """Remove files that a killed ingest left behind (waits for running ingests)."""
        from mmdemo.manage import sweep_orphans
        from mmdemo.store import Store

        removed = sweep_orphans(self._settings, Store(self._settings, self.runtime), apply=True)
        if removed:
            log.info("removed %d stored file(s) that no item refers to", len(removed))

    def _fill_captions(self) -> None:
        """Embed the caption vectors of collections indexed before they existed (a search
        never does), last; a read-only app fills only its own demos."""
        from mmdemo.ingest.caption_vectors import fill_missing_captions

        own = [demo.collection for demo in self.demos]
        fill_missing_captions(self._settings, own if self._readonly else None)

    def _choose_default(self, hub_why: str) -> None:
        """The default embedder (CLIP not even tried where it cannot load), told to the
        terminal with the models that cannot load."""
        unavailable = self.status().unavailable
        if not self._model:
            from mmdemo.models.loading import default_embedder

            hub = (not hub_why, hub_why)
            name, told = default_embedder(self._settings, self.runtime, hub)
            self._update(default_model=name, default_why=told)
        self._tell(self.status().default_why)
        if unavailable:
            self._tell(
                f"Models that cannot load here ({hub_why}; not cached): "
                f"{', '.join(unavailable)}; use a Space or a machine that reaches the Hub for them."
            )

    def _find_unavailable(self) -> str:
        """Record the presets that cannot load here; returns why the Hub is out of reach
        (empty when it is not)."""
        from mmdemo.models.loading import hub_reachable, unavailable_presets

        reachable, why = hub_reachable()
        self._update(unavailable=unavailable_presets(reachable))
        return why

    def _index_demos(self) -> None:
        from mmdemo.models.registry import resolve
        from mmdemo.store import Store

        if not self._plan.demos:
            self._update(phase="ready", message="")
            return
        status = self.status()
        models = _unique([status.default_model] + ([] if self._model else [OFFLINE_EMBEDDER]))
        keys = [resolve(name, "embedder").key for name in models]
        run = DemoRun(self, Store(self._settings, self.runtime), models, keys)
        run.plan()
        run.index()
        self._finish(run)

    def _finish(self, run: DemoRun) -> None:
        problems = (*self._plan.problems, *run.problems)
        if not run.ready:
            message = "No demo collection is available: " + " ".join(problems)
            self._update(phase="failed", message=message, problems=problems)
            return
        counts = ", ".join(f"{demo.key} {count}" for demo, count in run.counts.items())
        message = f"Demo collections ready: {counts} items."
        if problems:
            message += " " + " ".join(problems)
        self._update(phase="ready", message=message, problems=problems)

    def warm_up(self, store: Store, collection: str) -> None:
        """One search with the default embedder and reranker, so the first click is warm."""
        from mmdemo.models.registry import default_reranker
        from mmdemo.search.engine import warm_up

        model = self.status().default_model
        self._update(message="Warming up the models…")
        try:
            warm_up(
                collection=collection,
                model=model,
                reranker=default_reranker(model),
                settings=self._settings,
                store=store,
            )
        except MMDemoError as exc:
            log.warning("warm-up search failed: %s", exc)

    @property
    def settings(self) -> Settings:
        """The settings the start-up work runs with (writable even in a read-only app)."""
        return self._settings

    @property
    def fallbacks(self) -> dict[str, Demo]:
        """The bundled demo for each key that the operator replaced."""
        return self._plan.fallbacks

    def mark_ready(self, collection: str) -> None:
        """Record that the demo stored as ``collection`` can be searched."""
        with self._lock:
            if collection not in self._status.ready_demos:
                ready = (*self._status.ready_demos, collection)
                self._status = replace(self._status, ready_demos=ready)

    def progress(self, done: int, total: int) -> None:
        """Progress over every demo being indexed, as one count of items (told to the
        terminal PROGRESS_LINES times over the whole run)."""
        message = f"Indexing the demo collections: {done}/{total}"
        self._update(done=done, total=total, message=message)
        step = done * PROGRESS_LINES // max(total, 1)
        if step > self._told:
            self._told = step
            self._tell(f"{message} images")
