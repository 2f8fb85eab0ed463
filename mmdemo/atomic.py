"""Atomic file writes: a temporary file next to the target, then a rename into place.

Every file mmdemo writes that a reader or another process may open while it is written
(stored copies, thumbnails, feature rows, caches, the change marker, the layout version)
goes through :func:`write_atomically`, so that a reader sees the old file or the new one,
never half of one, and two writers of the same file never share a temporary.

A temporary is named ``<target name>.<random hex><suffix>`` in the target's folder. The
suffix is what the sweepers look for: ``.part`` under the stored files (``gc`` removes
them, the re-scrub skips them), ``.tmp`` elsewhere (``gc`` removes those of the lexical
folder). A temporary is removed whatever happens, unless the process is killed first.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from mmdemo.crashpoint import crash_point

#: What is written: the bytes, the text (UTF-8), or a callable that writes the file at the
#: path it is given (a temporary one, which it creates).
Content = bytes | str | Callable[[Path], object]
#: How old a temporary must be to count as abandoned by a killed writer (no write takes
#: this long), so a sweep never removes one that a writer is about to rename.
ABANDONED_S = 3600.0
_TEMPORARY = re.compile(r"\.[0-9a-f]{32}\.(tmp|part)$")


def write_atomically(
    target: Path,
    content: Content,
    *,
    suffix: str = ".tmp",
    fsync: bool = False,
    crash_at: str | None = None,
) -> None:
    """Write ``content`` to a temporary file of this call's own next to ``target``, then
    rename it onto ``target``; the temporary is removed on any failure.

    ``target``'s folder is made if missing. With ``fsync`` the temporary's data reaches
    the disk before the rename (for a file whose loss after a power cut matters).
    ``crash_at`` names the :mod:`mmdemo.crashpoint` point between the write and the
    rename. An ``OSError`` propagates, with ``target`` as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f"{target.name}.{uuid.uuid4().hex}{suffix}")
    try:
        _write(temporary, content)
        if fsync:
            _sync(temporary)
        if crash_at is not None:
            crash_point(crash_at)
        temporary.replace(target)
    finally:
        temporary.unlink(missing_ok=True)


def _write(path: Path, content: Content) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        content(path)


def _sync(path: Path) -> None:
    handle = os.open(path, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def abandoned(folder: Path, now: float | None = None) -> list[Path]:
    """The temporaries directly in ``folder`` that a killed writer left: named as
    :func:`write_atomically` names them, and last written :data:`ABANDONED_S` ago or more
    (for ``gc``)."""
    if not folder.is_dir():
        return []
    cutoff = (time.time() if now is None else now) - ABANDONED_S
    found = []
    for path in sorted(folder.iterdir()):
        try:
            if _TEMPORARY.search(path.name) and path.stat().st_mtime <= cutoff:
                found.append(path)
        except FileNotFoundError:  # renamed into place meanwhile
            continue
    return found
