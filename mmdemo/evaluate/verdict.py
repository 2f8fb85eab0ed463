"""A comparison in words: what changed between two ranked result lists, said plainly.

The Compare tab opens with these sentences ("B puts rocket.jpg at #1, A at #4", "The
reranker moved 3 of the top 5") before any number, so a viewer sees the story first.
Everything here is pure: two lists of (id, file name) in rank order, and the set-ups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

#: How deep "moved n of the top k" looks.
MOVED_DEPTH = 5


@dataclass(frozen=True)
class SetupName:
    """One side of a comparison: its label ("A"), embedder key and reranker (None: none)."""

    label: str
    model: str
    reranker: str | None


@dataclass(frozen=True)
class Link:
    """How one result of a side relates to the other side's list."""

    rank: int
    other_rank: int | None  # None: only this side has it

    @property
    def shared(self) -> bool:
        """Whether the other side returned this item too."""
        return self.other_rank is not None

    @property
    def movement(self) -> int:
        """Places this side moved the item up (+) or down (-) against the other side."""
        return 0 if self.other_rank is None else self.other_rank - self.rank


def links(ids: Sequence[str], other: Sequence[str]) -> list[Link]:
    """For each id of ``ids`` in rank order, its rank in ``other`` (1-based) or None."""
    position = {item: rank for rank, item in enumerate(other, start=1)}
    return [Link(rank, position.get(item)) for rank, item in enumerate(ids, start=1)]


def movement_text(link: Link) -> str:
    """▲3 (moved up 3), ▼2 (down 2), = (same place); empty for an item only one side has."""
    if not link.shared:
        return ""
    if link.movement > 0:
        return f"▲{link.movement}"
    if link.movement < 0:
        return f"▼{-link.movement}"
    return "="


def same_list_reason(
    first: SetupName, second: SetupName, collection_size: int, rerank_depth: int
) -> str | None:
    """Why two set-ups must return the same list, when a reason is known; else None.

    Identical set-ups agree by construction. Two set-ups with the same reranker over a
    collection no larger than the reranker's candidate depth both rescore every image, so
    the embedders' different first-stage orders are thrown away. With and without a
    reranker on one embedder, the fused order follows the first stage wherever its top
    match stands out or the reranker's does not (:func:`mmdemo.search.fusion.adaptive_share`).
    """
    if (first.model, first.reranker) == (second.model, second.reranker):
        return f"{first.label} and {second.label} are the same set-up."
    if first.model == second.model and bool(first.reranker) != bool(second.reranker):
        return (
            "Only the reranker differs, and it kept the embedder's order: the reranker's say "
            "shrinks as the embedder's best match stands out, so it reorders close calls only, "
            "and only when its own best match stands out."
        )
    if first.reranker and first.reranker == second.reranker and collection_size <= rerank_depth:
        return (
            f"Both rerank with {first.reranker}, and the collection has only "
            f"{collection_size} images, so the reranker rescores all of them on both sides: "
            "the embedders' first-stage order does not reach the final list."
        )
    return None


def _mover(first: SetupName, second: SetupName) -> str:
    """Who changed the order: "The reranker" when only the reranker differs, else side B."""
    if first.model == second.model and not first.reranker and second.reranker:
        return "The reranker"
    return second.label


def _top_sentence(
    ranked: Sequence[tuple[str, str]], other: Sequence[str], me: str, them: str
) -> str:
    """ "B puts x at #1, A at #4": where the other side puts this side's #1."""
    top_id, top_name = ranked[0]
    where = {item: rank for rank, item in enumerate(other, start=1)}.get(top_id)
    elsewhere = f"{them} at #{where}" if where else f"{them} not in its top {len(other)}"
    return f"{me} puts {top_name} at #1, {elsewhere}."


def verdict(
    first: Sequence[tuple[str, str]],
    second: Sequence[tuple[str, str]],
    setups: tuple[SetupName, SetupName],
    known_reason: str | None = None,
) -> list[str]:
    """Plain sentences comparing two result lists of (id, file name), most telling first.

    ``known_reason`` (see :func:`same_list_reason`) explains identical lists.
    """
    a, b = setups
    ids_a = [item for item, _ in first]
    ids_b = [item for item, _ in second]
    if not ids_a or not ids_b:
        return ["Nothing to compare: one side returned no results."]
    if ids_a == ids_b:
        same = f"{a.label} and {b.label} return the same {len(ids_a)} results in the same order."
        return [same, known_reason] if known_reason else [same]
    if ids_a[0] == ids_b[0]:
        opening = [f"Both put {first[0][1]} at #1."]
    else:
        opening = [
            _top_sentence(second, ids_a, b.label, a.label),
            _top_sentence(first, ids_b, a.label, b.label),
        ]
    return opening + _changes(ids_a, ids_b, setups)


def _changes(ids_a: list[str], ids_b: list[str], setups: tuple[SetupName, SetupName]) -> list[str]:
    """How many of B's top places moved, and the overlap in words."""
    a, b = setups
    sentences = []
    depth = min(MOVED_DEPTH, len(ids_b))
    moved = sum(1 for link in links(ids_b[:depth], ids_a) if link.movement or not link.shared)
    sentences.append(f"{_mover(a, b)} moved {moved} of the top {depth}.")
    k = min(len(ids_a), len(ids_b))
    shared = len(set(ids_a[:k]) & set(ids_b[:k]))
    if shared == k:
        sentences.append(f"Both top {k} hold the same images, in a different order.")
    elif shared == 0:
        sentences.append(f"Their top {k} have no image in common.")
    else:
        sentences.append(
            f"{shared} of the top {k} are in both lists; {k - shared} only in {a.label}, "
            f"{k - shared} only in {b.label}."
        )
    return sentences
