"""Chroma clients: a server's, or this process's one client of a local database.

Several processes (the app and the CLI) may share one local database. Chroma keeps each
collection's vector index in memory per process and never reloads it when another process
writes, so a long-lived process would keep counting new items but never find them. Every
write therefore happens under an inter-process file lock (:func:`write_lock`) and bumps a
change marker; a process that sees the marker move reopens its one local client before
reading or writing.
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

from mmdemo.compat import forget_chroma_system
from mmdemo.config import Settings
from mmdemo.crashpoint import crash_point
from mmdemo.errors import MMDemoError, OutOfSpaceError
from mmdemo.store import space
from mmdemo.store.url import parse_url

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

_connect_lock = threading.Lock()


def connect(settings: Settings) -> ClientAPI:
    """A Chroma client for ``settings``; any failure to open it becomes an MMDemoError."""
    with _connect_lock:  # chromadb fails when two threads open clients at the same moment
        return _open_client(settings)


@dataclass
class _Local:
    """This process's client of one local database and the change marker it has seen."""

    client: ClientAPI
    version: str


_local: dict[str, _Local] = {}  # by database folder; guarded by _connect_lock


def local_client(settings: Settings) -> ClientAPI:
    """The process-wide client of the local database, reopened when another process wrote.

    chromadb caches one system per folder; dropping it from that cache makes the next
    client a new system that reads the indexes from disk. The old one is freed once no
    request in flight uses it.
    """
    version = read_marker(settings)
    key = str(settings.chroma_dir)
    with _connect_lock:
        current = _local.get(key)
        if current is None or current.version != version:
            if current is not None:
                forget_chroma_system(key)
            current = _Local(_open_client(settings), version)
            _local[key] = current
        return current.client


def _marker_path(settings: Settings) -> Path:
    return settings.locks_dir / "store.version"


@dataclass
class _Seen:
    """The marker file this process last read, held open so its inode cannot be reused."""

    handle: BinaryIO
    inode: tuple[int, int]
    token: str


_seen: dict[Path, _Seen] = {}  # by marker path; guarded by _connect_lock
_SEEN_HELD = 16  # open marker files at most (a process rarely uses more data dirs)


def read_marker(settings: Settings) -> str:
    """The change marker: a token every write replaces ("" before the first write).

    Every store access asks, so an unchanged marker costs one ``stat``. Each write renames a
    new file into place, so the marker changed exactly when the path names another inode
    than the file last read, which stays open here so no new file can take its inode.
    """
    path = _marker_path(settings)
    try:
        status = path.stat()
    except OSError:
        return ""
    with _connect_lock:
        seen = _seen.get(path)
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
        _seen[path] = _Seen(handle, (opened.st_dev, opened.st_ino), token)
        while len(_seen) > _SEEN_HELD:
            _seen.pop(next(iter(_seen))).handle.close()
        return token


def _bump_marker(settings: Settings, version: str | None = None) -> None:
    """Replace the change marker atomically (under the write lock).

    This process's own writes are visible to its client already, so it records the new
    marker as seen; other processes see it move and reopen.
    """
    version = version or uuid.uuid4().hex
    path = _marker_path(settings)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(version, encoding="ascii")
    with _connect_lock:
        tmp.replace(path)
        current = _local.get(str(settings.chroma_dir))
        if current is not None:
            current.version = version


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


@contextmanager
def write_lock(settings: Settings) -> Iterator[WriteMarkers]:
    """Hold the inter-process write lock around one write, moving the change marker before
    the write (so no reader trusts an index a crashed write may have half-changed) and after.
    """
    # lazy: filelock: keeps it out of commands that write no store
    from filelock import FileLock

    settings.locks_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(settings.locks_dir / "store.lock"):
        local_client(settings)  # reopen if stale: a stale index must never be written back
        markers = WriteMarkers(read_marker(settings), uuid.uuid4().hex, uuid.uuid4().hex)
        _bump_marker(settings, markers.during)
        yield markers
        crash_point("store-write")
        _bump_marker(settings, markers.after)
