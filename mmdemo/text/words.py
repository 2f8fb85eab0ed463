"""Words of a text, as the lexical index and its queries see them (pure).

Text is case-folded (NFKC), split into runs of letters and digits (so ``red_shoe-01.jpg``
gives ``red``, ``shoe``, ``01``, ``jpg``) and each word stemmed with the Snowball English
stemmer, so "shoes" finds "shoe" and "charts" finds "chart". English stop words never count
as query terms, but stay in an item's word sequence so that a quoted phrase such as
"the north face" can match in full.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bm25s.stopwords import STOPWORDS_EN

_WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r"[\"“”„]([^\"“”„]*)[\"“”„]")
_STOP = frozenset(STOPWORDS_EN)
_stemmer_lock = threading.Lock()  # a Snowball stemmer keeps its state on the object


@dataclass(frozen=True)
class Term:
    """One query term: the word as the user typed it (lower-cased) and its stem."""

    word: str
    stem: str


@dataclass(frozen=True)
class LexicalQuery:
    """What a text query asks of item text: its terms, and the phrases that must match
    (as stems, and as the user quoted them)."""

    terms: tuple[Term, ...]
    phrases: tuple[tuple[str, ...], ...]
    quoted: tuple[str, ...] = ()

    @property
    def stems(self) -> list[str]:
        """The terms' stems, each once, in query order."""
        return [term.stem for term in self.terms]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-case word (cached: texts repeat words)."""
    with _stemmer_lock:
        stemmed: str = _english().stemWord(word)
    return stemmed


@lru_cache(maxsize=1)
def _english() -> Any:
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def words(text: str) -> list[str]:
    """The lower-case words of ``text``, in order."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def stems(text: str) -> list[str]:
    """The stems of every word of ``text``, in order (stop words included)."""
    return [stem(word) for word in words(text)]


def is_stop(word: str) -> bool:
    """Whether ``word`` is an English stop word ("a", "the", "of", ...)."""
    return word in _STOP


def parse_query(text: str) -> LexicalQuery:
    """The terms of a query (stop words left out, each stem once) and its quoted phrases
    (every word kept, so a phrase matches exactly as typed, up to case and stemming)."""
    found = {" ".join(q.split()): tuple(stems(q)) for q in _QUOTED.findall(text)}
    quoted = {q: phrase for q, phrase in found.items() if phrase}
    terms: dict[str, Term] = {}
    for word in words(text):
        if not is_stop(word):
            terms.setdefault(stem(word), Term(word, stem(word)))
    phrases = tuple(dict.fromkeys(quoted.values()))
    return LexicalQuery(tuple(terms.values()), phrases, tuple(quoted))


def contains_phrase(sequence: list[str], phrase: tuple[str, ...]) -> bool:
    """Whether the stems of ``phrase`` occur in ``sequence`` one after another."""
    size = len(phrase)
    first = phrase[0]
    return any(
        sequence[i] == first and tuple(sequence[i : i + size]) == phrase
        for i in range(len(sequence) - size + 1)
    )
