"""The pure query arithmetic: fusion of text and image, negative prompts, validation."""

import numpy as np
import pytest

from mmdemo.errors import InputError
from mmdemo.search.query import Query, combine, normalise


def unit(*values: float) -> np.ndarray:
    v = np.array(values, dtype=np.float32)
    return v / np.linalg.norm(v)


T = unit(1, 0, 0)
I = unit(0, 1, 0)  # noqa: E741
N = unit(0, 0, 1)


def test_text_only_and_image_only_pass_through() -> None:
    assert np.allclose(combine(T, None), T)
    assert np.allclose(combine(None, I), I)


def test_weighted_sum_is_normalised() -> None:
    q = combine(T, I, weight=0.75)
    expected = np.array([0.75, 0.25, 0.0]) / np.linalg.norm([0.75, 0.25])
    assert np.allclose(q, expected)
    assert np.isclose(np.linalg.norm(q), 1.0)


@pytest.mark.parametrize(("weight", "expected"), [(1.0, T), (0.0, I)])
def test_weight_extremes_select_one_modality(weight: float, expected: np.ndarray) -> None:
    assert np.allclose(combine(T, I, weight=weight), expected)


def test_negative_is_subtracted_with_its_weight() -> None:
    q = combine(T, None, negative=unit(1, 0, 1), negative_weight=0.5)
    raw = T - 0.5 * unit(1, 0, 1)
    assert np.allclose(q, raw / np.linalg.norm(raw))
    assert q[2] < 0  # pushed away from the negative direction


def test_negative_that_cancels_the_query_is_an_error() -> None:
    with pytest.raises(InputError, match="cancels"):
        combine(T, None, negative=T, negative_weight=1.0)


def test_normalise_rejects_zero_vector() -> None:
    with pytest.raises(InputError):
        normalise(np.zeros(3))


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (Query(), "Empty query"),
        (Query(text="   "), "Empty query"),
        (Query(text="cat", weight=1.5), "weight must be between 0 and 1"),
        (Query(text="cat", negative="dog", negative_weight=-0.1), "negative weight"),
    ],
)
def test_invalid_queries_are_refused(query: Query, message: str) -> None:
    with pytest.raises(InputError, match=message):
        query.validate()


def test_valid_query_passes() -> None:
    Query(text="a cat", negative="dog").validate()
    Query(image="x.png", weight=0.0).validate()
