"""Files of one upload with identical bytes but different captions or metadata.

Ids are content hashes, so two files with the same bytes are one item: the first one read
is stored with its caption and metadata, and the later one adds nothing. When the later
one's caption or metadata differ (two products of a shop sharing a photo, a dataset
repeating an image with another caption), silently dropping them loses data the user gave,
so the later file is reported by name, with what was kept and what was not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mmdemo.ingest.entries import Rejection, SourceItem

#: How much of a value a report quotes.
QUOTED_CHARS = 40
Details = dict[str, Any]


def _quoted(value: Any) -> str:
    """Text in quotes (cut to :data:`QUOTED_CHARS`), a number as it is."""
    if not isinstance(value, str):
        return str(value)
    return repr(value if len(value) <= QUOTED_CHARS else value[: QUOTED_CHARS - 1] + "…")


def lost_details(kept_name: str, kept: Details, dropped: Details) -> str | None:
    """Why a file with the same bytes as ``kept_name`` adds nothing, naming each of its
    values that differ from what was kept; None when nothing it carries is lost."""
    changed = [k for k in dropped if dropped[k] not in (None, "") and dropped[k] != kept.get(k)]
    if not changed:
        return None
    parts = [
        f"{key} {_quoted(dropped[key])} (kept: {_quoted(kept[key]) if key in kept else 'none'})"
        for key in changed
    ]
    return (
        f"same image as {kept_name}, which is stored once with its own caption and "
        f"metadata; this file's {', '.join(parts)} were not stored"
    )


class SameBytes:
    """The first file read for each id of one upload, to check later files with its bytes.

    A dataset row's details are taken at once (a few columns; the row itself holds the
    image, too large to keep for a whole upload); other items keep their ``details``
    callable, called only when a copy turns up (a PDF page's text is read only then).
    """

    def __init__(self) -> None:
        self._first: dict[str, tuple[str, Details, Callable[[], Details]]] = {}

    def check(self, item_id: str, entry: SourceItem, extra: Details) -> Rejection | None:
        """Remember ``entry`` as the first with these bytes, or, for a later file whose
        caption or metadata differ, the rejection that reports it."""
        first = self._first.get(item_id)
        if first is None:
            details = entry.details
            if entry.source == "dataset":
                taken = details()
                details = lambda: taken  # noqa: E731 (a constant in place of the row)
            self._first[item_id] = (entry.file_name, extra, details)
            return None
        name, kept_extra, kept_details = first
        reason = lost_details(name, {**kept_details(), **kept_extra}, {**entry.details(), **extra})
        return Rejection(entry.origin, reason) if reason else None
