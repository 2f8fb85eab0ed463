"""Files of one upload with the same bytes: a later one whose details differ is reported."""

from __future__ import annotations

from typing import Any

from mmdemo.ingest.entries import SourceItem
from mmdemo.ingest.same_bytes import SameBytes, lost_details


def _item(name: str, source: str, details: dict[str, Any], calls: list[str]) -> SourceItem:
    def read_details() -> dict[str, Any]:
        calls.append(name)
        return details

    return SourceItem(name, f"hf:o/n[train] {name}", source, lambda: b"", read_details)


def test_a_dataset_row_repeating_an_image_with_another_caption_is_reported() -> None:
    calls: list[str] = []
    seen = SameBytes()
    first = _item("row-1", "dataset", {"caption": "a dog on grass"}, calls)
    assert seen.check("id", first, {}) is None
    assert calls == ["row-1"]  # taken at once: the row itself is not kept
    again = seen.check("id", _item("row-2", "dataset", {"caption": "a dog on grass"}, calls), {})
    assert again is None
    other = seen.check("id", _item("row-3", "dataset", {"caption": "a puppy"}, calls), {})
    assert other is not None and other.file == "hf:o/n[train] row-3"
    assert other.reason.startswith("same image as row-1,")
    assert "caption 'a puppy' (kept: 'a dog on grass')" in other.reason


def test_other_items_read_their_details_only_when_a_copy_turns_up() -> None:
    calls: list[str] = []
    seen = SameBytes()
    assert seen.check("one", _item("p1", "pdf", {"page": 1}, calls), {}) is None
    assert seen.check("two", _item("p2", "pdf", {"page": 2}, calls), {}) is None
    assert calls == []
    blank = seen.check("one", _item("p5", "pdf", {"page": 5}, calls), {})
    assert blank is not None and "page 5 (kept: 1)" in blank.reason


def test_lost_details_ignore_empty_values_and_cut_long_ones() -> None:
    assert lost_details("a.jpg", {"caption": "x"}, {"caption": "", "brand": None}) is None
    reason = lost_details("a.jpg", {}, {"caption": "w" * 60})
    assert reason is not None and f"caption '{'w' * 39}…' (kept: none)" in reason
