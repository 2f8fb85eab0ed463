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

import contextlib
import hashlib
import re
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from mmdemo.config import Limits as IngestLimits
from mmdemo.config import Settings
from mmdemo.errors import ImageRejected, InputError, NotFoundError, ReadOnlyError
from mmdemo.ingest.entries import UNLIMITED, Allowance
from mmdemo.names import validate_collection_name
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
class _Account:
    """What one visitor holds: counted from the store when the first of the visitor's
    ingests starts, then charged by each of them as it stores, until the last one ends."""

    images: int = 0
    size: int = 0
    running: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


@dataclass
class Tenancy:
    """The multi-visitor policy of one running app: activity, holdings and uploads per
    visitor. ``uploads`` is the folder where the web server keeps uploaded files (gradio's
    upload cache): a visitor's uploads there are removed with the visitor's collections."""

    limits: Limits
    uploads: Path | None = None
    _seen: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _accounts: dict[str, _Account] = field(default_factory=dict, init=False, repr=False)
    _uploaded: dict[str, dict[str, set[Path]]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def visitor(self, session_hash: str | None) -> Visitor:
        """The visitor of a request; one without a session may only read shared collections."""
        if not session_hash:
            return Visitor(self, None)
        token = token_for(session_hash)
        with self._lock:
            self._seen[token] = time.monotonic()
        return Visitor(self, token)

    def account(self, token: str) -> _Account:
        """The holdings of visitor ``token``, shared by all of that visitor's ingests."""
        with self._lock:
            return self._accounts.setdefault(token, _Account())

    def record_uploads(self, token: str, stored: str, paths: Iterable[str]) -> None:
        """Remember uploaded files that went into collection ``stored``, to remove them with it."""
        with self._lock:
            self._uploaded.setdefault(token, {}).setdefault(stored, set()).update(
                Path(p) for p in paths
            )

    def remove_uploads(self, token: str, stored: str | None = None) -> None:
        """Remove the uploaded files that went into ``stored`` (every one: None) from the
        upload folder; a file outside it is never touched."""
        with self._lock:
            by_collection = self._uploaded.get(token, {})
            names = list(by_collection) if stored is None else [stored]
            paths = [p for name in names for p in by_collection.pop(name, set())]
        if self.uploads is not None:
            remove_upload_copies(self.uploads, paths)

    def leave(self, settings: Settings, store: Store, session_hash: str) -> list[str]:
        """Remove every collection and upload of a visitor who closed the page; returns the
        collections' names."""
        token = token_for(session_hash)
        with self._lock:
            self._seen.pop(token, None)
            self._accounts.pop(token, None)
        removed = _delete(settings, store, [c for c in store.names() if owner(c) == token])
        self.remove_uploads(token)
        return removed

    def expired(self, names: Iterable[str], now: float | None = None) -> list[str]:
        """Private collections whose visitor is idle too long or unknown (e.g. after a restart);
        an idle visitor's uploads are removed here."""
        now = time.monotonic() if now is None else now
        with self._lock:
            idle = {t for t, seen in self._seen.items() if now - seen > self.limits.idle_s}
            known = set(self._seen)
            for token in idle:
                del self._seen[token]
                self._accounts.pop(token, None)
        for token in idle:
            self.remove_uploads(token)
        return [n for n in names if (t := owner(n)) is not None and (t in idle or t not in known)]

    def sweep(self, settings: Settings, store: Store) -> list[str]:
        """Remove expired private collections with their files and vectors; returns their names."""
        return _delete(settings, store, self.expired(store.names()))


def remove_upload_copies(root: Path, paths: Iterable[Path]) -> None:
    """Unlink uploaded files kept under ``root`` (``root/<digest>/<name>``, as gradio keeps
    them), and their digest folder once empty; a path outside ``root`` is left alone."""
    base = root.resolve()
    for path in paths:
        resolved = path.resolve()
        if not resolved.is_relative_to(base) or resolved.parent == base:
            continue
        resolved.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # not empty: another upload of the same bytes
            resolved.parent.rmdir()


def _delete(settings: Settings, store: Store, names: Sequence[str]) -> list[str]:
    from mmdemo import manage

    for name in names:
        manage.delete_collection(settings, store, name)
    return list(names)


class Reservation(Allowance):
    """One ingest's hold on a visitor's caps: each new image is counted before it is stored,
    under the visitor's lock, so ingests running at once never store past the caps."""

    def __init__(self, account: _Account, limits: Limits) -> None:
        """Charge ``account`` within ``limits``."""
        self._account = account
        self._limits = limits

    def bound(self, limits: IngestLimits) -> IngestLimits:
        """No ingest reads more decompressed bytes than a visitor may hold (reading stops
        a few batches past the image cap, once :meth:`full` says so)."""
        return replace(limits, upload_bytes=min(limits.upload_bytes, self._limits.max_bytes))

    def rows(self, limit: int | None) -> int | None:
        """A dataset is read one row past the images a visitor may hold, so that a cut at
        the cap is reported (that row is refused with the reason), and never further."""
        cap = self._limits.max_images + 1
        return cap if limit is None else min(limit, cap)

    def full(self) -> str | None:
        """The reason once the visitor holds (or has reserved) all a visitor may."""
        with self._account.lock:
            return self._over(1, 1)

    def take(self, size: int) -> None:
        """Reserve one image of ``size`` bytes, or refuse it with the cap it would pass."""
        with self._account.lock:
            reason = self._over(1, size)
            if reason is not None:
                raise ImageRejected(reason)
            self._account.images += 1
            self._account.size += size

    def give_back(self, size: int) -> None:
        """Release a reserved image that was not stored."""
        with self._account.lock:
            self._account.images -= 1
            self._account.size -= size

    def _over(self, images: int, size: int) -> str | None:
        account, limits = self._account, self._limits
        if account.images + images > limits.max_images:
            return f"past the {limits.max_images:,} images a visitor may hold"
        if account.size + size > limits.max_bytes:
            return f"past the {_megabytes(limits.max_bytes)} of images a visitor may hold"
        return None


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB"


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
        if not store.models(stored) and owner(plain) is None and store.models(plain):
            raise ReadOnlyError(
                f"Collection {plain!r} is shared and read-only: choose another name for yours."
            )
        return stored

    def change(self, name: str, store: Store) -> str:
        """The stored name of an existing collection of this visitor, to delete or re-index."""
        if self.tenancy is None:
            return name
        plain = name.strip()
        stored = private_name(self._writer(), plain)
        if store.models(stored):
            return stored
        if owner(plain) is None and store.models(plain):
            raise ReadOnlyError(f"Collection {plain!r} is shared and read-only here.")
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

    @contextmanager
    def reserve(self, store: Store, stored: str, uploads: Sequence[str]) -> Iterator[Allowance]:
        """What an ingest of ``uploads`` into collection ``stored`` may store: for a visitor,
        images up to the visitor's caps, counted as they are stored (every source kind, by
        decompressed bytes), and the uploads remembered to be removed with the collection.

        Refused at once when the visitor holds all a visitor may already.
        """
        if self.tenancy is None:
            yield UNLIMITED
            return
        token = self._writer()
        tenancy = self.tenancy
        tenancy.record_uploads(token, stored, uploads)
        account = tenancy.account(token)
        with account.lock:
            if account.running == 0:  # nothing in flight: the store holds the truth
                account.images, account.size = _held(token, store)
            account.running += 1
        try:
            reservation = Reservation(account, tenancy.limits)
            if reservation.full() is not None:
                limits = tenancy.limits
                raise InputError(
                    f"You hold as many images as a visitor may ({account.images:,} of "
                    f"{limits.max_images:,}, {_megabytes(account.size)} of "
                    f"{_megabytes(limits.max_bytes)}): delete a collection to add more."
                )
            yield reservation
        finally:
            with account.lock:
                account.running -= 1

    def delete(self, settings: Settings, store: Store, stored: str) -> int:
        """Delete this visitor's collection ``stored`` (a name from :meth:`change`) with its
        files, vectors and the uploads it was indexed from; returns how many images it held."""
        from mmdemo import manage

        removed = manage.delete_collection(settings, store, stored)
        if self.tenancy is not None and self.token is not None:
            self.tenancy.remove_uploads(self.token, stored)
        return removed

    def _writer(self) -> str:
        if self.token is None:
            raise ReadOnlyError("Uploading and indexing need a browser or API client session.")
        return self.token


def _held(token: str, store: Store) -> tuple[int, int]:
    """The images visitor ``token`` holds, counted per collection as the listing counts them,
    and the bytes of their stored copies."""
    from mmdemo.ingest.copies import image_path

    images = size = 0
    for name in store.names():
        if owner(name) != token:
            continue
        for _, metadata in store.items(name):
            images += 1
            with contextlib.suppress(OSError, KeyError):  # a copy gc already removed
                size += image_path(store.settings, metadata).stat().st_size
    return images, size
