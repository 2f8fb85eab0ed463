"""The words of a text query matched against item text, fused with the dense ranking.

After dense retrieval, the query's words are looked up in the collection's lexical index
(:mod:`mmdemo.text`); the items they match join the candidates, each scored densely from
its stored vectors exactly as retrieval scored the others, and both rankings are fused
(:func:`mmdemo.search.lexical_fusion.fuse_scores`). Quoted phrases must match: the results
are then only items whose text holds every one. Where no item's text holds a query word
(or the collection has no text at all), the dense hits come back untouched, so a
collection of uncaptioned photos ranks exactly as by image alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmdemo.filters import ItemFilter
from mmdemo.search.hybrid import cosines, fuse_captions
from mmdemo.search.lexical_fusion import fuse_scores
from mmdemo.store import Hit, Store
from mmdemo.text.index import LexicalHit, LexicalIndex
from mmdemo.text.persist import lexical_index
from mmdemo.text.words import LexicalQuery, parse_query

#: Fewest lexical candidates taken (more when more results are asked for).
LEXICAL_DEPTH = 50
#: Most items a quoted phrase may bring in beside the dense candidates.
PHRASE_DEPTH = 1000


@dataclass(frozen=True)
class DenseScorer:
    """How retrieval scored candidates, so that lexical ones are scored alike."""

    store: Store
    collection: str
    model: str
    vector: np.ndarray
    #: The caption share in the dense scores (0: image alone).
    caption_weight: float
    item_filter: ItemFilter | None

    def scores(self, ids: list[str]) -> dict[str, float]:
        """The dense score of each of ``ids`` that has an image vector and that the
        filter allows."""
        if not ids:
            return {}
        store, name, model = self.store, self.collection, self.model
        stored = store.vectors_of(name, model, ids, item_filter=self.item_filter)
        image = cosines(stored, self.vector)
        if self.caption_weight <= 0:
            return image
        caption = cosines(store.vectors_of(name, model, list(image), captions=True), self.vector)
        found = list(image)
        fused = fuse_captions(
            np.array([image[i] for i in found]),
            np.array([caption.get(i, np.nan) for i in found]),
            self.caption_weight,
        )
        return {item_id: float(score) for item_id, score in zip(found, fused, strict=True)}


@dataclass(frozen=True)
class WordMatches:
    """What the query's words did: the ranked hits and, per hit id that matched, its match."""

    hits: list[Hit]
    matched: dict[str, LexicalHit]


def with_words(
    hits: list[Hit],
    text: str,
    weight: float,
    scorer: DenseScorer,
    depth: int,
    notes: list[str],
) -> WordMatches:
    """``hits`` (dense, best first) fused with the items whose text matches ``text``.

    ``weight`` is the lexical weight (0: dense only, nothing looked up). Returns at most
    ``depth`` hits, each with its similarity as retrieval scored it.
    """
    if weight <= 0 or not text.strip():
        return WordMatches(hits, {})
    index = lexical_index(scorer.store, scorer.collection)
    query = parse_query(text)
    if not len(index):
        if query.phrases:
            notes.append(
                f"Collection {scorer.collection!r} has no text to match quoted words against "
                "(no captions, page text or metadata), so they did not count."
            )
        return WordMatches(hits, {})
    found = index.search(query, max(LEXICAL_DEPTH, 2 * depth, _phrase_depth(query)))
    if found.empty:
        return WordMatches(hits, {})
    if found.required is not None and not found.required:
        quoted = ", ".join(f"“{q}”" for q in query.quoted)
        notes.append(f"No item's text holds the quoted words {quoted}.")
    dense = {hit.id: hit.score for hit in hits}
    lexical = {hit.id: hit.score for hit in found.hits}
    wanted = [i for i in dict.fromkeys([*dense, *lexical]) if _allowed(i, found.required)]
    dense = {i: dense[i] for i in wanted if i in dense}
    dense |= scorer.scores([i for i in wanted if i not in dense])
    order = fuse_scores(dense, lexical, weight)[:depth]
    known = {hit.id: hit for hit in hits}
    ranked = [_hit(item_id, dense[item_id], known, index) for item_id in order]
    return WordMatches(ranked, _matches(ranked, found.hits, index, query))


def _phrase_depth(query: LexicalQuery) -> int:
    return PHRASE_DEPTH if query.phrases else 0


def _allowed(item_id: str, required: frozenset[str] | None) -> bool:
    return required is None or item_id in required


def _hit(item_id: str, score: float, known: dict[str, Hit], index: LexicalIndex) -> Hit:
    """The hit of a ranked id: as retrieval found it, else with the index's metadata."""
    hit = known.get(item_id)
    return Hit(item_id, score, hit.metadata if hit else dict(index.metadata_of(item_id) or {}))


def _matches(
    ranked: list[Hit], found: tuple[LexicalHit, ...], index: LexicalIndex, query: LexicalQuery
) -> dict[str, LexicalHit]:
    """Each ranked hit's lexical match (also for hits past the BM25 candidates)."""
    by_id = {hit.id: hit for hit in found}
    matches = {hit.id: by_id.get(hit.id) or index.matched(hit.id, query) for hit in ranked}
    return {item_id: match for item_id, match in matches.items() if match is not None}
