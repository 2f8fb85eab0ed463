"""The request policy: every rule about what a caller of the web app may ask for.

Every page event and every API endpoint turns the values it was given into a request
object (:mod:`mmdemo.ui.requests`) through :meth:`Policy.admit`, the only way one is built.
Each field of a request is declared once, with :func:`ask` and the :class:`Rule` that checks
it: model and reranker names, collection names and who may read or change them (through
:class:`mmdemo.tenancy.Visitor`), counts, sizes, booleans and numbers. So the page and the
API refuse the same values with the same sentence, and a new endpoint or field cannot
leave a rule out. A refused value raises :class:`~mmdemo.errors.InputError` (or the
visitor's own ``NotFoundError`` / ``ReadOnlyError``) with one plain sentence.

The rules are in :mod:`mmdemo.policy.rules`, the limits a caller meets in
:mod:`mmdemo.policy.limits` (README's API section lists them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from mmdemo.config import Settings
from mmdemo.errors import InputError, MMDemoError, ReadOnlyError
from mmdemo.models.registry import Kind, resolve
from mmdemo.names import validate_collection_name
from mmdemo.policy.limits import EVALUATE_MAX_QUERIES
from mmdemo.policy.rules import Access, Rule, Scope, Target, shown
from mmdemo.tenancy import Visitor

if TYPE_CHECKING:
    from mmdemo.demos import Demo
    from mmdemo.store import Store

R = TypeVar("R", bound="Request")


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
    def demo_ready(self, collection: str) -> bool: ...


class Startup(Protocol):
    """The app's start-up work: the protected demo collections and their progress."""

    def demo(self, collection: str) -> Demo | None: ...
    def status(self) -> StartupStatus: ...


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

        A name that is not a preset or a Hub id is refused by its form, with one sentence
        whether or not such a folder exists (the registry also refuses a Hub-id-shaped name
        that is a folder under the server's working directory). The operator's own choices
        stay usable whatever their form: the default model and the models stored
        collections are indexed with.
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

        A demo collection cannot be read or changed before it is indexed: the caller is
        told so, instead of "not found".
        """
        store = self.store()
        if access == "create":
            return Target(name, visitor.create(validate_collection_name(name), store))
        self.ready(name)
        stored = visitor.read(name, store) if access == "read" else visitor.change(name, store)
        return Target(name, stored)

    def is_demo(self, collection: str) -> bool:
        """Whether ``collection`` (a name as given) is one of the app's shared demos, which
        are protected: no caller deletes or prunes them from the app."""
        return self.startup.demo(collection.strip()) is not None

    def ready(self, collection: str) -> None:
        """Refuse a demo collection while it is still being indexed: each demo on its own,
        so the photos demo is searched while the others index. Once the start-up work has
        ended, a demo that never got ready is simply not found."""
        status = self.startup.status()
        waiting = self.is_demo(collection) and not status.demo_ready(collection.strip())
        if waiting and not status.finished:
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
