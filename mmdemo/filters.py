"""What a search may be narrowed to: a caption keyword and metadata conditions.

``parse_where`` turns a text such as ``brand=acme and price<10 and color in (red, blue)``
into :class:`Condition` values (pure, no storage), so the CLI, the API and the page all
accept one syntax; the store turns an :class:`ItemFilter` into its own query language.

Grammar: conditions joined by ``and`` (any case); each is ``KEY OP VALUE`` with OP one of
``= != < > <= >=``, or ``KEY in (V1, V2, ...)`` / ``KEY not in (...)``. A value is a
number, ``true``/``false``, or text (bare words, or quoted with ``'`` or ``"`` to keep
spaces, commas or the word "and"). Numbers compare as numbers; quote them to match text.
A date (``2021-06-01``, ``2021-06``, a date-time, or a bare year for a date key such as
``taken``) compares as the span of time it names (:mod:`mmdemo.dates`): ``taken<2022``;
quoted, it is text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

from mmdemo.dates import DATE_KEYS, Span, parse_span, year_span
from mmdemo.errors import InputError

Value = str | int | float | bool
COMPARISONS = ("=", "!=", "<", ">", "<=", ">=")
SET_OPERATORS = ("in", "not in")
_ORDERED = ("<", ">", "<=", ">=")
_EXAMPLE = "write e.g. brand=acme, price<10 or color in (red, blue), joined by 'and'"
_TOKEN = re.compile(
    r"""\s*(?:(?P<quoted>"[^"]*"|'[^']*')|(?P<op><=|>=|!=|==|=|<|>)|(?P<punct>[(),])"""
    r"""|(?P<word>[^\s"'=<>!(),]+))"""
)


#: At most this many values in one filter (each condition's value, each value of a list):
#: the store matches them in one database query, and SQLite bounds its variables.
MAX_FILTER_VALUES = 1_000
#: The longest caption keyword: captions are shorter (Limits.caption_chars), and SQLite
#: refuses long match patterns.
MAX_KEYWORD_CHARS = 1_000


class FilterError(InputError):
    """A metadata filter could not be read; the message says where and how to write it."""


def check_size(conditions: tuple[Condition, ...], keyword: str) -> None:
    """Refuse a filter past :data:`MAX_FILTER_VALUES` values or a keyword past
    :data:`MAX_KEYWORD_CHARS` characters, with the limit, before any store sees it."""
    values = sum(len(c.value) if isinstance(c.value, tuple) else 1 for c in conditions)
    if values > MAX_FILTER_VALUES:
        raise FilterError(
            f"This filter has {values:,} values; a filter may have at most "
            f"{MAX_FILTER_VALUES:,} (conditions and list values together)."
        )
    if len(keyword) > MAX_KEYWORD_CHARS:
        raise FilterError(
            f"The caption keyword has {len(keyword):,} characters; it may have at most "
            f"{MAX_KEYWORD_CHARS:,}."
        )


@dataclass(frozen=True)
class Condition:
    """One metadata condition: ``key`` compared by ``op`` with ``value`` (a tuple for sets)."""

    key: str
    op: str
    value: Value | Span | tuple[Value, ...]


@dataclass(frozen=True)
class ItemFilter:
    """Which items a search may return: caption contains ``contains`` (ignoring case) and
    every condition of ``where`` holds. Empty parts do not filter."""

    contains: str = ""
    where: tuple[Condition, ...] = ()

    def __post_init__(self) -> None:
        check_size(self.where, self.contains.strip())

    @property
    def needle(self) -> str:
        """The caption keyword as the store matches it: trimmed and case-folded."""
        return self.contains.strip().casefold()

    @property
    def active(self) -> bool:
        """Whether this filter leaves anything out at all."""
        return bool(self.needle or self.where)

    @property
    def negated(self) -> bool:
        """Whether a condition is ``!=`` or ``not in``, which an item lacking its key meets
        (so a misspelt key filters nothing rather than everything)."""
        return any(c.op in ("!=", "not in") for c in self.where)


#: Metadata keys the indexer keeps for itself: never listed to a user (a source's origin
#: can name a server folder), though a filter may still use them.
UNLISTED_KEYS = frozenset({"image_file", "origin"})


def check_keys(
    conditions: tuple[Condition, ...], keys: Iterable[str], unlisted: Iterable[str] = ()
) -> None:
    """Raise :class:`FilterError` when a condition names a key no item has, listing the
    keys there are (``color=red`` on a collection with ``colour`` says so) but for
    :data:`UNLISTED_KEYS` and ``unlisted`` (keys this server does not share)."""
    known = set(keys)
    missing = [c.key for c in conditions if c.key not in known]
    if not missing:
        return
    listed = sorted(known - UNLISTED_KEYS - set(unlisted))
    has = f"its items have: {', '.join(listed)}" if listed else "its items have no metadata"
    raise FilterError(f"No item in this collection has a field {missing[0]!r}; {has}.")


@dataclass(frozen=True)
class _Token:
    kind: str  # "quoted", "op", "punct" or "word"
    text: str
    source: str  # the whole filter text, so errors can quote a condition as typed
    start: int
    end: int


def _as_typed(tokens: list[_Token]) -> str:
    """The filter text the ``tokens`` came from, as the user typed it."""
    return tokens[0].source[tokens[0].start : tokens[-1].end]


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text.rstrip()):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            rest = text[position:].strip()
            raise FilterError(f"Filter {text!r} cannot be read at {rest[:20]!r}: {_EXAMPLE}.")
        kind = match.lastgroup or "word"
        tokens.append(_Token(kind, match.group(kind), text, match.start(kind), match.end(kind)))
        position = match.end()
    return tokens


def _literal(token: _Token) -> Value:
    """A value token typed: quoted text stays text; bare numbers and booleans are typed."""
    if token.kind == "quoted":
        return token.text[1:-1]
    lowered = token.text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if re.fullmatch(r"[+-]?\d+", token.text):
        return int(token.text)
    try:
        number = float(token.text)
    except ValueError:
        return token.text
    return number if math.isfinite(number) else token.text


def _is_and(token: _Token) -> bool:
    return token.kind == "word" and token.text.lower() == "and"


def _split_conditions(text: str, tokens: list[_Token]) -> list[list[_Token]]:
    """Token runs between top-level ``and`` words (not inside a parenthesised set)."""
    parts: list[list[_Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.kind == "punct" and token.text in "()":
            depth += 1 if token.text == "(" else -1
        if depth == 0 and _is_and(token):
            parts.append([])
        else:
            parts[-1].append(token)
    if depth != 0:
        raise FilterError(f"Filter {text!r} has unbalanced parentheses: {_EXAMPLE}.")
    if any(not part for part in parts):
        raise FilterError(f"Filter {text!r} has an empty condition around 'and': {_EXAMPLE}.")
    return parts


def _join_words(tokens: list[_Token], where: str) -> Value:
    """Bare words in a row are one text value ("acme corp"); a single token is typed."""
    if len(tokens) == 1:
        return _literal(tokens[0])
    if all(t.kind == "word" for t in tokens):
        return " ".join(t.text for t in tokens)
    raise FilterError(f"Condition {where!r} has a value that cannot be read: {_EXAMPLE}.")


def _set_values(tokens: list[_Token], where: str) -> tuple[Value, ...]:
    """The values of ``(a, b, c)``, all numbers or all of one other type."""
    if len(tokens) < 2 or tokens[0].text != "(" or tokens[-1].text != ")":
        raise FilterError(f"Condition {where!r} needs a list in parentheses: {_EXAMPLE}.")
    groups: list[list[_Token]] = [[]]
    for token in tokens[1:-1]:
        if token.kind == "punct" and token.text == ",":
            groups.append([])
        else:
            groups[-1].append(token)
    if any(not group for group in groups):
        raise FilterError(f"Condition {where!r} has an empty value in its list.")
    values = [_join_words(group, where) for group in groups]
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        has_float = any(isinstance(v, float) for v in values)
        return tuple(float(v) if has_float else v for v in values)
    if len({type(v) for v in values}) > 1:
        raise FilterError(
            f"Condition {where!r} mixes numbers, text or true/false in one list: use one "
            "kind, quoting every number meant as text."
        )
    return tuple(values)


def _condition(tokens: list[_Token]) -> Condition:
    where = _as_typed(tokens)
    if tokens[0].kind not in ("word", "quoted"):
        raise FilterError(f"Condition {where!r} does not start with a column name: {_EXAMPLE}.")
    key = str(tokens[0].text.strip("'\"")).strip()
    if not key or key.startswith("$"):
        raise FilterError(f"Condition {where!r} does not name a usable column.")
    rest = tokens[1:]
    words = [t.text.lower() for t in rest[:2]]
    if words[:1] == ["in"] and rest[0].kind == "word":
        return Condition(key, "in", _set_values(rest[1:], where))
    if words == ["not", "in"] and rest[1].kind == "word":
        return Condition(key, "not in", _set_values(rest[2:], where))
    if not rest or rest[0].kind != "op":
        raise FilterError(f"Condition {where!r} has no operator: {_EXAMPLE}.")
    op = "=" if rest[0].text == "==" else rest[0].text
    if len(rest) < 2:
        raise FilterError(f"Condition {where!r} has no value after {op!r}.")
    value = _join_words(rest[1:], where)
    date = None if rest[1].kind == "quoted" else _as_date(key, op, value)
    if date is not None:
        return Condition(key, op, date)
    if op in _ORDERED and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise FilterError(f"Condition {where!r} compares with {op!r}, which needs a number.")
    return Condition(key, op, value)


def _as_date(key: str, op: str, value: Value) -> Span | None:
    """The date ``value`` names when the condition compares dates: an ordered comparison
    with an ISO date, or any comparison of a date key (``taken``) with a date or a year."""
    if op not in _ORDERED and key not in DATE_KEYS:
        return None
    if isinstance(value, str) and len(value) >= len("2021-06"):
        return parse_span(value)
    if key in DATE_KEYS and isinstance(value, int) and not isinstance(value, bool):
        return year_span(value)
    return None


def parse_where(text: str | None) -> tuple[Condition, ...]:
    """The conditions of a filter text, all of which must hold; empty text filters nothing.

    Raises :class:`FilterError` naming the condition and the problem when it cannot be read.
    """
    if not text or not text.strip():
        return ()
    tokens = _tokens(text)
    conditions = tuple(_condition(part) for part in _split_conditions(text, tokens))
    check_size(conditions, "")
    return conditions
