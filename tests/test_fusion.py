"""The pure arithmetic that weights reranker part scores and fuses them with cosine scores."""

from __future__ import annotations

import numpy as np
import pytest

from mmdemo.errors import InputError
from mmdemo.search.fusion import (
    CONFIDENT_MARGIN,
    DECISIVE_MARGIN,
    RERANK_SHARE,
    adaptive_share,
    fuse,
    standardise,
    top_margin,
    weighted_parts,
)


def test_weighted_parts_follows_the_slider_and_subtracts_the_negative() -> None:
    text = np.array([1.0, 0.0])
    image = np.array([0.0, 1.0])
    assert weighted_parts(text, image, 1.0).tolist() == [1.0, 0.0]
    assert weighted_parts(text, image, 0.0).tolist() == [0.0, 1.0]
    assert weighted_parts(text, image, 0.25).tolist() == [0.25, 0.75]
    negative = np.array([2.0, 0.0])
    assert weighted_parts(text, None, 0.3, negative, 0.5).tolist() == [0.0, 0.0]
    assert weighted_parts(None, image, 0.3, negative, 0.25).tolist() == [-0.5, 1.0]


def test_weighted_parts_needs_a_positive_part() -> None:
    with pytest.raises(InputError, match="Empty query"):
        weighted_parts(None, None, 0.5, np.array([1.0]))


def test_standardise_is_zero_mean_unit_spread_and_safe_on_ties() -> None:
    z = standardise(np.array([1.0, 2.0, 3.0, 6.0]))
    assert z.mean() == pytest.approx(0.0)
    assert z.std() == pytest.approx(1.0)
    assert np.all(np.diff(z) > 0)
    assert standardise(np.array([0.4, 0.4, 0.4])).tolist() == [0.0, 0.0, 0.0]
    assert standardise(np.array([])).size == 0


def test_fuse_blends_the_two_orders_by_share() -> None:
    first = np.array([0.9, 0.8, 0.1])
    rerank = np.array([-5.0, 5.0, 0.0])
    assert np.argmax(fuse(first, rerank, 0.0)) == 0
    assert np.argmax(fuse(first, rerank, 1.0)) == 1
    # Scale-free: multiplying either list by a positive constant changes nothing.
    assert np.allclose(fuse(first, rerank, 0.5), fuse(first * 10, rerank / 3, 0.5))
    blended = fuse(first, rerank, 0.5)
    assert blended[1] > blended[2] and blended[0] > blended[2]


def test_fuse_rejects_a_share_outside_0_1() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        fuse(np.zeros(2), np.zeros(2), 1.5)


def test_top_margin_is_the_gap_of_the_top_two_in_standard_deviations() -> None:
    scores = np.array([0.2, 0.9, 0.5, 0.4])
    z = standardise(scores)
    assert top_margin(scores) == pytest.approx(z[1] - z[2])
    # Scale-free: the same order and spacing on another embedder's scale, the same margin.
    assert top_margin(scores * 0.1 + 0.3) == pytest.approx(top_margin(scores))
    assert top_margin(np.array([0.7])) == 0.0
    assert top_margin(np.array([0.5, 0.5, 0.1])) == 0.0


def test_adaptive_share_shrinks_linearly_to_zero_at_a_confident_margin() -> None:
    tied = np.array([0.8, 0.8, 0.1, 0.0])
    assert adaptive_share(tied) == pytest.approx(RERANK_SHARE)
    clear = np.array([0.9, 0.2, 0.1, 0.0])
    assert top_margin(clear) > CONFIDENT_MARGIN
    assert adaptive_share(clear) == 0.0
    gap = np.array([1.0, 0.0, 0.0, -1.0])
    margin = top_margin(gap)
    assert adaptive_share(gap, share=0.4, confident=2 * margin) == pytest.approx(0.2)
    assert adaptive_share(gap, share=0.4, confident=4 * margin) == pytest.approx(0.3)


def test_an_unsure_reranker_has_no_say_and_a_decisive_one_keeps_its_share() -> None:
    tied = np.array([0.8, 0.8, 0.1, 0.0])
    unsure = np.array([0.50, 0.49, 0.48, 0.0])
    assert top_margin(unsure) < DECISIVE_MARGIN
    assert adaptive_share(tied, unsure) == 0.0
    assert np.allclose(fuse(tied, unsure), standardise(tied))
    decisive = np.array([0.0, 0.9, 0.1, 0.0])
    assert top_margin(decisive) >= DECISIVE_MARGIN
    assert adaptive_share(tied, decisive) == pytest.approx(RERANK_SHARE)
    assert np.argmax(fuse(tied, decisive)) == 1


def test_fuse_by_default_keeps_a_confident_first_stage_and_reranks_a_close_one() -> None:
    rerank = np.array([-5.0, 5.0, 0.0, 0.0])
    confident = np.array([0.9, 0.2, 0.1, 0.0])
    assert np.argmax(fuse(confident, rerank)) == 0
    assert np.allclose(fuse(confident, rerank), standardise(confident))
    close = np.array([0.51, 0.5, 0.1, 0.0])
    assert np.argmax(fuse(close, rerank)) == 1
    share = adaptive_share(close, rerank)
    assert 0.0 < share < RERANK_SHARE
    assert np.allclose(fuse(close, rerank), fuse(close, rerank, share))
