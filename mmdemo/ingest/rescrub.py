"""Stored copies that still carry GPS, scrubbed where visitors are served.

Copies stored before scrubbing existed, or by the operator in single-user mode (which
keeps the file as it is), still carry the position, the owner's name, serial numbers and
XMP. Once the app serves visitors (GPS dropped, ``settings.keeps_gps`` false) the media
route must not hand them out, so :func:`scrub_stored_copies` rewrites each such copy as
indexing writes one now (:func:`mmdemo.ingest.copies.shareable_writer`): under the same
name, so ids, vectors and thumbnails stay as they are, and atomically, so a crash leaves
the old copy or the new one. It runs at the start-up of a multi-visitor app and from
``python -m mmdemo gc --scrub``.

A stamp in the data dir records when a pass last finished; the next one reads only the
copies written since (a later start costs one ``stat`` per copy), since single-user mode
may add unscrubbed copies at any time.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

from mmdemo.config import Settings
from mmdemo.errors import ImageRejected
from mmdemo.ingest import formats
from mmdemo.ingest.copies import shareable_writer
from mmdemo.ingest.formats.exif import carries_private
from mmdemo.ingest.images import decode_image, open_headers
from mmdemo.runtime import Runtime, default_runtime
from mmdemo.store.space import write_stored

log = logging.getLogger(__name__)

#: The file whose modification time says when the last full pass began.
STAMP = "copies-scrubbed.stamp"


def _stamp(settings: Settings) -> Path:
    return settings.data_dir / STAMP


def _written_since(settings: Settings) -> list[Path]:
    """The stored copies written since the last pass began (all of them before the first)."""
    folder = settings.images_dir
    if not folder.is_dir():
        return []
    stamp = _stamp(settings)
    since = stamp.stat().st_mtime if stamp.is_file() else None
    return [
        path
        for path in sorted(folder.iterdir())
        if path.is_file()
        and path.suffix != ".part"
        and (since is None or path.stat().st_mtime >= since)
    ]


def _is_private(data: bytes, name: str) -> bool:
    """Whether a stored copy shares more than a visitor's copy may: its format's scrubber
    would change it (or cannot follow it), or, for a format without one, it carries
    private metadata."""
    found = formats.sniff(data)
    if found is not None and found.scrub is not None:
        try:
            return found.scrub(data) != data
        except ValueError:
            return True
    with open_headers(data, name) as image:
        return carries_private(image)


def _rewriter(path: Path) -> Callable[[Path], object] | None:
    """What writes the shareable copy of the stored copy ``path``; None when it already is
    one."""
    data = path.read_bytes()
    if not _is_private(data, path.name):
        return None
    return shareable_writer(decode_image(data, path.name), data)


def _scrub(settings: Settings, paths: list[Path], *, apply: bool) -> tuple[int, bool]:
    """How many of ``paths`` carry private metadata (rewritten with ``apply``), and
    whether every one of them could be read and written."""
    count, complete = 0, True
    for path in paths:
        try:
            write = _rewriter(path)
            if write is not None and apply:
                write_stored(path, write)
        except (OSError, ImageRejected) as exc:
            log.warning("stored copy %s cannot be scrubbed: %s", path.name, exc)
            complete = False
            continue
        count += write is not None
    return count, complete


def scrub_stored_copies(
    settings: Settings, *, apply: bool = True, runtime: Runtime | None = None
) -> int:
    """Rewrite every stored copy that still carries GPS or other private metadata, where
    visitors are served (``settings.keeps_gps`` false; elsewhere nothing is done); returns
    how many there were. Without ``apply`` they are only counted.

    Holds the stored files as an ingest does, so no delete or sweep removes a copy while
    it is rewritten. Copies that cannot be read or written are logged and tried again by
    the next pass.
    """
    if settings.keeps_gps:
        return 0
    began = time.time()
    with (runtime or default_runtime()).files.indexing(settings):
        count, complete = _scrub(settings, _written_since(settings), apply=apply)
    if apply and complete:
        _write_stamp(settings, began)
    return count


def _write_stamp(settings: Settings, began: float) -> None:
    """Record that every copy written before ``began`` is shareable; a data dir that
    cannot take the stamp is only read again in full next time."""
    stamp = _stamp(settings)
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.touch()
        os.utime(stamp, (began, began))
    except OSError as exc:
        log.warning("cannot record the scrubbed copies in %s: %s", stamp, exc)
