"""The data dir's layout version, and the migrations that bring an older data dir up to it.

``<data_dir>/layout-version`` holds one integer: the layout of everything under the data
dir (stored copies, thumbnails, feature rows, lexical indexes; Chroma keeps its own schema
version inside its database). A data dir without the file is version 1, the layout from
before it existed, unless it holds nothing yet: then it is stamped at :data:`CURRENT`.

Opening a store (:func:`ensure_current`) costs one small read while the version is current.
An older data dir is migrated once, under a file lock in ``locks/``, so two processes that
open it at once migrate it once: the second finds it done. The version is written after
each step, atomically, and each step can run again over its own half-done work, so a crash
midway (kill -9 included) leaves a data dir the next open finishes migrating. A data dir
from a newer mmdemo is refused with one sentence and left untouched, as is an older one
in a read-only store.

Adding a migration: write a function ``(settings) -> None`` whose docstring says what it
changes, safe to run again after a crash part way through, and append it to
:data:`MIGRATIONS`; :data:`CURRENT` follows. A change to what a derived file holds is a
migration too (e.g. one that removes ``lexical/*.json``, which the next search rebuilds).
``MMDEMO_CRASH_AT=migration-step`` (:mod:`mmdemo.crashpoint`) kills the process part way
through the feature rows' move, for the crash test.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from filelock import FileLock

from mmdemo.atomic import write_atomically
from mmdemo.config import Settings
from mmdemo.crashpoint import crash_point
from mmdemo.errors import DataDirError, ReadOnlyError

VERSION_FILE = "layout-version"
#: What a fresh data dir may already hold and still count as holding nothing.
_NOTHING_YET = {"locks"}

Migration = Callable[[Settings], None]


def safe_name(text: str, fallback: str) -> str:
    """``text`` as one folder name: runs of other characters than ``A-Za-z0-9._-`` as
    ``_`` (a reranker key, a feature row layout)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or fallback


def _feature_rows_by_layout(settings: Settings) -> None:
    """Feature rows move from ``features/<reranker>/<id[:2]>/``, with a ``LAYOUT`` file
    naming their layout, to ``features/<reranker>/<layout>/<id[:2]>/``: the folder names
    the layout and the marker file goes. Rows from before layouts were named (no
    ``LAYOUT`` file) are removed: no reranker reads them, they are computed again."""
    root = settings.data_dir / "features"
    for reranker in sorted(root.iterdir()) if root.is_dir() else []:
        marker = reranker / "LAYOUT"
        try:
            layout: str | None = marker.read_text(encoding="utf-8")
        except FileNotFoundError:
            layout = None
        for shard in sorted(reranker.glob("??")):
            if not shard.is_dir():
                continue
            if layout is None:
                shutil.rmtree(shard)
                continue
            target = reranker / safe_name(layout, "layout") / shard.name
            target.parent.mkdir(exist_ok=True)
            shard.rename(target)
            crash_point("migration-step")
        marker.unlink(missing_ok=True)


#: The data dir's derived caches: each rebuilt from the store when it is missing.
DERIVED_CACHES = ("maps", "fingerprints", "atlases")


def _derived_caches_unnumbered(settings: Settings) -> None:
    """Collection maps, image fingerprints and map atlases stop carrying a format number in
    their names (``-v2``, ``dct-v1``), since a change to what they hold is now a migration
    like this one: the caches written under the old names are removed (each is rebuilt
    when it is next used)."""
    for folder in DERIVED_CACHES:
        shutil.rmtree(settings.data_dir / folder, ignore_errors=True)


#: In order: the n-th brings a data dir from version n to n + 1 (version 1 has no file).
MIGRATIONS: tuple[Migration, ...] = (_feature_rows_by_layout, _derived_caches_unnumbered)
#: The layout this mmdemo writes and reads.
CURRENT = len(MIGRATIONS) + 1


def read_version(data_dir: Path) -> int | None:
    """The layout version ``data_dir`` says it has; None without a version file."""
    path = data_dir / VERSION_FILE
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataDirError(f"Cannot read the data dir's layout version {path}: {exc}.") from exc
    if not text.isdigit() or int(text) < 1:
        raise DataDirError(
            f"The data dir's layout version file {path} holds {text[:20]!r}, not a version "
            "number: restore it or point MMDEMO_DATA_DIR at another folder."
        )
    return int(text)


def ensure_current(settings: Settings, migrations: tuple[Migration, ...] | None = None) -> None:
    """Bring ``settings.data_dir`` to the current layout (see the module's docstring).

    ``migrations`` stands in for :data:`MIGRATIONS` (tests); the current version is one
    more than their count.
    """
    steps = MIGRATIONS if migrations is None else migrations
    data_dir, current = settings.data_dir, len(steps) + 1
    found = _checked(data_dir, read_version(data_dir), current)
    if found == current:
        return
    if settings.readonly:
        if found is None and _holds_nothing(data_dir):
            return
        raise ReadOnlyError(
            f"The data dir {data_dir} has layout version {found or 1} and this mmdemo needs "
            f"{current}: open it once without MMDEMO_READONLY to migrate it."
        )
    settings.locks_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(settings.locks_dir / "layout.lock"):
        found = _checked(data_dir, read_version(data_dir), current)
        if found is None and _holds_nothing(data_dir):
            found = current
            _write_version(data_dir, current)
        for version in range(found or 1, current):
            steps[version - 1](settings)
            _write_version(data_dir, version + 1)


def _checked(data_dir: Path, found: int | None, current: int) -> int | None:
    """``found``, unless it is newer than ``current``: then the data dir is refused."""
    if found is not None and found > current:
        raise DataDirError(
            f"The data dir {data_dir} was written by a newer mmdemo (layout version {found}; "
            f"this one reads up to {current}): upgrade mmdemo or use another data dir."
        )
    return found


def _holds_nothing(data_dir: Path) -> bool:
    """Whether ``data_dir`` is missing or holds nothing but what a first open makes."""
    if not data_dir.is_dir():
        return True
    return all(path.name in _NOTHING_YET for path in data_dir.iterdir())


def _write_version(data_dir: Path, version: int) -> None:
    """Write the version file through a temporary one, flushed, then renamed into place."""
    write_atomically(data_dir / VERSION_FILE, f"{version}\n", fsync=True)
