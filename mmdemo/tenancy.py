"""Who may see and change which collections when many visitors share one public app.

In multi-visitor mode every collection a visitor creates is private to that visitor's
session: it is stored under a namespaced name (``v.<token>.<name>``, the token derived from
Gradio's session hash), listed only to that visitor under its plain name, removed when the
visitor leaves or stays idle too long, and counts against per-visitor limits. Collections
without the namespace (the demo, anything the operator indexed from the CLI) are shared and
read-only to visitors. Without multi-visitor mode (locally, the CLI) a :class:`Visitor` is
the operator: every name maps to itself and nothing is refused here.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from mmdemo.config import Settings
from mmdemo.errors import InputError, NotFoundError, ReadOnlyError
from mmdemo.records import validate_collection_name
from mmdemo.store import CollectionInfo, Store

#: Stored names of private collections: ``v.`` + token + ``.`` + the visitor's name.
_PRIVATE = re.compile(r"v\.([0-9a-f]{12})\.(.+)")
_TOKEN_LEN = 12
#: Longest stored collection name (records.validate_collection_name).
_MAX_STORED = 63


def private_name(token: str, name: str) -> str:
    """The stored name of visitor ``token``'s collection ``name``."""
    return f"v.{token}.{name}"


def owner(stored: str) -> str | None:
    """The token of the visitor who owns a stored collection, or None for a shared one."""
    match = _PRIVATE.fullmatch(stored)
    return match.group(1) if match else None


def token_for(session_hash: str) -> str:
    """A visitor token: a digest of the session hash, so stored names never reveal it."""
    return hashlib.sha256(session_hash.encode()).hexdigest()[:_TOKEN_LEN]


@dataclass(frozen=True)
class Limits:
    """Per-visitor limits and how long an idle visitor's collections are kept."""

    max_images: int
    max_bytes: int
    idle_s: float

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits configured in ``settings``."""
        return cls(
            max_images=settings.visitor_max_images,
            max_bytes=settings.visitor_max_mb * 1024 * 1024,
            idle_s=settings.visitor_idle_min * 60.0,
        )


@dataclass
class Tenancy:
    """The multi-visitor policy of one running app: last activity and bytes per visitor."""

    limits: Limits
    _seen: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _bytes: dict[str, int] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def visitor(self, session_hash: str | None) -> Visitor:
        """The visitor of a request; one without a session may only read shared collections."""
        if not session_hash:
            return Visitor(self, None)
        token = token_for(session_hash)
        with self._lock:
            self._seen[token] = time.monotonic()
        return Visitor(self, token)

    def used_bytes(self, token: str) -> int:
        """Upload bytes a visitor's indexing has accepted so far."""
        with self._lock:
            return self._bytes.get(token, 0)

    def add_bytes(self, token: str, count: int) -> None:
        """Count ``count`` more upload bytes against a visitor."""
        with self._lock:
            self._bytes[token] = self._bytes.get(token, 0) + count

    def leave(self, settings: Settings, store: Store, session_hash: str) -> list[str]:
        """Remove every collection of a visitor who closed the page; returns their names."""
        token = token_for(session_hash)
        with self._lock:
            self._seen.pop(token, None)
            self._bytes.pop(token, None)
        return _delete(settings, store, [c for c in store.names() if owner(c) == token])

    def expired(self, names: Iterable[str], now: float | None = None) -> list[str]:
        """Private collections whose visitor is idle too long or unknown (e.g. after a restart)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = {t for t, seen in self._seen.items() if now - seen > self.limits.idle_s}
            known = set(self._seen)
            for token in idle:
                del self._seen[token]
                self._bytes.pop(token, None)
        return [n for n in names if (t := owner(n)) is not None and (t in idle or t not in known)]

    def sweep(self, settings: Settings, store: Store) -> list[str]:
        """Remove expired private collections with their files and vectors; returns their names."""
        return _delete(settings, store, self.expired(store.names()))


def _delete(settings: Settings, store: Store, names: Sequence[str]) -> list[str]:
    from mmdemo import manage

    for name in names:
        manage.delete_collection(settings, store, name)
    return list(names)


@dataclass(frozen=True)
class Visitor:
    """One visitor's view of the collections: which stored name each given name means.

    ``tenancy`` None: the operator (local app, CLI) sees and changes every collection.
    ``token`` None in multi-visitor mode: a caller without a session, who only reads.
    """

    tenancy: Tenancy | None
    token: str | None = None

    @classmethod
    def operator(cls) -> Visitor:
        """The single user of a local app: no namespaces, no limits."""
        return cls(None)

    def read(self, name: str, store: Store) -> str:
        """The stored collection a visitor means when searching or comparing ``name``."""
        if self.tenancy is None:
            return name
        if self.token is not None:
            own = private_name(self.token, name.strip())
            if store.models(own):
                return own
        if owner(name.strip()) is not None:
            raise NotFoundError(f"Collection {name!r} does not exist.")
        return name

    def create(self, name: str, store: Store) -> str:
        """The stored name for indexing uploads into ``name``: the visitor's own collection."""
        if self.tenancy is None:
            return name
        token = self._writer()
        plain = validate_collection_name(name)
        stored = private_name(token, plain)
        if len(stored) > _MAX_STORED:
            limit = _MAX_STORED - len(private_name(token, ""))
            raise InputError(f"Collection names are limited to {limit} characters here.")
        if not store.models(stored) and store.models(plain):
            raise ReadOnlyError(
                f"Collection {plain!r} is shared and read-only: choose another name for yours."
            )
        return stored

    def change(self, name: str, store: Store) -> str:
        """The stored name of an existing collection of this visitor, to delete or re-index."""
        if self.tenancy is None:
            return name
        stored = private_name(self._writer(), name.strip())
        if store.models(stored):
            return stored
        if store.models(name.strip()):
            raise ReadOnlyError(f"Collection {name.strip()!r} is shared and read-only here.")
        raise NotFoundError(f"Collection {name!r} does not exist.")

    def visible(self, infos: Iterable[CollectionInfo]) -> list[CollectionInfo]:
        """The shared collections and this visitor's own, under the names the visitor gave."""
        if self.tenancy is None:
            return list(infos)
        shown = []
        for info in infos:
            match = _PRIVATE.fullmatch(info.name)
            if match is None:
                shown.append(info)
            elif match.group(1) == self.token:
                shown.append(replace(info, name=match.group(2)))
        return sorted(shown, key=lambda info: info.name)

    def check_upload(self, paths: Sequence[str], store: Store) -> int:
        """Refuse an upload that would take this visitor past its limits; returns its bytes.

        Images are counted as those already held plus one per uploaded file (a zip counts
        once here; its members count against the next upload); bytes as uploaded.
        """
        if self.tenancy is None:
            return 0
        token = self._writer()
        limits = self.tenancy.limits
        held = self._held(token, store)
        if held + len(paths) > limits.max_images:
            raise InputError(
                f"Each visitor may index up to {limits.max_images} images: you hold {held} "
                f"and this upload has {len(paths)} files."
            )
        size = sum(Path(p).stat().st_size for p in paths)
        used = self.tenancy.used_bytes(token)
        if used + size > limits.max_bytes:
            mb = limits.max_bytes / 1024 / 1024
            raise InputError(
                f"Each visitor may upload up to {mb:.0f} MB: this upload would bring you to "
                f"{(used + size) / 1024 / 1024:.1f} MB."
            )
        return size

    def images_left(self, store: Store) -> int | None:
        """How many more images this visitor may index; None where there is no limit.

        A dataset source is streamed, not uploaded: its rows are capped at this number.
        """
        if self.tenancy is None:
            return None
        return max(0, self.tenancy.limits.max_images - self._held(self._writer(), store))

    def _held(self, token: str, store: Store) -> int:
        return sum(i.images for i in store.collections() if owner(i.name) == token)

    def uploaded(self, size: int) -> None:
        """Count an indexed upload's bytes against this visitor."""
        if self.tenancy is not None and self.token is not None:
            self.tenancy.add_bytes(self.token, size)

    def _writer(self) -> str:
        if self.token is None:
            raise ReadOnlyError("Uploading and indexing need a browser or API client session.")
        return self.token
