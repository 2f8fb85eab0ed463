"""The request policy: every rule about what a caller of the web app may ask for.

Every page event and every API endpoint turns the values it was given into a request
object (:mod:`mmdemo.ui.requests`) through :meth:`Policy.admit`, the only way one is built.
Each field of a request is declared once, with :func:`ask` and the :class:`Rule` that checks
it: model and reranker names, collection names and who may read or change them (through
:class:`mmdemo.tenancy.Visitor`), counts, sizes, booleans and numbers. So the page and the
API refuse the same values with the same sentence, and a new endpoint or field cannot
leave a rule out. A refused value raises :class:`~mmdemo.errors.InputError` (or the
visitor's own ``NotFoundError`` / ``ReadOnlyError``) with one plain sentence.

The limits a caller meets are the constants below; README's API section lists them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

from mmdemo.config import Settings
from mmdemo.errors import InputError, MMDemoError, ReadOnlyError
from mmdemo.models.registry import Kind, resolve
from mmdemo.records import validate_collection_name
from mmdemo.tenancy import Visitor

if TYPE_CHECKING:
    from mmdemo.store import Store

#: Most results one search, compare side or map query may ask for.
TOP_K_MAX = 100
#: Most queries one evaluation runs (inline or from a CSV); from captions, the first ones.
EVALUATE_MAX_QUERIES = 500
#: Most embedding models, or rerankers, one request may name.
MODELS_MAX = 4
#: Longest query text, negative prompt or caption keyword.
TEXT_MAX_CHARS = 2000
#: Longest metadata filter (``where``).
WHERE_MAX_CHARS = 4000
#: Longest name: a collection, a model, a dataset, a column, an item id.
NAME_MAX_CHARS = 200
#: Most dataset rows one index request may ask for.
DATASET_ROWS_MAX = 1_000_000
#: Most files (images, archives, PDFs, a folder's files) one index request may upload.
FILES_MAX = 100_000
#: A file as gradio_client's ``handle_file`` sends it; the app receives it uploaded.
FileInput = dict[str, Any]

R = TypeVar("R", bound="Request")
Access = Literal["read", "create", "change"]


class StartupStatus(Protocol):
    """What the policy reads of the app's start-up work."""

    @property
    def finished(self) -> bool: ...
    @property
    def done(self) -> int: ...
    @property
    def total(self) -> int: ...
    @property
    def default_model(self) -> str: ...


class Startup(Protocol):
    """The app's start-up work: the protected demo collection and its progress."""

    @property
    def demo_name(self) -> str | None: ...
    def status(self) -> StartupStatus: ...


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
class Number(Rule):
    """A finite number from ``lo`` to ``hi`` (never a boolean or a numeric string)."""

    lo: float
    hi: float
    optional: bool = False

    def api_type(self) -> Any:
        return float | None if self.optional else float

    def check(self, value: Any, scope: Scope) -> float | None:
        if value is None and self.optional:
            return None
        if _real(value) and math.isfinite(value) and self.lo <= value <= self.hi:
            return float(value)
        raise InputError(
            f"The {scope.label} must be between {self.lo:g} and {self.hi:g}, got {shown(value)}."
        )


@dataclass(frozen=True)
class Count(Rule):
    """A whole number from ``lo`` to ``hi`` (10.0 counts as 10; 2.5, True or "3" do not)."""

    lo: int
    hi: int
    optional: bool = False

    def api_type(self) -> Any:
        return int | None if self.optional else int

    def check(self, value: Any, scope: Scope) -> int | None:
        if value is None and self.optional:
            return None
        whole = _real(value) and math.isfinite(value) and float(value).is_integer()
        if whole and self.lo <= value <= self.hi:
            return int(value)
        raise InputError(
            f"The {scope.label} must be a whole number from {self.lo} to {self.hi}, "
            f"got {shown(value)}."
        )


def _real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
        elif value is not None and not isinstance(value, list | tuple):
            raise InputError(f"The {scope.label} must be a list, got {shown(value)}.")
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
        return FileInput | None

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

    ``missing`` refuses a blank name; ``protected`` (with ``{name}``) refuses the demo.
    """

    access: Access
    missing: str = ""
    protected: str = ""

    def check(self, value: Any, scope: Scope) -> Target:
        name = NAME.check(value, scope)
        if self.missing and not name.strip():
            raise InputError(self.missing)
        if self.protected and name.strip() == scope.policy.startup.demo_name:
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


@dataclass(frozen=True)
class Ask:
    """How a request field is asked for: its rule, its API description and default."""

    rule: Rule
    doc: str
    default: Any
    label: str
    api: bool


REQUIRED: Any = MISSING


def ask(
    rule: Rule, default: Any = REQUIRED, doc: str = "", *, label: str = "", api: bool = True
) -> Any:
    """Declare a request field: the ``rule`` that checks it, the value of a caller who
    leaves it out (``REQUIRED``: None, so the rule decides), its API description ``doc``,
    the ``label`` refusals call it (default: its name in words), and whether the API has it
    (``api`` False: only the page gives it)."""
    return field(metadata={"ask": Ask(rule, doc, default, label, api)})


@dataclass(frozen=True, kw_only=True)
class Request:
    """What a caller asked for, every field checked (built only by :meth:`Policy.admit`)."""

    visitor: Visitor
    #: What this request writes, named for the read-only refusal; None: it only reads.
    writes: ClassVar[str | None] = None
    #: What only the operator may ask for (off for public visitors), named for the refusal.
    operator_only: ClassVar[str | None] = None


def asked_fields(kind: type[Request]) -> dict[str, Ask]:
    """The fields a caller gives for ``kind``, by name, in their (API) order."""
    return {f.name: f.metadata["ask"] for f in fields(kind) if "ask" in f.metadata}


@dataclass
class Policy:
    """The rules of one running app, over its settings, start-up work and store."""

    settings: Settings
    startup: Startup
    store: Callable[[], Store]

    def admit(
        self, kind: type[R], values: Mapping[str, Any], visitor: Visitor, *, api: bool = False
    ) -> R:
        """``kind`` built from the named ``values`` a page event (or, ``api``, an API call)
        gave, each checked by its field's rule in order; a value left out is its default.

        Raises the first refusal, as one sentence. Names ``kind`` does not ask for are a
        bug of the caller (TypeError), not of the visitor.
        """
        asks = asked_fields(kind)
        unknown = set(values) - set(asks)
        if unknown:
            raise TypeError(f"{kind.__name__} asks for no {sorted(unknown)}")
        if kind.writes is not None:
            self.writable(kind.writes)
        if kind.operator_only is not None and self.settings.multiuser:
            raise ReadOnlyError(
                f"{kind.operator_only} is for the operator: it is off for public visitors."
            )
        checked = {}
        for name, how in asks.items():
            given = values.get(name, None if how.default is REQUIRED else how.default)
            label = how.label or name.replace("_", " ")
            checked[name] = how.rule.check(given, Scope(self, visitor, label, api))
        return kind(visitor=visitor, **checked)

    def writable(self, action: str) -> None:
        """Refuse ``action`` in read-only mode."""
        if self.settings.readonly:
            raise ReadOnlyError(f"This demo is read-only: {action} is turned off.")

    def default_model(self) -> str:
        """The app's default embedding model."""
        return self.startup.status().default_model

    def model(self, name: str, kind: Kind) -> str:
        """``name`` if a caller may use it: a preset, or a Hub id unless the demo is
        read-only; a server folder only where the operator allows local models.

        Refused by its form alone, whether or not such a folder exists, so a visitor learns
        nothing about the server's files. The operator's own choices stay usable whatever
        their form: the default model and the models stored collections are indexed with.
        """
        try:
            resolve(
                name,
                kind,
                allow_paths=self.settings.allow_local_models,
                allow_hub=not self.settings.readonly,
            )
        except InputError:
            if not name or name not in self._operator_models():
                raise
        return name

    def _operator_models(self) -> set[str]:
        """The default model and every model a stored collection is indexed with (listed
        only when a name was refused, so an accepted one costs nothing)."""
        indexed = {model for info in self.store().collections() for model in info.models}
        return {self.default_model(), *indexed}

    def dataset(self, source: str) -> str | None:
        """The dataset a caller named (``hf:OWNER/NAME`` or a local dataset folder), or None
        for none; a local folder, by its form alone, only where the operator allows local
        paths, so a visitor cannot make the server read or probe its files. Whether a Hub
        dataset exists is only known when it is opened.
        """
        from mmdemo.ingest.hf_datasets import is_dataset, is_hub_id

        source = source.strip()
        if not source:
            return None
        if is_hub_id(source):
            return source
        if not self.settings.allow_local_models:
            raise InputError(
                f"{shown(source)} is not a Hub dataset id: name one as hf:OWNER/NAME "
                "(local dataset folders are accepted only from the command line)."
            )
        if not is_dataset(source):
            raise InputError(
                f"{shown(source)} is not a dataset: give hf:OWNER/NAME, a parquet file or a "
                "folder with metadata.jsonl, metadata.csv, parquet files or save_to_disk output."
            )
        return source

    def collection(self, name: str, access: Access, visitor: Visitor) -> Target:
        """The collection ``visitor`` means by ``name``, if it may ``access`` it: create one
        of its own, read a shared or its own one, change its own (see :class:`Visitor`).

        The demo collection cannot be read or changed before it is indexed: the caller is
        told so, instead of "not found".
        """
        store = self.store()
        if access == "create":
            return Target(name, visitor.create(validate_collection_name(name), store))
        self.ready(name)
        stored = visitor.read(name, store) if access == "read" else visitor.change(name, store)
        return Target(name, stored)

    def ready(self, collection: str) -> None:
        """Refuse the demo collection while it is still being indexed."""
        status = self.startup.status()
        if collection == self.startup.demo_name and not status.finished:
            progress = f" ({status.done}/{status.total})" if status.total else ""
            raise MMDemoError(
                f"The demo collection is still being indexed{progress}: try again in a moment."
            )

    def query_count(self, count: int) -> None:
        """Refuse an evaluation of more than EVALUATE_MAX_QUERIES queries."""
        if count > EVALUATE_MAX_QUERIES:
            raise InputError(
                f"One evaluation runs at most {EVALUATE_MAX_QUERIES} queries: this one has "
                f"{count}; split them, or run `python -m mmdemo eval` on the server."
            )


# The rules request fields share; a new field takes one of these or a new one here.
WEIGHT = Number(0.0, 1.0)
TOP_K = Count(1, TOP_K_MAX)
EMBEDDER = Model("embedder")
EMBEDDER_OR_DEFAULT = Model("embedder", blank_is_default=True)
RERANKER = Reranker()
UPLOAD = Upload()
UPLOADS = Listed(Upload(), FILES_MAX, item_type=FileInput)
FLAG = Flag()
CONFIRM = Confirm()
