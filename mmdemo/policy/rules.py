"""The rules a request field is checked with: each takes what a caller gave and returns
the value the request holds, or raises one plain sentence saying what is wrong."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from mmdemo.config import BACKENDS
from mmdemo.errors import InputError
from mmdemo.evaluate.votes import CHOICES
from mmdemo.models.registry import Kind
from mmdemo.policy.limits import (
    FILES_MAX,
    NAME_MAX_CHARS,
    TEXT_MAX_CHARS,
    TOP_K_MAX,
    WHERE_MAX_CHARS,
)
from mmdemo.tenancy import Visitor

if TYPE_CHECKING:
    from mmdemo.policy import Policy

#: A file as gradio_client's ``handle_file`` sends it; the app receives it uploaded.
FileInput = dict[str, Any]
Access = Literal["read", "create", "change"]


def shown(value: object) -> str:
    """A value as a refusal quotes it: its repr, cut short (a hostile value can be huge)."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class Target:
    """A collection as the caller named it and as it is stored (a visitor's is namespaced)."""

    name: str
    stored: str


@dataclass(frozen=True)
class Scope:
    """Who is asking, through which door, and the name the refusal uses for the value."""

    policy: Policy
    visitor: Visitor
    label: str
    api: bool


class Rule:
    """How one named value of a request is checked; returns the value the request holds."""

    def api_type(self) -> Any:
        """The type the API declares for this value."""
        return str

    def check(self, value: Any, scope: Scope) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Text(Rule):
    """Optional text up to ``max_chars`` characters; None (a box the page never rendered) is ""."""

    max_chars: int = TEXT_MAX_CHARS

    def check(self, value: Any, scope: Scope) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise InputError(f"The {scope.label} must be text, got {shown(value)}.")
        if len(value) > self.max_chars:
            raise InputError(
                f"The {scope.label} is too long: at most {self.max_chars} characters, "
                f"got {len(value)}."
            )
        return value


NAME = Text(NAME_MAX_CHARS)
QUERY_TEXT = Text(TEXT_MAX_CHARS)
WHERE = Text(WHERE_MAX_CHARS)


@dataclass(frozen=True)
class Word(Rule):
    """One of a few fixed words, exactly as written (a vote's ``A``, ``tie`` or ``B``)."""

    words: tuple[str, ...]

    def check(self, value: Any, scope: Scope) -> str:
        if value not in self.words:
            allowed = ", ".join(repr(word) for word in self.words)
            raise InputError(f"The {scope.label} must be one of {allowed}, got {shown(value)}.")
        return str(value)


#: A viewer's vote on a comparison.
CHOICE = Word(CHOICES)


@dataclass(frozen=True)
class Number(Rule):
    """A finite number from ``lo`` to ``hi`` (never a boolean or a numeric string); with
    ``optional``, None stands for "not given"."""

    lo: float
    hi: float
    optional: bool = False
    #: The type the request holds; int takes whole numbers only (10.0 counts, 2.5 not).
    kept: ClassVar[type[int] | type[float]] = float

    def api_type(self) -> Any:
        return self.kept | None if self.optional else self.kept

    def check(self, value: Any, scope: Scope) -> Any:
        if value is None and self.optional:
            return None
        real = isinstance(value, int | float) and not isinstance(value, bool)
        within = real and math.isfinite(value) and self.lo <= value <= self.hi
        if within and (self.kept is float or float(value).is_integer()):
            return self.kept(value)
        wanted = f"between {self.lo:g} and {self.hi:g}"
        if self.kept is int:
            wanted = f"a whole number from {self.lo:g} to {self.hi:g}"
        raise InputError(f"The {scope.label} must be {wanted}, got {shown(value)}.")


@dataclass(frozen=True)
class Count(Number):
    """A whole number from ``lo`` to ``hi`` (10.0 counts as 10; 2.5, True or "3" do not)."""

    kept: ClassVar[type[int] | type[float]] = int


@dataclass(frozen=True)
class Flag(Rule):
    """A real boolean: "false", "0", 0 or None are not one."""

    def api_type(self) -> Any:
        return bool

    def check(self, value: Any, scope: Scope) -> bool:
        if not isinstance(value, bool):
            raise InputError(f"The {scope.label} must be true or false, got {shown(value)}.")
        return value


@dataclass(frozen=True)
class Confirm(Rule):
    """Consent to something that cannot be undone: only the boolean True gives it."""

    def api_type(self) -> Any:
        return bool

    def check(self, value: Any, scope: Scope) -> bool:
        if value is True:
            return True
        if value is False:
            raise InputError("Tick the confirmation box first: deleting cannot be undone.")
        raise InputError(
            f"Deleting cannot be undone: confirm it with true (a boolean), not {shown(value)}."
        )


@dataclass(frozen=True)
class Model(Rule):
    """A model name a caller may use (:meth:`Policy.model`); blank is the app's default
    model where ``blank_is_default``, else refused."""

    kind: Kind = "embedder"
    blank_is_default: bool = False

    def check(self, value: Any, scope: Scope) -> str:
        name = NAME.check(value, scope).strip()
        if not name and self.blank_is_default:
            return scope.policy.default_model()
        return scope.policy.model(name, self.kind)


#: The reranker value that means "no reranking".
NO_RERANKER = "none"


@dataclass(frozen=True)
class Reranker(Rule):
    """A reranker a caller may use, or None for blank or "none"."""

    def check(self, value: Any, scope: Scope) -> str | None:
        name = NAME.check(value, scope).strip()
        if name.lower() in ("", NO_RERANKER):
            return None
        return scope.policy.model(name, "reranker")


@dataclass(frozen=True)
class Choice(Rule):
    """One of ``allowed`` (any case, spaces trimmed), or None for blank: the app's own."""

    allowed: tuple[str, ...]

    def check(self, value: Any, scope: Scope) -> str | None:
        name = NAME.check(value, scope).strip().lower()
        if not name:
            return None
        if name not in self.allowed:
            wanted = ", ".join(self.allowed)
            raise InputError(f"The {scope.label} must be one of {wanted}, got {shown(value)}.")
        return name


@dataclass(frozen=True)
class Listed(Rule):
    """A list of up to ``most`` values, each checked by ``each``, duplicates dropped.

    A single value stands for a list of it. Left out (None), it is ``default``; ``empty``
    refuses an empty list (and None, where there is no default); without ``empty`` an
    empty list is the default too.
    """

    each: Rule
    most: int
    empty: str | None = None
    default: tuple[Any, ...] | None = None
    item_type: Any = str

    def api_type(self) -> Any:
        return list[self.item_type] | None  # type: ignore[name-defined]

    def check(self, value: Any, scope: Scope) -> tuple[Any, ...]:
        if isinstance(value, str | dict):
            value = [value]
        elif value is not None and (not isinstance(value, list | tuple) or None in value):
            raise InputError(f"The {scope.label} must be a list of values, got {shown(value)}.")
        if not value:
            if self.empty and (value is not None or self.default is None):
                raise InputError(self.empty)
            value = list(self.default or ())
        if len(value) > self.most:
            raise InputError(f"At most {self.most} {scope.label} per request, got {len(value)}.")
        return tuple(dict.fromkeys(self.each.check(v, scope) for v in value))


@dataclass(frozen=True)
class Upload(Rule):
    """A file the caller uploaded, as a local path, or None.

    Through the API only gradio's file objects (``handle_file``) count: gradio checked and
    copied those into its upload cache, while a bare string would name a server file.
    """

    def api_type(self) -> Any:
        # Gradio's FileData, not Optional (the field's default None makes it optional): so
        # gradio's MCP server takes a URL or a data: URI for it and fetches the file.
        from gradio import FileData

        return FileData

    def check(self, value: Any, scope: Scope) -> str | None:
        from gradio_client.utils import is_file_obj_with_meta

        if value is None:
            return None
        if scope.api and is_file_obj_with_meta(value):
            return str(value["path"])
        if scope.api or not isinstance(value, str):
            raise InputError("Send files with gradio_client.handle_file(...), not as plain paths.")
        return value


@dataclass(frozen=True)
class Collection(Rule):
    """A collection the caller may read, create or change, as a :class:`Target`.

    ``missing`` refuses a blank name; ``protected`` (with ``{name}``) refuses every demo.
    """

    access: Access
    missing: str = ""
    protected: str = ""

    def check(self, value: Any, scope: Scope) -> Target:
        name = NAME.check(value, scope)
        if self.missing and not name.strip():
            raise InputError(self.missing)
        if self.protected and scope.policy.is_demo(name):
            raise InputError(self.protected.format(name=repr(name)))
        return scope.policy.collection(name, self.access, scope.visitor)


@dataclass(frozen=True)
class Dataset(Rule):
    """A dataset source a caller may name (:meth:`Policy.dataset`), or None for none."""

    def check(self, value: Any, scope: Scope) -> str | None:
        return scope.policy.dataset(NAME.check(value, scope))


@dataclass(frozen=True)
class Queries(Rule):
    """Evaluation queries given inline: up to EVALUATE_MAX_QUERIES rows of text columns."""

    def api_type(self) -> Any:
        return list[dict[str, str]] | None

    def check(self, value: Any, scope: Scope) -> tuple[dict[str, str], ...] | None:
        if value is None:
            return None
        if not isinstance(value, list | tuple):
            raise InputError(f"The {scope.label} must be a list of rows, got {shown(value)}.")
        scope.policy.query_count(len(value))
        for row in value:
            texts = isinstance(row, dict) and all(isinstance(v, str) for v in row.values())
            if not texts or len(str(row)) > TEXT_MAX_CHARS:
                raise InputError(
                    'Each query is a row of text columns, e.g. {"query": "a red car", '
                    f'"relevant": "car.jpg"}}, got {shown(row)}.'
                )
        return tuple(value)


# The rules request fields share; a new field takes one of these or a new one here.
WEIGHT = Number(0.0, 1.0)
TOP_K = Count(1, TOP_K_MAX)
EMBEDDER = Model("embedder")
EMBEDDER_OR_DEFAULT = Model("embedder", blank_is_default=True)
RERANKER = Reranker()
#: What runs the embedder (mmdemo/models/backends/choice.py); blank: ``MMDEMO_BACKEND``.
BACKEND = Choice(BACKENDS)
UPLOAD = Upload()
UPLOADS = Listed(Upload(), FILES_MAX, item_type=FileInput)
FLAG = Flag()
CONFIRM = Confirm()
