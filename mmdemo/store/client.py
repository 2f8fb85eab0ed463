"""Chroma clients: a server's, or this process's one client of a local database.

Several processes (the app and the CLI) may share one local database. Chroma keeps each
collection's vector index in memory per process and never reloads it when another process
writes, so a long-lived process would keep counting new items but never find them. Every
write therefore happens under an inter-process file lock (:meth:`Clients.write_lock`) and
bumps a change marker; a process that sees the marker move reopens its one local client
before reading or writing. The open clients and the markers seen are a :class:`Clients`
that the process's :class:`mmdemo.runtime.Runtime` owns.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from mmdemo.atomic import write_atomically
from mmdemo.compat import forget_chroma_system
from mmdemo.config import Settings
from mmdemo.crashpoint import crash_point
from mmdemo.errors import MMDemoError, OutOfSpaceError
from mmdemo.store import space
from mmdemo.store.url import parse_url

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

#: chromadb fails when two threads open clients at the same moment, whichever Clients asks:
#: its own system cache is the process's, so this lock is too.
_OPENING = threading.Lock()
_SEEN_HELD = 16  # open marker files at most (a process rarely uses more data dirs)


def connect(settings: Settings) -> ClientAPI:
    """A Chroma client for ``settings``; any failure to open it becomes an MMDemoError."""
    with _OPENING:
        return _open_client(settings)


@dataclass
class _Local:
    """A client of one local database and the change marker it has seen."""

    client: ClientAPI
    version: str


@dataclass
class _Seen:
    """The marker file last read, held open so its inode cannot be reused."""

    handle: BinaryIO
    inode: tuple[int, int]
    token: str


def _marker_path(settings: Settings) -> Path:
    return settings.locks_dir / "store.version"


class Clients:
    """The one client per local database folder, and the change markers last read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # guards both tables
        self._local: dict[str, _Local] = {}  # by database folder
        self._seen: dict[Path, _Seen] = {}  # by marker path

    def local(self, settings: Settings) -> ClientAPI:
        """The client of the local database, reopened when another process wrote.

        chromadb caches one system per folder; dropping it from that cache makes the next
        client a new system that reads the indexes from disk. The old one is freed once no
        request in flight uses it.
        """
        version = self.read_marker(settings)
        key = str(settings.chroma_dir)
        with self._lock:
            current = self._local.get(key)
            if current is None or current.version != version:
                if current is not None:
                    forget_chroma_system(key)
                current = _Local(connect(settings), version)
                self._local[key] = current
            return current.client

    def read_marker(self, settings: Settings) -> str:
        """The change marker: a token every write replaces ("" before the first write).

        Every store access asks, so an unchanged marker costs one ``stat``. Each write
        renames a new file into place, so the marker changed exactly when the path names
        another inode than the file last read, which stays open here so no new file can
        take its inode.
        """
        path = _marker_path(settings)
        try:
            status = path.stat()
        except OSError:
            return ""
        with self._lock:
            seen = self._seen.get(path)
            if seen is not None and seen.inode == (status.st_dev, status.st_ino):
                return seen.token
            try:
                handle = path.open("rb")
            except OSError:
                return ""
            opened = os.fstat(handle.fileno())
            token = handle.read().decode("ascii")
            if seen is not None:
                seen.handle.close()
            self._seen[path] = _Seen(handle, (opened.st_dev, opened.st_ino), token)
            while len(self._seen) > _SEEN_HELD:
                self._seen.pop(next(iter(self._seen))).handle.close()
            return token

    def _bump_marker(self, settings: Settings, version: str) -> None:
        """Replace the change marker atomically (under the write lock).

        Writes through this client are visible to it already, so it records the new marker
        as seen; other processes (and other Clients) see it move and reopen.
        """
        with self._lock:
            write_atomically(_marker_path(settings), version)
            current = self._local.get(str(settings.chroma_dir))
            if current is not None:
                current.version = version

    @contextmanager
    def write_lock(self, settings: Settings) -> Iterator[WriteMarkers]:
        """Hold the inter-process write lock around one write, moving the change marker
        before the write (so no reader trusts an index a crashed write may have half-changed)
        and after.
        """
        # lazy: filelock: keeps it out of commands that write no store
        from filelock import FileLock

        settings.locks_dir.mkdir(parents=True, exist_ok=True)
        with FileLock(settings.locks_dir / "store.lock"):
            self.local(settings)  # reopen if stale: a stale index must never be written back
            markers = WriteMarkers(self.read_marker(settings), uuid.uuid4().hex, uuid.uuid4().hex)
            self._bump_marker(settings, markers.during)
            yield markers
            crash_point("store-write")
            self._bump_marker(settings, markers.after)


def _open_client(settings: Settings) -> ClientAPI:
    # lazy: chromadb: keeps it out of commands that open no store
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        host, port, ssl = parse_url(settings.chroma_url)
        try:
            client = chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
            client.heartbeat()
        except Exception as exc:  # chromadb wraps transport errors in varied types
            raise MMDemoError(
                f"Cannot reach the Chroma server at {settings.chroma_url} ({exc})."
            ) from exc
        return client
    path = settings.chroma_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        client = chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # an unwritable folder or a database of another version
        forget_chroma_system(str(path))  # the failed system
        if space.is_out_of_space(exc):
            if space.release_reserve(settings):  # opening writes a little: give room
                return _open_client(settings)
            raise OutOfSpaceError(space.OUT_OF_SPACE) from exc
        raise MMDemoError(f"Cannot open the Chroma database in {path} ({exc}).") from exc
    space.keep_reserve(settings)
    return client


@dataclass(frozen=True)
class WriteMarkers:
    """The change markers around one write: found when the lock was taken, while writing
    (readers that see it know a write is under way or crashed), and after it."""

    before: str
    during: str
    after: str
