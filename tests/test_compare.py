"""Agreement measures behind the Compare tab: overlap@k and rank-biased overlap."""

import pytest

from mmdemo.evaluate.compare import kendall_tau_shared, overlap_at_k, rank_biased_overlap


def _naive_rbo_even(first: list[str], second: list[str], p: float) -> float:
    """RBO_ext for two lists of the same depth, straight from the definition."""
    depth = len(first)
    shared = [len(set(first[:d]) & set(second[:d])) for d in range(1, depth + 1)]
    body = sum(shared[d - 1] / d * p**d for d in range(1, depth + 1))
    return (1 - p) / p * body + shared[-1] / depth * p**depth


def test_overlap_counts_shared_items_in_the_top_k() -> None:
    assert overlap_at_k(["a", "b", "c", "d"], ["d", "c", "x", "a"], 4) == 0.75
    assert overlap_at_k(["a", "b", "c", "d"], ["d", "c", "x", "a"], 2) == 0.0
    assert overlap_at_k(["a", "b"], ["b", "a"], 2) == 1.0


def test_overlap_divides_by_k_even_when_lists_are_shorter() -> None:
    assert overlap_at_k(["a"], ["a"], 4) == 0.25


def test_overlap_rejects_a_k_below_one() -> None:
    with pytest.raises(ValueError):
        overlap_at_k(["a"], ["a"], 0)


def test_rbo_is_one_for_identical_lists_and_zero_for_disjoint_ones() -> None:
    items = [str(i) for i in range(10)]
    assert rank_biased_overlap(items, items) == pytest.approx(1.0)
    assert rank_biased_overlap(items, [f"x{i}" for i in range(10)]) == 0.0


def test_rbo_weights_the_top_of_the_ranking_most() -> None:
    base = ["a", "b", "c", "d", "e", "f"]
    swapped_top = ["b", "a", "c", "d", "e", "f"]
    swapped_bottom = ["a", "b", "c", "d", "f", "e"]
    top = rank_biased_overlap(base, swapped_top)
    bottom = rank_biased_overlap(base, swapped_bottom)
    assert 0.0 < top < bottom < 1.0


def test_rbo_is_symmetric_and_matches_the_definition() -> None:
    first = ["a", "b", "c", "d", "e"]
    second = ["c", "a", "x", "e", "y"]
    value = rank_biased_overlap(first, second, p=0.8)
    assert value == pytest.approx(rank_biased_overlap(second, first, p=0.8))
    assert value == pytest.approx(_naive_rbo_even(first, second, 0.8))


def test_rbo_of_a_prefix_extrapolates_to_full_agreement() -> None:
    assert rank_biased_overlap(["a", "b"], ["a", "b", "c", "d"]) == pytest.approx(1.0)


def test_rbo_of_uneven_lists_matches_a_hand_computed_value() -> None:
    # s = 1, l = 2, X_1 = 0, X_2 = 1 (the short list's item is second in the long one),
    # so X_s = 0 and the extrapolation term vanishes: RBO = (1-p)/p * p^2/2 + p^2/2 = p/2.
    p = 0.5
    expected = (1 - p) / p * (0 * p + 1 / 2 * p**2) + ((1 - 0) / 2 + 0 / 1) * p**2
    assert expected == pytest.approx(p / 2)
    assert rank_biased_overlap(["b"], ["a", "b"], p=p) == pytest.approx(expected)


def test_rbo_of_empty_lists() -> None:
    assert rank_biased_overlap([], []) == 1.0
    assert rank_biased_overlap([], ["a"]) == 0.0


def test_rbo_rejects_p_outside_the_open_unit_interval() -> None:
    with pytest.raises(ValueError):
        rank_biased_overlap(["a"], ["a"], p=1.0)


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (["a", "b", "c"], ["a", "b", "c"], 1.0),
        (["a", "b", "c"], ["c", "b", "a"], -1.0),
        (["a", "b", "c"], ["a", "c", "b"], 1 / 3),  # pairs ab, ac agree; bc flips
        (["a", "x", "b", "y"], ["b", "z", "a"], -1.0),  # only a and b shared, swapped
    ],
)
def test_kendall_tau_on_shared_items(first: list[str], second: list[str], expected: float) -> None:
    assert kendall_tau_shared(first, second) == pytest.approx(expected)


def test_kendall_tau_needs_two_shared_items() -> None:
    assert kendall_tau_shared(["a", "b"], ["a", "c"]) is None
    assert kendall_tau_shared([], []) is None
