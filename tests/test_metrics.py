"""Retrieval metrics against hand-computed cases."""

import math

import pytest

from mmdemo.evaluate.metrics import ndcg_at_k, recall_at_k, reciprocal_rank, summarise

RANKED = ["a", "b", "c", "d", "e"]


def test_recall_counts_the_share_of_relevant_items_in_the_top_k() -> None:
    assert recall_at_k(RANKED, {"b", "e"}, 1) == 0.0
    assert recall_at_k(RANKED, {"b", "e"}, 2) == 0.5
    assert recall_at_k(RANKED, {"b", "e"}, 5) == 1.0
    assert recall_at_k(RANKED, {"b", "z"}, 5) == 0.5


def test_recall_counts_a_repeated_id_once() -> None:
    assert recall_at_k(["a", "a", "b"], {"a", "c"}, 2) == 0.5


def test_reciprocal_rank_is_one_over_the_first_hit() -> None:
    assert reciprocal_rank(RANKED, {"c", "e"}) == pytest.approx(1 / 3)
    assert reciprocal_rank(RANKED, {"a"}) == 1.0
    assert reciprocal_rank(RANKED, {"z"}) == 0.0


def test_ndcg_with_binary_relevance_and_log2_discount() -> None:
    # hits at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1/log2(2) + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert ndcg_at_k(RANKED, {"b", "d"}, 5) == pytest.approx(expected)
    assert ndcg_at_k(RANKED, {"a", "b"}, 5) == pytest.approx(1.0)


def test_ndcg_ideal_is_capped_at_k() -> None:
    # three relevant, k=2, both top-2 relevant: perfect
    assert ndcg_at_k(RANKED, {"a", "b", "c"}, 2) == pytest.approx(1.0)
    # one hit at rank 2 of k=2 with three relevant: (1/log2 3) / (1 + 1/log2 3)
    assert ndcg_at_k(RANKED, {"b", "x", "y"}, 2) == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    )


def test_ndcg_ignores_hits_below_k_and_empty_relevance() -> None:
    assert ndcg_at_k(RANKED, {"e"}, 4) == 0.0
    assert ndcg_at_k(RANKED, set(), 4) == 0.0


def test_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="k must be"):
        recall_at_k(RANKED, {"a"}, 0)
    with pytest.raises(ValueError, match="k must be"):
        ndcg_at_k(RANKED, {"a"}, 0)


def test_summarise_means_each_metric() -> None:
    rows = [{"R@1": 1.0, "MRR": 1.0}, {"R@1": 0.0, "MRR": 0.5}, {"R@1": 0.0}]
    assert summarise(rows) == {"R@1": pytest.approx(1 / 3), "MRR": pytest.approx(0.75)}
    assert summarise([]) == {}
