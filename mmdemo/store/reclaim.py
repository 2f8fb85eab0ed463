"""Disk space a local Chroma database keeps after collections are deleted, given back.

chromadb 1.5 deletes a collection's rows but leaves its vector segment folder
(``<chroma dir>/<segment uuid>/``, the HNSW files) on disk (chroma-core/chroma#5259), and
SQLite keeps freed pages in its file. :func:`unused_segments` lists the folders no segment
of the database names; :func:`reclaim` removes them and gives SQLite's free pages back.
Both run under the store's write lock, so no collection is being created meanwhile.
"""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from mmdemo.store.space import is_out_of_space

_DATABASE = "chroma.sqlite3"
#: Below this size a delete may rewrite the whole database file (VACUUM) to free its pages.
VACUUM_ON_DELETE_BYTES = 64 * 1024 * 1024
#: Chroma's full-text index of documents (captions): deleting rows leaves its segments.
_FULL_TEXT = "embedding_fulltext_search"


def _is_segment_name(name: str) -> bool:
    try:
        uuid.UUID(name)
    except ValueError:
        return False
    return True


@contextmanager
def _database(chroma_dir: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(chroma_dir / _DATABASE, timeout=60, isolation_level=None)) as db:
        yield db


def unused_segments(chroma_dir: Path) -> list[Path]:
    """Segment folders of ``chroma_dir`` that no segment of its database names, by name."""
    if not (chroma_dir / _DATABASE).is_file():
        return []
    with _database(chroma_dir) as db:
        live = {str(row[0]) for row in db.execute("SELECT id FROM segments")}
    return sorted(
        entry
        for entry in chroma_dir.iterdir()
        if entry.is_dir() and _is_segment_name(entry.name) and entry.name not in live
    )


def reclaim(chroma_dir: Path, *, full: bool = False) -> list[Path]:
    """Remove unused segment folders and give the database's free pages back to the disk;
    returns the folders removed.

    The full-text index is merged (deleted documents leave segments in it) and the free
    pages are returned: incrementally when the file allows it (cheap, in proportion to
    what was freed); else, for a small file or with ``full`` (``gc --apply``), by
    ``VACUUM``, which rewrites the file, needs as much free disk again, and switches it to
    incremental mode so that later deletes are cheap.
    """
    removed = unused_segments(chroma_dir)
    for folder in removed:
        shutil.rmtree(folder, ignore_errors=True)
    if not (chroma_dir / _DATABASE).is_file():
        return removed
    try:
        _compact(chroma_dir, full)
    except sqlite3.OperationalError as exc:  # a full disk: the folders are gone, that helps
        if not is_out_of_space(exc):
            raise
    return removed


def _compact(chroma_dir: Path, full: bool) -> None:
    """Merge the full-text index and give the database's free pages back (see reclaim)."""
    with _database(chroma_dir) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (_FULL_TEXT,)).fetchone():
            db.execute(f"INSERT INTO {_FULL_TEXT}({_FULL_TEXT}) VALUES ('optimize')")
        incremental = db.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        small = (chroma_dir / _DATABASE).stat().st_size <= VACUUM_ON_DELETE_BYTES
        if full or (not incremental and small):
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.execute("VACUUM")
        elif incremental:
            # A script steps the pragma to the end: each step frees one page.
            db.executescript("PRAGMA incremental_vacuum;")
