"""Example queries for a collection: a few texts, an image, and a text + image pair.

They fill the clickable row above the search box, and each knows its expected items: the
file names whose caption or metadata it was made from, which Compare marks and judges.
Texts come from the collection's own items, so a visitor sees what it holds: short
captions, and values of the metadata columns that read as queries (a product's name, its
brand or category, a page's title or chart kind), taken in turn; a collection whose
captions are all long (a PDF's page text) offers each caption's first phrase. Only a
collection with neither captions nor such columns falls back to a short built-in list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import chain, zip_longest
from typing import Any

#: Texts for a collection with nothing to build examples from.
BUILT_IN_TEXTS = ("a space rocket", "a tabby cat", "an astronaut")
#: Captions longer than this make poor button labels.
MAX_CAPTION_CHARS = 48
#: Metadata columns whose values read as queries, in the order they are offered.
EXAMPLE_COLUMNS = ("title", "name", "brand", "category", "subject", "chart")
_PHRASE_END = re.compile(r"[:.;!?(\n]")

Items = list[tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Example:
    """One example query: a button label, its text, the id and file of its image, and the
    file names of the items it was made from (what a good set-up ranks first)."""

    label: str
    text: str = ""
    image_id: str | None = None
    image_file: str | None = None
    expected: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        """``text``, ``image`` or ``text+image``."""
        return "+".join(k for k, v in (("text", self.text), ("image", self.image_id)) if v)


def _name(item_id: str, meta: dict[str, Any]) -> str:
    return str(meta.get("file_name") or item_id[:12])


def _caption(meta: dict[str, Any]) -> str:
    return str(meta.get("caption") or "").strip()


def _grouped(pairs: Iterator[tuple[str, str]]) -> dict[str, tuple[str, ...]]:
    """Text -> the file names it was made from, first-seen order kept."""
    groups: dict[str, list[str]] = {}
    for text, name in pairs:
        groups.setdefault(text, []).append(name)
    return {text: tuple(dict.fromkeys(names)) for text, names in groups.items()}


def _short_captions(items: Items) -> dict[str, tuple[str, ...]]:
    pairs = ((_caption(m), _name(i, m)) for i, m in items)
    return _grouped((c, n) for c, n in pairs if c and len(c) <= MAX_CAPTION_CHARS)


def _column(items: Items, column: str) -> dict[str, tuple[str, ...]]:
    values = ((str(m.get(column) or "").strip(), _name(i, m)) for i, m in items)
    return _grouped((v, n) for v, n in values if v and len(v) <= MAX_CAPTION_CHARS)


def _leads(items: Items) -> dict[str, tuple[str, ...]]:
    """Each long caption's first phrase (a page's title, a product's first words)."""
    pairs = []
    for item_id, meta in items:
        lead = _PHRASE_END.split(_caption(meta), maxsplit=1)[0].strip()
        if len(lead) > MAX_CAPTION_CHARS:
            lead = lead[:MAX_CAPTION_CHARS].rsplit(" ", 1)[0]
        if len(lead.split()) >= 2:
            pairs.append((lead, _name(item_id, meta)))
    return _grouped(iter(pairs))


def _texts(items: Items, count: int) -> dict[str, tuple[str, ...]]:
    """Up to ``count`` example texts with their expected file names: one from each source
    (short captions, then each example column) in turn."""
    sources = [_short_captions(items), *(_column(items, c) for c in EXAMPLE_COLUMNS)]
    turns = chain.from_iterable(zip_longest(*(s.items() for s in sources if s)))
    chosen: dict[str, tuple[str, ...]] = {}
    for entry in chain(turns, _leads(items).items()):
        if entry is not None and entry[0].lower() not in {t.lower() for t in chosen}:
            chosen[entry[0]] = entry[1]
        if len(chosen) == count:
            break
    return chosen


def example_queries(items: Items, texts: int = 3) -> list[Example]:
    """Up to ``texts`` text examples, then one image and one text + image example.

    ``items`` are a collection's (id, metadata) pairs. Items are taken in id order (ids are
    content hashes), so the same collection always gives the same examples. The image
    examples use images whose captions are not among the text examples, so each button
    shows something different. An image example expects its own item first; the pair is
    an image with its own words (its caption or a metadata value: a chip's two halves
    belong together) and expects that item; an image without words gives no pair.
    """
    ordered = sorted(items, key=lambda item: item[0])
    chosen = _texts(ordered, texts)
    examples = [Example(text, text, expected=names) for text, names in chosen.items()]
    if not examples:
        examples = [Example(text, text) for text in BUILT_IN_TEXTS[:texts]]
    used = {name for e in examples for name in e.expected}
    others = [(i, m) for i, m in ordered if _name(i, m) not in used and _caption(m) not in chosen]
    pictures = others or ordered
    if pictures:
        item_id, meta = pictures[0]
        name = _name(item_id, meta)
        examples.append(Example(f"Image: {name}", "", item_id, name, (name,)))
    if len(pictures) > 1:
        item_id, meta = pictures[1]
        name, words = _name(item_id, meta), _own_text(meta)
        if words:
            examples.append(Example(f"Image: {name} + “{words}”", words, item_id, name, (name,)))
    return examples


def _own_text(meta: dict[str, Any]) -> str:
    """What an item says of itself, short enough for a button: its caption (or the caption's
    first phrase), else its first example column; "" when it has no text."""
    lead = _PHRASE_END.split(_caption(meta), maxsplit=1)[0].strip()
    values = (str(meta.get(column) or "").strip() for column in EXAMPLE_COLUMNS)
    short = (t for t in (_caption(meta), lead, *values) if t and len(t) <= MAX_CAPTION_CHARS)
    return next(short, "")
