"""Decoded, prepared batches: the producer side of indexing.

The indexer runs this in a thread ahead of its models (:mod:`mmdemo.ingest.ahead`): new
images are decoded, copied and thumbnailed, gathered into batches, and each model's inputs
are prepared from them, while the models embed the previous batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from mmdemo.embed import Embedder
from mmdemo.errors import ImageRejected
from mmdemo.ingest.entries import Rejection

BATCH_SIZE = 32
#: The first batch of an ingest: small, so the model starts early (see decoded_batches).
FIRST_BATCH_SIZE = 8


@dataclass
class Item:
    """One decoded input: its id (content hash), its pixels until prepared, its metadata."""

    id: str
    image: Image.Image | None  # None once every model prepared its inputs from it
    metadata: dict[str, Any]
    missing: frozenset[str] = frozenset()  # the model keys that still lack this item


def _no_screen() -> None:
    """The screen of an input already known to be an image (a stored copy)."""


@dataclass
class Pending:
    """An input whose id is known (hashed or stored) but whose pixels are not decoded yet;
    ``screen`` refuses it (ImageRejected) from its headers, before any model loads for it."""

    id: str
    origin: str
    decode: Callable[[], Item]
    screen: Callable[[], None] = _no_screen


@dataclass
class Batch:
    """Decoded items some model lacks, plus how many source entries the batch accounts for."""

    items: list[Item] = field(default_factory=list)
    present: int = 0
    consumed: int = 0
    #: Per model key: the inputs that model prepared for the items it lacks.
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def lacking(self, key: str) -> list[Item]:
        """The items the model ``key`` still lacks, in batch order."""
        return [item for item in self.items if key in item.missing]


def _take(
    batch: Batch,
    pending: Pending,
    lacking: frozenset[str],
    refused: dict[str, str],
    rejected: list[Rejection],
    before_decoding: Callable[[], object],
) -> None:
    """Count ``pending`` as present, refuse it, or decode it into ``batch``.

    ``refused`` maps the ids refused so far in this run to their reasons: a copy of a file
    refused earlier gets that file's reason, not "present", since nothing of it is stored.
    """
    if pending.id in refused:
        rejected.append(Rejection(pending.origin, refused[pending.id]))
        return
    if not lacking:
        batch.present += 1
        return
    try:
        pending.screen()
    except ImageRejected as exc:
        refused[pending.id] = exc.reason
        rejected.append(Rejection(pending.origin, exc.reason))
        return
    before_decoding()
    try:
        item = pending.decode()
    except ImageRejected as exc:
        refused[pending.id] = exc.reason
    except OSError as exc:
        refused[pending.id] = str(exc)
    else:
        item.missing = lacking
        batch.items.append(item)
        return
    rejected.append(Rejection(pending.origin, refused[pending.id]))


def decoded_batches(
    planned: Iterable[tuple[Pending | None, frozenset[str]]],
    size: int,
    rejected: list[Rejection],
    before_decoding: Callable[[], object],
) -> Iterator[Batch]:
    """Decode what some model lacks into batches of ``size``; count what is already stored.

    The first batch holds only :data:`FIRST_BATCH_SIZE` images, so the model starts after a few
    are ready instead of idling while a whole batch decodes; by the time it is done, the
    next full batch is (bench/README.md, "Preparing ahead"). ``before_decoding`` runs
    before each decode (it loads the models once). A batch with nothing to embed is still
    handed on every ``size`` entries, so progress moves.
    """
    batch, wanted = Batch(), min(size, FIRST_BATCH_SIZE)
    refused: dict[str, str] = {}
    for pending, lacking in planned:
        batch.consumed += 1
        if pending is not None:
            _take(batch, pending, lacking, refused, rejected, before_decoding)
        if len(batch.items) >= wanted or (not batch.items and batch.consumed >= size):
            yield batch
            batch, wanted = Batch(), size
    if batch.consumed:
        yield batch


def _pixels(item: Item) -> Image.Image:
    if item.image is None:
        raise RuntimeError(f"Item {item.id} was prepared already.")
    return item.image


def prepared(
    batches: Iterable[Batch], keys: Sequence[str], load: Callable[[], Mapping[str, Embedder]]
) -> Iterator[Batch]:
    """Each batch with every model's inputs made from its images (resized, normalised
    pixels): CPU work the producer thread does while the models run the previous batch."""
    for batch in batches:
        for key in keys:
            todo = batch.lacking(key)
            if todo:
                model = load()[key]
                batch.inputs[key] = model.prepare_images([_pixels(item) for item in todo])
        for item in batch.items:
            item.image = None  # the inputs hold what the models need; free the decoded image
        yield batch
