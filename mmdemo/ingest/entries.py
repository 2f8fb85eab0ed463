"""What every source kind yields: candidate items, rejections, and the byte budgets.

Files, folders and zip archives (:mod:`mmdemo.ingest.sources`), PDF pages
(:mod:`mmdemo.ingest.pdfs`) and dataset rows (:mod:`mmdemo.ingest.datasets`) all come out
as :class:`SourceItem` or :class:`Rejection`, so the indexer has one path for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mmdemo.config import Limits
from mmdemo.errors import ImageRejected
from mmdemo.ingest import images

_CHUNK_BYTES = 1024 * 1024


def no_details() -> dict[str, Any]:
    """The metadata of an item that carries none of its own (a plain image file)."""
    return {}


@dataclass(frozen=True)
class SourceItem:
    """One candidate image, not yet read.

    ``file_name`` is the base name (joins the captions CSV); ``origin`` is the path, or
    ``"archive.zip!member/path"`` for archive members, ``"doc.pdf#page=3"`` for PDF pages
    and ``"hf:owner/name[train] row 7"`` for dataset rows; ``source`` is ``"file"``,
    ``"folder"``, ``"zip"``, ``"pdf"`` or ``"dataset"``. ``read()`` returns the image bytes
    and raises :class:`~mmdemo.errors.ImageRejected` when they cannot be read;
    ``details()`` returns the metadata the item brings itself (a PDF page's number and
    text, a dataset row's columns), called only for items that get indexed.
    """

    file_name: str
    origin: str
    source: str
    read: Callable[[], bytes]
    details: Callable[[], dict[str, Any]] = no_details


@dataclass(frozen=True)
class Rejection:
    """An input that was refused before decoding: its origin and a short reason."""

    file: str
    reason: str


class Budget:
    """Bytes an upload, or one archive, may still produce once decompressed.

    Charged while reading, chunk by chunk, so the work is bounded even for an archive
    whose members lie about their sizes; once spent, every later read is refused too.
    """

    def __init__(self, limit: int, what: str) -> None:
        """A budget of ``limit`` bytes; ``what`` ("archive", "upload") names it in reasons."""
        self.limit = limit
        self.left = limit
        self.what = what

    def take(self, n_bytes: int) -> None:
        """Charge ``n_bytes``; raise :class:`ImageRejected` once the budget is overdrawn."""
        self.left -= n_bytes
        if self.left < 0:
            raise ImageRejected(
                f"{self.what} too large when decompressed "
                f"(more than {images.format_size(self.limit)} in all)"
            )


def read_capped(stream: Any, budgets: tuple[Budget, ...]) -> bytes:
    """Read ``stream`` a chunk at a time, stopping at the file-size cap and the budgets."""
    parts: list[bytes] = []
    size = 0
    while chunk := stream.read(_CHUNK_BYTES):
        size += len(chunk)
        images.check_file_size(size)
        for budget in budgets:
            budget.take(len(chunk))
        parts.append(chunk)
    return b"".join(parts)


class Allowance:
    """What one ingest may store beyond its :class:`~mmdemo.config.Limits`: here, anything.

    A visitor's reservation (:class:`mmdemo.tenancy.Reservation`) is the other kind: it
    counts each new image an ingest is about to store, of any source kind (a file, a zip
    member, a PDF page, a dataset row), with its decompressed bytes, against the visitor's
    caps, atomically over that visitor's ingests running at once, and refuses the rest.
    """

    def bound(self, limits: Limits) -> Limits:
        """``limits`` tightened so that reading stops where nothing more could be stored."""
        return limits

    def rows(self, limit: int | None) -> int | None:
        """How many rows of a dataset to read at most, given the ``limit`` asked for."""
        return limit

    def full(self) -> str | None:
        """Why no further image can be stored (the reason to report), or None."""
        return None

    def take(self, size: int) -> None:
        """Count one new image of ``size`` decompressed bytes; raise ImageRejected at a cap."""

    def give_back(self, size: int) -> None:
        """Uncount an image :meth:`take` counted that is not stored after all."""


#: The allowance of the operator (CLI, local app): only the Limits bound an ingest.
UNLIMITED = Allowance()
