"""A comparison in words: what changed between two ranked result lists, said plainly.

The Compare tab opens with these sentences ("B puts rocket.jpg at #1, A at #4", "The
reranker moved 3 of the top 5") before any number, so a viewer sees the story first. When
the query has known answers (an example made from a caption, an Evaluate query), the first
sentence names the better set-up and why ("A is better for this query: A finds the
expected image (coffee.jpg) at #1, B at #4"). Everything here is pure: two lists of
(id, file name) in rank order, the set-ups and the expected file names or ids.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from mmdemo.evaluate.metrics import ndcg_at_k
from mmdemo.models.registry import display_key

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
            f"Both rerank with {display_key(first.reranker)}, and the collection has only "
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
    expected: Collection[str] = (),
) -> list[str]:
    """Plain sentences comparing two result lists of (id, file name), most telling first.

    ``known_reason`` (see :func:`same_list_reason`) explains identical lists. With
    ``expected`` file names or ids, the first sentence names the better set-up
    (:func:`judge`).
    """
    a, b = setups
    ids_a = [item for item, _ in first]
    ids_b = [item for item, _ in second]
    if not ids_a or not ids_b:
        return ["Nothing to compare: one side returned no results."]
    judged = judge(first, second, (a.label, b.label), expected)
    told = [judged.sentence] if judged else []
    if ids_a == ids_b:
        same = f"{a.label} and {b.label} return the same {len(ids_a)} results in the same order."
        return [*told, same, known_reason] if known_reason else [*told, same]
    if ids_a[0] == ids_b[0]:
        opening = [f"Both put {first[0][1]} at #1."]
    else:
        opening = [
            _top_sentence(second, ids_a, b.label, a.label),
            _top_sentence(first, ids_b, a.label, b.label),
        ]
    return told + opening + _changes(ids_a, ids_b, setups)


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


def expected_ranks(ranked: Sequence[tuple[str, str]], expected: Collection[str]) -> list[int]:
    """The ranks (1-based) of the results whose id or file name is among ``expected``."""
    return [
        rank
        for rank, (item, name) in enumerate(ranked, start=1)
        if item in expected or name in expected
    ]


@dataclass(frozen=True)
class Judgement:
    """Which side answers a query with known answers better, and the sentence saying why.

    ``winner`` is a side's label, ``"tie"``, or ``"none"`` when neither side found any
    expected item; ``ranks`` holds each side's ranks of the expected items, by label.
    """

    winner: str
    ranks: dict[str, list[int]]
    sentence: str

    def to_json(self) -> dict[str, Any]:
        """The comparison JSON's ``judgement``."""
        return {"winner": self.winner, "expected_ranks": self.ranks, "sentence": self.sentence}


def _places(ranks: Sequence[int]) -> str:
    """``#1``, ``#1 and #4``, ``#1, #2 and #5``."""
    marks = [f"#{rank}" for rank in ranks]
    return marks[0] if len(marks) == 1 else ", ".join(marks[:-1]) + " and " + marks[-1]


def _what(expected: Collection[str], lists: Sequence[Sequence[tuple[str, str]]]) -> str:
    """The expected items in words: ``the expected image (coffee.jpg)`` or ``3 expected
    images``; an id is never shown, only a file name."""
    if len(expected) > 1:
        return f"{len(expected)} expected images"
    names = [
        name for ranked in lists for item, name in ranked if item in expected or name in expected
    ]
    (only,) = expected
    name = names[0] if names else ("" if len(only) == 64 and only.isalnum() else only)
    return f"the expected image ({name})" if name else "the expected image"


def _found(label: str, ranks: list[int], depth: int, several: bool) -> str:
    """One side's find: ``B at #4``, ``B finds 2 (at #1 and #5)``, ``B not in its top 10``."""
    if not ranks:
        return (
            f"{label} finds none in its top {depth}"
            if several
            else f"{label} not in its top {depth}"
        )
    if several:
        return f"{label} finds {len(ranks)} (at {_places(ranks)})"
    return f"{label} at {_places(ranks)}"


def judge(
    first: Sequence[tuple[str, str]],
    second: Sequence[tuple[str, str]],
    labels: tuple[str, str],
    expected: Collection[str],
) -> Judgement | None:
    """The better of two result lists for a query whose answers are known; None without.

    An item is expected when its id or file name is in ``expected``. The side with the higher
    nDCG over its list wins (more expected items, higher up); equal nDCG is a tie.
    """
    wanted = frozenset(expected)
    if not wanted or not first or not second:
        return None
    sides = (first, second)
    ranks = [expected_ranks(ranked, wanted) for ranked in sides]
    by_label = dict(zip(labels, ranks, strict=True))
    what, several = _what(wanted, sides), len(wanted) > 1
    if not any(ranks):
        depth = max(len(first), len(second))
        any_of = f"any of the {what}" if several else what
        sentence = f"Neither set-up finds {any_of} in its top {depth}: no winner for this query."
        return Judgement("none", by_label, sentence)
    found = [_found(labels[i], ranks[i], len(sides[i]), several) for i in (0, 1)]
    gains = [_gain(ranked, wanted) for ranked in sides]
    if gains[0] == gains[1]:
        both = f"{len(ranks[0])} of the {what}" if several else what
        same = f"both find {both} at {_places(ranks[0])}" if ranks[0] == ranks[1] else None
        return Judgement("tie", by_label, f"A tie for this query: {same or ', '.join(found)}.")
    win = 0 if gains[0] > gains[1] else 1
    own = f"{len(ranks[win])} of the {what} (at " if several else f"{what} at "
    own += _places(ranks[win]) + (")" if several else "")
    sentence = (
        f"{labels[win]} is better for this query: {labels[win]} finds {own}, {found[1 - win]}."
    )
    return Judgement(labels[win], by_label, sentence)


def _gain(ranked: Sequence[tuple[str, str]], expected: frozenset[str]) -> float:
    """nDCG of one list: an item counts by its id or its file name."""
    hits = [item if item in expected else name for item, name in ranked]
    return ndcg_at_k(hits, expected, max(1, len(ranked)))
