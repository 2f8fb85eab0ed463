"""Dates in item metadata and in filters: ISO text for people, a number for comparisons.

A date is stored as ISO text under its own key (``taken``: ``2021-06-01T14:03:22``,
``study_date``: ``2004-01-19``) and, beside it, as whole seconds since 1970-01-01 under
``KEY_ts`` (:func:`companion`), because Chroma compares only numbers. The wall-clock time is
kept as written, its zone ignored, so a filter compares the dates a user reads. A date in a
filter is a :class:`Span`, the seconds its text covers (``2021`` is the whole year), so
``taken<=2021-06-01`` includes that whole day. Pure: no storage, no I/O.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

#: The suffix of a date's number companion key: ``taken`` -> ``taken_ts``.
SUFFIX = "_ts"
#: Keys that hold dates; a bare year compared with one of them is a date (``taken<2022``).
DATE_KEYS = frozenset({"taken", "study_date"})

_ISO = re.compile(
    r"(?P<year>\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?)?)?"
)
_PARTS = ("year", "month", "day", "hour", "minute", "second")
_STEPS = {
    "day": timedelta(days=1),
    "hour": timedelta(hours=1),
    "minute": timedelta(minutes=1),
    "second": timedelta(seconds=1),
}


@dataclass(frozen=True)
class Span:
    """The seconds a written date covers: ``start`` included, ``end`` excluded."""

    text: str
    start: int
    end: int


def _seconds(moment: datetime) -> int:
    return calendar.timegm(moment.timetuple())


def _after(moment: datetime, precision: str) -> datetime:
    """The first moment after the ``precision`` unit (year, month, day, ...) ``moment`` starts."""
    if precision == "year":
        return moment.replace(year=moment.year + 1)
    if precision == "month":
        return moment.replace(year=moment.year + moment.month // 12, month=moment.month % 12 + 1)
    return moment + _STEPS[precision]


def parse_span(text: str) -> Span | None:
    """The span of an ISO date or date-time (``2021``, ``2021-06``, ``2021-06-01``,
    ``2021-06-01T14:03[:22]``), None when ``text`` is not one or names no real date."""
    match = _ISO.fullmatch(text.strip())
    if match is None:
        return None
    given = {part: int(match[part]) for part in _PARTS if match[part] is not None}
    precision = list(given)[-1]
    try:
        start = datetime(
            given["year"], given.get("month", 1), given.get("day", 1),
            given.get("hour", 0), given.get("minute", 0), given.get("second", 0),
        )  # fmt: skip
        end = _after(start, precision)
    except ValueError:  # month 13, February 30, year 9999's successor
        return None
    return Span(text.strip(), _seconds(start), _seconds(end))


def year_span(year: int) -> Span | None:
    """The span of a bare year (``taken<2022``), None outside the years a date can hold."""
    return parse_span(f"{year:04d}") if 1 <= year <= 9998 else None


def companion(key: str) -> str:
    """The key holding the number of the date stored under ``key``."""
    return key + SUFFIX


def with_companions(metadata: dict[str, object]) -> dict[str, object]:
    """``metadata`` plus the number companion of every value written as an ISO date
    (``YYYY-MM-DD``, optionally with a time), so filters can compare it as a date."""
    numbers: dict[str, object] = {}
    for key, value in metadata.items():
        if isinstance(value, str) and len(value) >= 10 and not key.endswith(SUFFIX):
            span = parse_span(value)
            if span is not None:
                numbers[companion(key)] = span.start
    return {**metadata, **numbers}
