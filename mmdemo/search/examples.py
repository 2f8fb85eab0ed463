"""Example queries for a collection: a few texts, an image, and a text + image pair.

They fill the clickable row above the search box. Texts come from the collection's own
captions (a visitor sees what it holds); a collection without captions falls back to a short
list of things the demo photos show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: Texts for a collection without captions (the bundled demo photos show these).
BUILT_IN_TEXTS = ("a space rocket", "a tabby cat", "an astronaut")
#: Captions longer than this make poor button labels.
MAX_CAPTION_CHARS = 48


@dataclass(frozen=True)
class Example:
    """One example query: a button label, its text and the id and file of its image."""

    label: str
    text: str = ""
    image_id: str | None = None
    image_file: str | None = None

    @property
    def kind(self) -> str:
        """``text``, ``image`` or ``text+image``."""
        return "+".join(k for k, v in (("text", self.text), ("image", self.image_id)) if v)


def _short_captions(items: list[tuple[str, dict[str, Any]]]) -> list[str]:
    captions = (str(meta.get("caption") or "").strip() for _, meta in items)
    return list(dict.fromkeys(c for c in captions if c and len(c) <= MAX_CAPTION_CHARS))


def example_queries(items: list[tuple[str, dict[str, Any]]], texts: int = 3) -> list[Example]:
    """Up to ``texts`` text examples, then one image and one text + image example.

    ``items`` are a collection's (id, metadata) pairs. Items are taken in id order (ids are
    content hashes), so the same collection always gives the same examples. The image
    examples use images whose captions are not among the text examples, so each button
    shows something different.
    """
    ordered = sorted(items, key=lambda item: item[0])
    captions = _short_captions(ordered)
    chosen = captions[:texts] or list(BUILT_IN_TEXTS[:texts])
    examples = [Example(label=text, text=text) for text in chosen]
    others = [(i, m) for i, m in ordered if str(m.get("caption") or "").strip() not in chosen]
    pictures = others or ordered
    if pictures:
        item_id, meta = pictures[0]
        name = str(meta.get("file_name") or item_id[:12])
        examples.append(Example(f"Image: {name}", image_id=item_id, image_file=name))
    if len(pictures) > 1:
        item_id, meta = pictures[1]
        name = str(meta.get("file_name") or item_id[:12])
        text = chosen[0]
        examples.append(Example(f"Image: {name} + “{text}”", text, item_id, name))
    return examples
