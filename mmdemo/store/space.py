"""Running out of disk: a clear error for writes, and reads that keep working.

SQLite needs a little free space even to read through chromadb: opening a client starts
a write transaction (chromadb's ``acquire_write`` row), whose rollback journal cannot be
created on a full disk, so ``list``, ``search`` and ``gc`` failed with "database or disk
is full" exactly when the operator needed them. The data dir therefore keeps a few
megabytes in reserve (:data:`RESERVE_BYTES`, the file ``space.reserve``), made while there
is room. When the disk is full, opening the database gives the reserve up and tries
again, and from then on every write that adds something is refused while less than the
reserve is free (:func:`require_room`), so that space stays for reads, deletes and
``gc``; the reserve comes back once there is room again.
"""

from __future__ import annotations

import errno
import shutil
from pathlib import Path

from mmdemo.atomic import Content, write_atomically
from mmdemo.config import Settings
from mmdemo.errors import OutOfSpaceError

#: Kept free for reads, deletes and gc: chromadb's journal on opening, the change marker,
#: and the journal of a delete need a few pages each.
RESERVE_BYTES = 8 * 1024 * 1024
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FULL_WORDS = ("disk is full", "no space left on device", "quota exceeded")


def reserve_path(settings: Settings) -> Path:
    """The reserve file of a data dir."""
    return settings.data_dir / "space.reserve"


def is_out_of_space(exc: BaseException) -> bool:
    """Whether ``exc`` (an OSError, or chromadb's or SQLite's error) says the disk is full."""
    for cause in _chain(exc):
        if isinstance(cause, OSError) and cause.errno in _FULL_ERRNOS:
            return True
        if any(words in str(cause).lower() for words in _FULL_WORDS):
            return True
    return False


def _chain(exc: BaseException) -> list[BaseException]:
    found: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in found:
        found.append(current)
        current = current.__cause__ or current.__context__
    return found


def _free(folder: Path) -> int:
    return shutil.disk_usage(folder).free


def keep_reserve(settings: Settings) -> bool:
    """Make the reserve where there is room for it twice over; whether it exists now."""
    path = reserve_path(settings)
    if path.exists():
        return True
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        if _free(settings.data_dir) < 2 * RESERVE_BYTES:
            return False
        # written, not sparse: the blocks are taken
        write_atomically(path, bytes(RESERVE_BYTES), suffix=".part")
    except OSError:
        return False
    return True


def write_stored(target: Path, content: Content) -> None:
    """Write a stored file (an image copy, a thumbnail, a feature row, a map atlas)
    atomically, through a ``.part`` temporary (what ``gc`` sweeps and the re-scrub skips),
    with the ``copy-write`` crash point before the rename.

    A full disk raises :class:`OutOfSpaceError`: the whole ingest stops, not one file.
    """
    try:
        write_atomically(target, content, suffix=".part", crash_at="copy-write")
    except OSError as exc:
        if is_out_of_space(exc):
            raise OutOfSpaceError(OUT_OF_SPACE) from exc
        raise


def release_reserve(settings: Settings) -> bool:
    """Give the reserve up (the disk is full); whether there was one."""
    path = reserve_path(settings)
    if not path.exists():
        return False
    path.unlink(missing_ok=True)
    return True


def require_room(settings: Settings) -> None:
    """Refuse a write that adds data while the disk is full: while the reserve is given up
    and there is no room to make it again, so that what is left stays for reads, deletes
    and gc."""
    if not keep_reserve(settings):
        raise OutOfSpaceError(OUT_OF_SPACE)


#: What a user is told when the disk is full.
OUT_OF_SPACE = (
    "The server is out of disk space, so nothing more can be stored now: free some space "
    "or delete collections (the operator can also run `python -m mmdemo gc --apply`)."
)
