"""The shop and documents demos indexed for relevance benches, and dev queries over them.

Queries come from the demos' own metadata (``assets/demos/*/captions.csv``), each with the
items it should find:

- ``name``: a product's name ("Aster Running Shoe") -> that product;
- ``brand``: a brand ("Strideline") -> every product of the brand;
- ``title``: a report page's chart title without its chart kind ("Monthly revenue") -> that
  page;
- ``described`` (shop): "a red running shoe" -> every product of that colour and kind, and
  "a running shoe" -> every product of that kind;
- ``described`` (documents): "a pie chart" -> every page with that chart kind.

The first three are exact-term queries, the last descriptive. Each query is in the dev or
the test split by a hash of its text (:func:`bench.offline_data.split_of`, dev = train +
dev shares).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.offline_data import split_of
from mmdemo.config import Settings
from mmdemo.ingest.indexer import index_paths
from mmdemo.store import Store

EXACT_KINDS = ("name", "brand", "title")


@dataclass(frozen=True)
class LexicalQuery:
    """A bench query: its collection, kind, text and the file names it should find."""

    collection: str
    kind: str
    text: str
    relevant: frozenset[str]

    @property
    def split(self) -> str:
        """ "dev" or "test", by a hash of the query text."""
        return "test" if split_of(self.text.lower()) == "test" else "dev"

    @property
    def exact(self) -> bool:
        """Whether the query names an exact term (a name, brand or title)."""
        return self.kind in EXACT_KINDS


def index_demos(demos: Path, settings: Settings, model: str) -> Store:
    """The shop and documents demos indexed with ``model`` (already stored items are kept)."""
    store = Store(settings)
    for name in ("shop", "documents"):
        folder = demos / name
        index_paths(
            sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png", ".pdf")),
            collection=name,
            models=[model],
            settings=settings,
            store=store,
            captions=str(folder / "captions.csv"),
        )
    return store


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _groups(pairs: Iterator[tuple[str, str]]) -> dict[str, set[str]]:
    groups: dict[str, set[str]] = {}
    for key, file_name in pairs:
        groups.setdefault(key, set()).add(file_name)
    return groups


def _kind(file_name: str, category: str, colour: str) -> str:
    """A product's kind from its file name: ``shoes-running-shoe-red.jpg`` -> running shoe."""
    stem = Path(file_name).stem.removeprefix(f"{category}-").removesuffix(f"-{colour}")
    return stem.replace("-", " ")


def shop_queries(demos: Path) -> list[LexicalQuery]:
    """Name, brand and described queries over the shop demo."""
    rows = _rows(demos / "shop" / "captions.csv")
    names = _groups((r["name"], r["file_name"]) for r in rows)
    brands = _groups((r["brand"], r["file_name"]) for r in rows)
    kinds = [(r, _kind(r["file_name"], r["category"], r["colour"])) for r in rows]
    described = _groups((f"a {r['colour']} {kind}", r["file_name"]) for r, kind in kinds)
    described |= _groups((f"a {kind}", r["file_name"]) for r, kind in kinds)
    return [
        LexicalQuery("shop", kind, text, frozenset(files))
        for kind, groups in (("name", names), ("brand", brands), ("described", described))
        for text, files in groups.items()
    ]


def document_queries(demos: Path) -> list[LexicalQuery]:
    """Title and described (chart kind) queries over the documents demo."""
    rows = _rows(demos / "documents" / "captions.csv")
    titles = _groups((re.split(r":\s*", r["title"])[0], r["file_name"]) for r in rows)
    charts = _groups((f"a {r['chart']}", r["file_name"]) for r in rows)
    return [
        LexicalQuery("documents", kind, text, frozenset(files))
        for kind, groups in (("title", titles), ("described", charts))
        for text, files in groups.items()
    ]
