"""The lock over the stored image files: ingests share them, a remover waits for none.

Its protocol spans processes (lock files under ``locks/``) and threads (a condition); the
in-process part belongs to the :class:`mmdemo.runtime.Runtime` that indexes and deletes.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from mmdemo.config import Settings

if TYPE_CHECKING:
    from filelock import FileLock

INGEST_LOCK_PREFIX = "ingest-"


class FilesLock:
    """Indexing runs share the stored files; removing files waits until none is running.

    An indexer saves a copy before the store records its item; a delete or a sweep in
    between would see no reference and remove it. So removing waits for every ingest, in
    this process (a condition) and in any other process sharing the data dir: each ingest
    holds a lock file of its own under ``locks/`` for its whole run, and a remover holds
    ``locks/files.lock`` (which new ingests pass through) while it waits for those to end.
    A lock file whose process died (kill -9) is free at once: the OS drops its lock.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._indexing = 0
        self._deleting = False

    @contextmanager
    def indexing(self, settings: Settings) -> Iterator[None]:
        """Held for a whole ingest; any number at once."""
        with self._changed:
            self._changed.wait_for(lambda: not self._deleting)
            self._indexing += 1
        try:
            with _registered_ingest(settings):
                yield
        finally:
            with self._changed:
                self._indexing -= 1
                self._changed.notify_all()

    @contextmanager
    def deleting(self, settings: Settings) -> Iterator[None]:
        """Held while deciding which files are orphans and removing them; alone."""
        with self._changed:
            self._changed.wait_for(lambda: not self._deleting and not self._indexing)
            self._deleting = True
        try:
            with _files_lock(settings):
                _wait_for_ingests(settings)
                yield
        finally:
            with self._changed:
                self._deleting = False
                self._changed.notify_all()


def _files_lock(settings: Settings) -> FileLock:
    # lazy: filelock: keeps it out of commands that neither index nor delete
    from filelock import FileLock

    settings.locks_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(settings.locks_dir / "files.lock")


@contextmanager
def _registered_ingest(settings: Settings) -> Iterator[None]:
    """This ingest's own lock file, taken while no remover runs and held to the end."""
    # lazy: filelock: as in _files_lock
    from filelock import FileLock

    with _files_lock(settings):
        lock = FileLock(settings.locks_dir / f"{INGEST_LOCK_PREFIX}{uuid.uuid4().hex}.lock")
        lock.acquire()
    try:
        yield
    finally:
        lock.release()
        Path(lock.lock_file).unlink(missing_ok=True)


def _wait_for_ingests(settings: Settings) -> None:
    """Wait until every other process's ingest has ended; clear lock files of dead ones."""
    # lazy: filelock: as in _files_lock
    from filelock import FileLock

    for path in sorted(settings.locks_dir.glob(f"{INGEST_LOCK_PREFIX}*.lock")):
        with FileLock(path):
            path.unlink(missing_ok=True)
