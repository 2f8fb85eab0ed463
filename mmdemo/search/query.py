"""What a user asks for, and the pure arithmetic that turns it into one query vector.

Kept free of models and storage so the fusion rules are trivial to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from mmdemo.errors import InputError
from mmdemo.filters import Condition, ItemFilter, check_size
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT

ImageInput = Image.Image | str | Path


@dataclass(frozen=True)
class Query:
    """A search request.

    ``weight`` balances text against image when both are given: 1 means text only,
    0 image only. ``negative`` is a text whose embedding is subtracted with
    ``negative_weight``. ``caption_contains`` keeps only items whose caption contains it,
    ``where`` only those whose metadata meet every condition (:func:`mmdemo.filters.
    parse_where`). ``caption_weight`` is the caption score's share in hybrid retrieval
    (0: images only; :mod:`mmdemo.search.hybrid`). ``lexical_weight`` is the share of the
    query's words matched against item text (0: off; 1: items matching the words first;
    :mod:`mmdemo.search.lexical`); words in quotes must match.
    """

    text: str | None = None
    image: ImageInput | None = None
    weight: float = 0.5
    negative: str | None = None
    negative_weight: float = 0.5
    caption_contains: str | None = None
    where: tuple[Condition, ...] = ()
    caption_weight: float = CAPTION_WEIGHT
    lexical_weight: float = LEXICAL_WEIGHT

    @property
    def item_filter(self) -> ItemFilter:
        """The items this query may return: caption keyword and metadata conditions."""
        return ItemFilter(self.caption_contains or "", self.where)

    @property
    def has_text(self) -> bool:
        """Whether a non-blank text query was given."""
        return bool(self.text and self.text.strip())

    @property
    def has_image(self) -> bool:
        """Whether a query image was given."""
        return self.image is not None

    @property
    def text_counts(self) -> bool:
        """Whether text shapes the query vector: given, and not weighted out by an image."""
        return self.has_text and (not self.has_image or self.weight > 0)

    @property
    def has_negative(self) -> bool:
        """Whether a non-blank negative prompt was given."""
        return bool(self.negative and self.negative.strip())

    def validate(self) -> None:
        """Raise :class:`InputError` when the query cannot be run as given."""
        if not (self.has_text or self.has_image):
            raise InputError("Empty query: type some text or give an example image.")
        for name, value in (
            ("weight", self.weight),
            ("negative weight", self.negative_weight),
            ("caption weight", self.caption_weight),
            ("lexical weight", self.lexical_weight),
        ):
            if not 0.0 <= value <= 1.0:
                raise InputError(f"The {name} must be between 0 and 1, got {value}.")
        check_size(self.where, (self.caption_contains or "").strip())


def normalise(vector: np.ndarray) -> np.ndarray:
    """Scale a vector to unit length; a zero vector means the query cancelled itself out."""
    norm = float(np.linalg.norm(vector))
    if norm < 1e-8:
        raise InputError("The query cancels itself out: lower the negative weight.")
    return (vector / norm).astype(np.float32)


def blend(text: np.ndarray | None, image: np.ndarray | None, weight: float) -> np.ndarray:
    """``weight * text + (1 - weight) * image`` when both are given, else the one given.

    The one rule for weighing a query's text against its image, for query vectors and
    reranker scores alike.
    """
    if text is not None and image is not None:
        return weight * text + (1.0 - weight) * image
    if text is not None:
        return text
    if image is not None:
        return image
    raise InputError("Empty query: type some text or give an example image.")


def combine(
    text: np.ndarray | None,
    image: np.ndarray | None,
    weight: float = 0.5,
    negative: np.ndarray | None = None,
    negative_weight: float = 0.5,
) -> np.ndarray:
    """Fuse unit query vectors into one unit vector.

    ``normalise(weight * text + (1 - weight) * image)`` when both are given, else the one
    given; then ``normalise(q - negative_weight * negative)`` when a negative is given.
    """
    query = normalise(blend(text, image, weight))
    if negative is not None:
        query = normalise(query - negative_weight * negative)
    return query
