"""Rows of a batch write: consecutive chunks of a bounded size, and the first occurrence of
each id not stored yet. Pure functions."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def first_of_each_new(ids: Sequence[str], known: set[str]) -> list[int]:
    """Row numbers of the first occurrence of every id not in ``known``."""
    seen = set(known)
    rows = []
    for row, item_id in enumerate(ids):
        if item_id not in seen:
            seen.add(item_id)
            rows.append(row)
    return rows
