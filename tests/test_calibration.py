"""One score a viewer understands: ``match`` in [0, 1], calibrated per model and mode,
falling with the rank in every mode, one strength rule, and the reranker's move in words."""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from mmdemo.config import Settings
from mmdemo.search.calibration import (
    calibrated,
    is_calibrated,
    matches,
    mode_of,
    non_increasing,
)
from mmdemo.search.cutoff import CALIBRATION, FAIR_MATCH, STRONG_MATCH, strength
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.search.rows import kept_order_note, rerank_move
from mmdemo.store import Store

from helpers import COLOURS


def test_pooling_makes_any_sequence_non_increasing_and_keeps_its_mean() -> None:
    assert non_increasing([0.9, 0.5, 0.7, 0.2]) == pytest.approx([0.9, 0.6, 0.6, 0.2])
    assert non_increasing([0.9, 0.8, 0.1]) == [0.9, 0.8, 0.1]
    values = [random.Random(seed).random() for seed in range(40)]
    pooled = non_increasing(values)
    assert all(a >= b for a, b in itertools.pairwise(pooled))
    assert sum(pooled) == pytest.approx(sum(values))


def test_each_query_has_its_mode() -> None:
    assert mode_of(Query("a cat")) == "text"
    assert mode_of(Query(image="x.jpg")) == "image"
    assert mode_of(Query("a cat", image="x.jpg")) == "text+image"
    assert mode_of(Query("a cat", image="x.jpg", weight=0.0)) == "image"
    assert mode_of(Query("a cat", image="x.jpg", weight=1.0)) == "text"
    assert mode_of(Query("a cat", negative="a dog")) == "negative"


def test_match_rises_with_similarity_and_matched_words_and_allows_for_fused_captions() -> None:
    low, high = calibrated("lite", "text", 0.15), calibrated("lite", "text", 0.3)
    assert 0.0 < low < high < 1.0
    assert calibrated("lite", "text", 0.2, coverage=1.0) > calibrated("lite", "text", 0.2)
    # A fused image + caption score sits higher than an image score of the same strength.
    assert calibrated("lite", "text", 0.2, caption_weight=0.4) < calibrated("lite", "text", 0.2)
    # The same similarity means less from an image query, whose scores run higher.
    assert calibrated("lite", "image", 0.5) < calibrated("lite", "text", 0.5)


def test_models_not_measured_here_fall_back_and_say_so() -> None:
    assert is_calibrated("lite") and is_calibrated("lite-b2")
    assert not is_calibrated("clip-b32")
    assert 0.0 < calibrated("clip-b32", "text", 0.25) < 1.0
    assert set(CALIBRATION["lite"]) == {"text", "image", "text+image", "negative"}


def test_matches_fall_with_the_rank_even_when_the_order_is_not_the_similarity_order() -> None:
    reranked = [0.2, 0.35, 0.1, 0.3]  # a reranker put a lower similarity first
    found = matches("lite", Query("a cat"), reranked, [0.0] * 4, [0.0] * 4)
    assert found == sorted(found, reverse=True)
    assert all(0.0 <= m <= 1.0 for m in found)


def test_one_strength_rule_in_words() -> None:
    assert [strength(STRONG_MATCH), strength(FAIR_MATCH), strength(FAIR_MATCH - 0.01)] == [
        "strong",
        "fair",
        "weak",
    ]


def test_the_reranker_move_in_words_and_a_kept_order_in_one_sentence() -> None:
    assert [rerank_move(1, 4), rerank_move(5, 2), rerank_move(3, 3), rerank_move(2, None)] == [
        "moved up 3",
        "moved down 3",
        "kept its place",
        None,
    ]
    assert kept_order_note([1, 2, 3]) == (
        "The reranker agreed with the first ranking and kept every result in its place."
    )
    assert kept_order_note([2, 1, 3]) is None
    assert kept_order_note([]) is None


@pytest.mark.parametrize(
    "query",
    [
        {"text": "a plain red square"},
        {"image": "red.png"},
        {"text": "a plain square", "image": "blue.png", "weight": 0.5},
        {"text": "a plain square", "negative": "red"},
        {"text": "a plain square", "caption_weight": 0.0},
        {"text": "ann", "lexical_weight": 1.0},
    ],
)
@pytest.mark.parametrize("reranked", [False, True])
def test_every_mode_gives_a_match_that_falls_with_the_rank(
    query: dict[str, object],
    reranked: bool,
    settings: Settings,
    store: Store,
    indexed: str,
    photos: Path,
    tiny_reranker_dir: Path,
) -> None:
    if "image" in query:
        query = {**query, "image": photos / str(query["image"])}
    found = search(
        Query(**query),  # type: ignore[arg-type]
        collection="colours",
        model=indexed,
        settings=settings,
        store=store,
        reranker=str(tiny_reranker_dir) if reranked else None,
        top_k=len(COLOURS),
    )
    scores = [row["match"] for row in found.rows]
    assert len(scores) == len(COLOURS)
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= m <= 1.0 for m in scores)
    assert all(row["strength"] == strength(row["match"]) for row in found.rows)
    assert not found.calibrated  # a tiny random model: not measured here
    for row in found.rows:
        if reranked:
            assert row["rerank_move"] == rerank_move(row["rank"], row["rank_before_rerank"])
        else:
            assert row["rerank_move"] is None and row["rerank_score"] is None
    kept = [row["rank_before_rerank"] for row in found.rows]
    says_kept = any("kept every result in its place" in note for note in found.notes)
    assert says_kept == (reranked and kept == list(range(1, len(kept) + 1)))
