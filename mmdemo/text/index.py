"""The lexical index of one collection: BM25 (bm25s) over each item's text.

Built from the items' metadata (:func:`mmdemo.text.documents.item_text`); items without
text are not in it at all, so they never get a lexical part. Each item keeps its stem
sequence, which quoted phrases are matched against and which says which query words an
item matched; the BM25 matrices are built from those sequences when first searched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from mmdemo.text.documents import item_text
from mmdemo.text.words import LexicalQuery, contains_phrase, is_stop, stems

if TYPE_CHECKING:
    import bm25s


@dataclass(frozen=True)
class LexicalHit:
    """An item's lexical match: its BM25 score, the share of the query's terms it holds
    (``coverage``, 0..1) and the query words it matched, in query order."""

    id: str
    score: float
    coverage: float
    matched: tuple[str, ...]


@dataclass(frozen=True)
class LexicalMatches:
    """What a query found in a collection's text.

    ``hits`` are the items holding at least one query term, best BM25 score first (ties by
    id); ``required`` is None unless the query quotes phrases, else the ids of every item
    holding all of them (results are restricted to those).
    """

    hits: tuple[LexicalHit, ...]
    required: frozenset[str] | None

    @property
    def empty(self) -> bool:
        """Whether no item's text took part (no term matched, nothing quoted)."""
        return not self.hits and self.required is None


@dataclass
class LexicalIndex:
    """Stems and metadata of every item with text, and the BM25 index over them."""

    ids: list[str]
    sequences: list[list[str]]
    metadata: list[dict[str, Any]]
    _bm25: bm25s.BM25 | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _rows: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._rows = {item_id: row for row, item_id in enumerate(self.ids)}

    @classmethod
    def build(cls, items: Iterable[tuple[str, Mapping[str, Any]]]) -> LexicalIndex:
        """The index of ``(id, metadata)`` items; those without any text are left out."""
        ids, sequences, metadata = [], [], []
        for item_id, meta in sorted(items, key=lambda item: item[0]):
            sequence = stems(item_text(meta))
            if sequence:
                ids.append(item_id)
                sequences.append(sequence)
                metadata.append(dict(meta))
        return cls(ids, sequences, metadata)

    def __len__(self) -> int:
        return len(self.ids)

    def _model(self) -> bm25s.BM25:
        """The BM25 matrices over the items' terms (stop words out), built once."""
        with self._lock:
            if self._bm25 is None:
                import bm25s

                model = bm25s.BM25()
                terms = [[s for s in seq if not is_stop(s)] or [""] for seq in self.sequences]
                model.index(terms, show_progress=False)
                self._bm25 = model
            return self._bm25

    def search(self, query: LexicalQuery, depth: int) -> LexicalMatches:
        """The ``depth`` best items by BM25 score for ``query``'s terms, and, when it
        quotes phrases, every item holding all of them."""
        required = None
        if query.phrases:
            required = frozenset(
                self.ids[row]
                for row, seq in enumerate(self.sequences)
                if all(contains_phrase(seq, phrase) for phrase in query.phrases)
            )
        if not query.terms or not self.ids:
            return LexicalMatches((), required)
        scores = self._model().get_scores(query.stems)
        rows = [int(r) for r in np.flatnonzero(scores > 0)]
        rows.sort(key=lambda r: (-float(scores[r]), self.ids[r]))
        return LexicalMatches(
            tuple(self._hit(row, float(scores[row]), query) for row in rows[:depth]), required
        )

    def matched(self, item_id: str, query: LexicalQuery) -> LexicalHit | None:
        """``item_id``'s match of ``query``'s terms (score 0: outside the BM25 ranking),
        or None when it has no text or matched no term."""
        row = self._rows.get(item_id)
        if row is None:
            return None
        hit = self._hit(row, 0.0, query)
        return hit if hit.matched else None

    def _hit(self, row: int, score: float, query: LexicalQuery) -> LexicalHit:
        held = set(self.sequences[row])
        matched = tuple(term.word for term in query.terms if term.stem in held)
        coverage = len(matched) / len(query.terms) if query.terms else 0.0
        return LexicalHit(self.ids[row], score, coverage, matched)

    def metadata_of(self, item_id: str) -> dict[str, Any] | None:
        """The stored metadata of an indexed item, or None when it has no text."""
        row = self._rows.get(item_id)
        return None if row is None else self.metadata[row]
