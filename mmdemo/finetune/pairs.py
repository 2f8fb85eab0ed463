"""Training pairs from a collection: each captioned item gives one (caption, image) pair.

Captions come from the items' stored metadata or from a captions CSV joined by file name.
The held-out split is chosen by a hash, so the same collection always splits the same way:
by caption (held-out concepts are unseen in training) or by image (concepts may repeat).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.ingest.captions import read_captions
from mmdemo.ingest.copies import image_path
from mmdemo.records import CAPTION_KEY
from mmdemo.store import Store

#: Fewest training pairs worth a run: MNRL needs in-batch negatives, and fewer pairs
#: than this over-fit in a handful of steps.
MIN_TRAIN_PAIRS = 8
SplitBy = Literal["caption", "image"]


@dataclass(frozen=True)
class Pair:
    """One training or evaluation example: an item's caption and its stored image."""

    item_id: str
    caption: str
    image: Path


def collection_pairs(
    store: Store, settings: Settings, collection: str, captions_csv: str | Path | None = None
) -> list[Pair]:
    """Every captioned item of ``collection`` as a pair, in id order.

    With ``captions_csv`` the CSV's captions (joined by file name) replace the stored ones.
    Raises :class:`InputError` when no item has a caption.
    """
    items = sorted(store.items(collection))
    if not items:
        raise InputError(f"Collection {collection!r} does not exist or is empty.")
    csv_captions = read_captions(captions_csv).by_name if captions_csv else {}
    pairs = []
    for item_id, metadata in items:
        caption = str(metadata.get(CAPTION_KEY, "") or "")
        if captions_csv:
            caption = str(csv_captions.get(str(metadata.get("file_name")), {}).get(CAPTION_KEY, ""))
        if caption.strip():
            pairs.append(Pair(item_id, caption.strip(), image_path(settings, metadata)))
    if not pairs:
        where = f"captions file {captions_csv}" if captions_csv else "its items"
        raise InputError(
            f"Collection {collection!r} has no captions in {where}: fine-tuning learns from "
            "(caption, image) pairs, so index it with --captions first."
        )
    return pairs


def _rank(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def split_pairs(
    pairs: Sequence[Pair], eval_share: float, by: SplitBy = "caption"
) -> tuple[list[Pair], list[Pair]]:
    """(train, held-out) pairs: ``eval_share`` of the distinct captions (or of the images),
    at least one, chosen in hash order so a collection always splits the same way.

    Raises :class:`InputError` when the share is outside (0, 1) or when fewer than
    :data:`MIN_TRAIN_PAIRS` pairs would be left to train on.
    """
    if not 0.0 < eval_share < 1.0:
        raise InputError(f"The evaluation split must be between 0 and 1, got {eval_share}.")

    def key(pair: Pair) -> str:
        return pair.caption.lower() if by == "caption" else pair.item_id

    keys = sorted({key(pair) for pair in pairs}, key=_rank)
    held_keys = set(keys[: max(1, round(eval_share * len(keys)))])
    train = [pair for pair in pairs if key(pair) not in held_keys]
    held = [pair for pair in pairs if key(pair) in held_keys]
    if len(train) < MIN_TRAIN_PAIRS:
        raise InputError(
            f"Only {len(train)} (caption, image) pairs are left for training out of "
            f"{len(pairs)}; fine-tuning needs at least {MIN_TRAIN_PAIRS}: caption more images."
        )
    return train, held


def write_queries(held_out: Sequence[Pair], path: Path) -> Path:
    """A queries CSV for :func:`mmdemo.evaluate.runner.evaluate`: one row per held-out caption.

    Its relevant items are the held-out items bearing that caption, so a by-image split
    scores finding the unseen images, not the training images of the same concept.
    """
    relevant: dict[str, list[str]] = {}
    for pair in held_out:
        relevant.setdefault(pair.caption, []).append(pair.item_id)
    rows = [{"query": q, "relevant": "|".join(ids)} for q, ids in relevant.items()]
    pd.DataFrame(rows, columns=["query", "relevant"]).to_csv(path, index=False)
    return path
