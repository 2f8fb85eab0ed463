"""Compare's two result grids, linked: the same clean cards as Search, where an item both
sides return carries the same ``A#i ↔ B#j`` badge and the same colour on both, and an item
only one side returns is marked so (dashed card, ``A#2 · only A``). When the query has
known answers, their cards on both sides say so (``✓ expected``, class ``mm-expected``).

Pure: result rows in, escaped HTML out (through :mod:`mmdemo.present.grid`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from typing import Any

from mmdemo.evaluate.verdict import links, movement_text
from mmdemo.present.grid import Pictures, card, render, render_message

#: Ten distinguishable colours (Tableau 10); slot N is colour N mod 10.
LINK_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
LEGEND = (
    "A card both set-ups return has the same colour and the same A#i ↔ B#j badge on both "
    "sides (its rank on each); on B, ▲ / ▼ say how far B moved it against A. A dashed card "
    "is returned by one side only. Click a card for its scores."
)
#: Added to the legend when the query has known answers.
EXPECTED_LEGEND = " A card marked ✓ expected is a known answer to this query."
#: What an expected item's badge starts with.
EXPECTED_MARK = "✓ expected"


def linked_badges(
    label: str, ids: Sequence[str], other_label: str, other: Sequence[str]
) -> list[str]:
    """Each result's badge: ``A#4 ↔ B#1`` when both sides have it, else ``A#2 · only A``.

    A shared image carries the same ``A#i ↔ B#j`` text on both sides, so the eye can
    match them. On side B (A is the baseline) an arrow says how B moved it: ``▲3``.
    """
    badges = []
    for link in links(ids, other):
        if link.other_rank is None:
            badges.append(f"{label}#{link.rank} · only {label}")
            continue
        ranks = {label: link.rank, other_label: link.other_rank}
        pair = f"A#{ranks['A']} ↔ B#{ranks['B']}"
        badges.append(f"{pair} {movement_text(link)}" if label == "B" else pair)
    return badges


def link_slots(ids_a: Sequence[str], ids_b: Sequence[str]) -> dict[str, int]:
    """Colour slot of each item both sides return: A's shared items in rank order take the
    palette's colours in turn (after ten, the colours repeat; the badges still differ)."""
    shared = set(ids_b)
    in_both = (item for item in ids_a if item in shared)
    return {item: n % len(LINK_PALETTE) for n, item in enumerate(in_both)}


def linked_grids(
    rows_a: Sequence[dict[str, Any]],
    rows_b: Sequence[dict[str, Any]],
    pictures_of: Callable[[dict[str, Any]], Pictures],
    expected: Collection[str] = (),
) -> tuple[str, str]:
    """The HTML of side A's and side B's results (``SearchResults.rows`` records).

    A row whose id or file name is in ``expected`` (the query's known answers) is marked.
    """
    ids = [[str(row["id"]) for row in rows] for rows in (rows_a, rows_b)]
    slots = link_slots(ids[0], ids[1])
    sides = (("A", rows_a, ids[0], "B", ids[1]), ("B", rows_b, ids[1], "A", ids[0]))
    return tuple(  # type: ignore[return-value]
        _side(rows, linked_badges(label, own, other_label, other), slots, pictures_of, expected)
        for label, rows, own, other_label, other in sides
    )


def _side(
    rows: Sequence[dict[str, Any]],
    badges: list[str],
    slots: dict[str, int],
    pictures_of: Callable[[dict[str, Any]], Pictures],
    expected: Collection[str],
) -> str:
    if not rows:
        return render_message("No results on this side.", "The line below says why.", "empty")
    cards = []
    for row, badge in zip(rows, badges, strict=True):
        item = str(row["id"])
        known = item in expected or str(row.get("file_name") or "") in expected
        shown = f"{EXPECTED_MARK} · {badge}" if known else badge
        base = card(row, pictures_of(row), True)
        slot = slots.get(item)
        cards.append(
            replace(base, badge=shown, item_id=item, link=slot, only=slot is None, expected=known)
        )
    return render(cards, "", LEGEND + (EXPECTED_LEGEND if expected else ""), similar=False)
