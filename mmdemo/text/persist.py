"""The lexical index of each collection, kept in the data dir in step with the store.

``<data_dir>/lexical/<name>-<version>.json`` holds the index of one version of a
collection: its ids, their stem sequences and metadata, where the version is a digest of
the item ids (ids are content hashes, so any added or deleted item makes a new version).
``<name>.seen`` says which version was current at which store change marker
(:meth:`mmdemo.store.Store.marker`, moved by every write of any process). A reader
whose marker equals the one seen trusts that version without reading the store; when the
marker moved it reads the collection's items once, and rebuilds only when their version
has no file yet. Files are written to a temporary name and renamed, under a per-collection
file lock, so processes sharing the data dir never read half a file and never build the
same index twice at once. What the files hold is versioned with the whole data dir
(:mod:`mmdemo.store.layout`). With a Chroma server there is no change marker: the version is
checked again once :data:`RECHECK_S` seconds have passed. A read-only store builds in
memory and writes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mmdemo.atomic import write_atomically
from mmdemo.config import Settings
from mmdemo.store import Store
from mmdemo.text.cache import Known
from mmdemo.text.index import LexicalIndex

#: Seconds between version checks where no change marker exists (a Chroma server).
RECHECK_S = 10.0
_INDEX_SUFFIX = ".json"
_SEEN_SUFFIX = ".seen"


def lexical_dir(settings: Settings) -> Path:
    """The folder holding every collection's lexical index."""
    return settings.data_dir / "lexical"


def base_name(collection: str) -> str:
    """The file name stem of a collection's index: a readable slug plus a hash."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", collection).strip("-")[:40] or "x"
    return f"{slug}-{hashlib.sha1(collection.encode()).hexdigest()[:12]}"


def version_of(ids: list[str]) -> str:
    """A short digest of a collection's item ids, independent of their order."""
    return hashlib.sha256("\n".join(sorted(ids)).encode()).hexdigest()[:16]


def lexical_index(store: Store, collection: str) -> LexicalIndex:
    """The current lexical index of ``collection``, rebuilt (and saved) when stale.

    Costs one ``stat`` while nothing was written since this process last looked.
    """
    settings, cache = store.settings, store.runtime.lexical
    key = (str(settings.data_dir), collection)
    marker = store.marker()
    fresh = _fresh(cache.get(key), marker, settings)
    if fresh is not None:
        return fresh
    with cache.build_lock(key), _file_lock(settings, collection):
        fresh = _fresh(cache.get(key), marker, settings)
        if fresh is None:
            fresh = _current(store, collection, marker)
            cache.put(key, Known(marker, time.monotonic(), fresh))
        return fresh


def _fresh(known: Known | None, marker: str, settings: Settings) -> LexicalIndex | None:
    """The index the store's runtime holds, if the store cannot have changed since."""
    if known is None or known.marker != marker:
        return None
    if marker and not settings.chroma_url:
        return known.index
    return known.index if time.monotonic() - known.checked < RECHECK_S else None


def _current(store: Store, collection: str, marker: str) -> LexicalIndex:
    """The index of the collection as stored now: from its file when one is current,
    else built from the store's items (and saved unless the store is read-only)."""
    settings = store.settings
    folder, base = lexical_dir(settings), base_name(collection)
    seen = _read_json(folder / f"{base}{_SEEN_SUFFIX}")
    if marker and seen.get("marker") == marker and not settings.chroma_url:
        loaded = _load(folder / f"{base}-{seen.get('version')}{_INDEX_SUFFIX}")
        if loaded is not None:
            return loaded
    items = store.items(collection)
    version = version_of([item_id for item_id, _ in items])
    path = folder / f"{base}-{version}{_INDEX_SUFFIX}"
    index = _load(path)
    if index is None:
        index = LexicalIndex.build(items)
        _write(settings, path, _as_json(collection, index))
    _write(settings, folder / f"{base}{_SEEN_SUFFIX}", {"marker": marker, "version": version})
    _remove_other_versions(settings, base, version)
    return index


def _as_json(collection: str, index: LexicalIndex) -> dict[str, Any]:
    return {
        "collection": collection,
        "ids": index.ids,
        "sequences": index.sequences,
        "metadata": index.metadata,
    }


def _load(path: Path) -> LexicalIndex | None:
    data = _read_json(path)
    try:
        return LexicalIndex(list(data["ids"]), list(data["sequences"]), list(data["metadata"]))
    except (KeyError, TypeError):
        return None


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; {} when it is missing or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write(settings: Settings, path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` through a temporary file; nothing in a read-only store,
    and nothing but a missed cache when the folder cannot be written."""
    if settings.readonly:
        return
    with contextlib.suppress(OSError):
        write_atomically(path, json.dumps(data, ensure_ascii=False))


def _remove_other_versions(settings: Settings, base: str, version: str) -> None:
    if settings.readonly:
        return
    keep = f"{base}-{version}{_INDEX_SUFFIX}"
    for path in lexical_dir(settings).glob(f"{base}-*{_INDEX_SUFFIX}"):
        if path.name != keep and _base_of(path) == base:
            path.unlink(missing_ok=True)


def _base_of(path: Path) -> str:
    """The base name of an index or seen file."""
    name = path.name.removesuffix(_SEEN_SUFFIX).removesuffix(_INDEX_SUFFIX)
    return name if path.suffix == _SEEN_SUFFIX else name.rsplit("-", 1)[0]


@contextlib.contextmanager
def _file_lock(settings: Settings, collection: str) -> Iterator[None]:
    """The inter-process lock over one collection's lexical files (none when read-only)."""
    if settings.readonly:
        yield
        return
    from filelock import FileLock

    settings.locks_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(_lock_path(settings, collection)):
        yield


def _lock_path(settings: Settings, collection: str) -> Path:
    return settings.locks_dir / f"lexical-{base_name(collection)}.lock"


def forget(store: Store, collection: str) -> None:
    """Remove a deleted collection's lexical files (and what the store's runtime holds of
    them), its lock file last, so that deleting collections leaves the data dir as it was."""
    settings = store.settings
    store.runtime.lexical.drop((str(settings.data_dir), collection))
    base = base_name(collection)
    with _file_lock(settings, collection):
        for path in _files(settings):
            if _base_of(path) == base:
                path.unlink(missing_ok=True)
        if not settings.readonly:
            _lock_path(settings, collection).unlink(missing_ok=True)


def orphans(settings: Settings, collections: set[str]) -> list[Path]:
    """Lexical files of no current collection, and left-over temporary files (for ``gc``)."""
    bases = {base_name(name) for name in collections}
    folder = lexical_dir(settings)
    left = sorted(folder.glob("*.tmp")) if folder.is_dir() else []
    return left + [path for path in _files(settings) if _base_of(path) not in bases]


def _files(settings: Settings) -> list[Path]:
    folder = lexical_dir(settings)
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.suffix in (_INDEX_SUFFIX, _SEEN_SUFFIX)
    )
