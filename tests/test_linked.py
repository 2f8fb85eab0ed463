"""Compare's linked cards: shared items share a colour slot and badge, unique ones are marked."""

import re

from mmdemo.present.linked import LINK_PALETTE, link_slots, linked_grids


def _rows(ids: list[str]) -> list[dict[str, object]]:
    return [
        {"rank": r, "id": i, "file_name": f"{i}.jpg", "path": f"/img/{i}.jpg", "similarity": 0.5}
        for r, i in enumerate(ids, start=1)
    ]


def _cards(page: str) -> dict[str, str]:
    """item id -> the card's class attribute."""
    return {
        item: classes
        for classes, item in re.findall(
            r'<li class="([^"]+)" data-index="\d+" data-item="(\w+)"', page
        )
    }


def test_shared_items_take_colours_in_a_order_and_repeat_after_the_palette() -> None:
    ids = [f"i{n}" for n in range(len(LINK_PALETTE) + 2)]
    slots = link_slots(["u", *ids], list(reversed(ids)))
    assert "u" not in slots
    assert [slots[i] for i in ids] == [*range(len(LINK_PALETTE)), 0, 1]


def test_both_grids_give_a_shared_item_the_same_colour_and_mark_the_rest() -> None:
    grid_a, grid_b = linked_grids(
        _rows(["x", "y", "z"]), _rows(["y", "w", "x"]), lambda r: ("/t", "/i")
    )
    a, b = _cards(grid_a), _cards(grid_b)
    assert a["x"] == b["x"] == "mm-card mm-linked mm-link-0"
    assert a["y"] == b["y"] == "mm-card mm-linked mm-link-1"
    assert a["z"] == "mm-card mm-only" and b["w"] == "mm-card mm-only"
    assert '<span class="mm-badge"><span class="mm-label">A#1 ↔ B#3</span></span>' in grid_a
    assert '<span class="mm-badge"><span class="mm-label">A#1 ↔ B#3 ▼2</span></span>' in grid_b
    assert '<span class="mm-badge"><span class="mm-label">B#2 · only B</span></span>' in grid_b
    assert "mm-similar" not in grid_a + grid_b


def test_a_side_without_results_says_so() -> None:
    grid_a, grid_b = linked_grids(_rows(["x"]), [], lambda r: ("/t", "/i"))
    assert "mm-only" in grid_a
    assert 'data-state="empty"' in grid_b


def test_known_answers_are_marked_on_both_sides_by_id_or_file_name() -> None:
    grid_a, grid_b = linked_grids(
        _rows(["x", "y"]), _rows(["y", "w", "x"]), lambda r: "/t", expected={"x.jpg"}
    )
    a, b = _cards(grid_a), _cards(grid_b)
    assert a["x"] == "mm-card mm-linked mm-link-0 mm-expected"
    assert b["x"] == "mm-card mm-linked mm-link-0 mm-expected"
    assert "mm-expected" not in a["y"] + b["y"] + b["w"]
    assert '<span class="mm-label">✓ expected · A#1 ↔ B#3</span></span>' in grid_a
    assert "known answer" in grid_a
    by_id, _ = linked_grids(_rows(["x", "y"]), _rows(["y"]), lambda r: "/t", expected={"y"})
    assert _cards(by_id)["y"].endswith("mm-expected")
    plain, _ = linked_grids(_rows(["x"]), _rows(["x"]), lambda r: "/t")
    assert "mm-expected" not in plain and "known answer" not in plain
