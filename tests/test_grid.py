"""The results grid: badges, movement arrows, escaping, weak matches, and the cutoff."""

from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.present.grid import movement, render_message, render_results
from mmdemo.search.cutoff import TEXT_THRESHOLDS, judge, strong, threshold
from mmdemo.search.engine import SearchResults
from mmdemo.search.query import Query
from mmdemo.ui.search_view import results_html

PLANTED = '<img src=x onerror="alert(1)">'


def _row(rank: int, score: float, **extra: Any) -> dict[str, Any]:
    row = {
        "rank": rank,
        "id": f"id{rank}",
        "file_name": f"f{rank}.jpg",
        "path": f"/data/images/f{rank}.jpg",
        "caption": f"caption {rank}",
        "score": score,
        "rerank_score": None,
        "rank_before_rerank": None,
    }
    return row | extra


def _render(rows: list[dict[str, Any]], flags: list[bool], **kwargs: Any) -> str:
    options = {"reranked": False, "cut": None} | kwargs
    return render_results(rows, flags, lambda row: f"/thumbs/{row['id']}.jpg", **options)


def test_movement_arrows() -> None:
    assert [movement(1, 4), movement(5, 2), movement(3, 3), movement(2, None)] == [
        "▲3",
        "▼3",
        "=",
        "",
    ]


def test_planted_markup_in_captions_and_names_is_escaped() -> None:
    page = _render([_row(1, 0.5, caption=PLANTED, file_name=PLANTED, source=PLANTED)], [True])
    assert PLANTED not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_cards_have_alt_text_with_file_name_and_caption_and_a_badge_not_a_caption() -> None:
    page = _render([_row(1, 0.5)], [True])
    assert 'alt="#1 f1.jpg: caption 1"' in page
    assert '<span class="mm-badge">#1 · 0.500</span>' in page


def test_reranked_cards_show_movement_and_the_reranker_legend() -> None:
    rows = [_row(1, 0.2, rerank_score=2.5, rank_before_rerank=3)]
    page = _render(rows, [True], reranked=True)
    assert "#1 · 2.500 · ▲2" in page
    assert "the reranker&#x27;s judgement fused with the similarity" in page
    assert "was #" not in page


def test_the_legend_says_when_captions_counted_in_the_scores() -> None:
    hybrid = _render([_row(1, 0.5)], [True], caption_weight=0.4)
    assert "with its caption, the caption counting 0.40" in hybrid
    assert "between query and image (higher" not in hybrid
    plain = _render([_row(1, 0.5)], [True])
    assert "cosine similarity between query and image" in plain
    assert "caption counting" not in plain


def test_weak_matches_sit_behind_a_toggle_after_the_strong_ones() -> None:
    page = _render([_row(1, 0.5), _row(2, 0.1), _row(3, 0.05)], [True, False, False], cut=0.2)
    assert page.index("f1.jpg") < page.index("Show 2 weaker matches") < page.index("f2.jpg")
    assert page.count("mm-weak") == 3  # two cards and the toggle's own class
    assert "No strong matches" not in page


def test_a_weak_card_reranked_above_a_strong_one_stays_in_rank_order() -> None:
    page = _render([_row(1, 0.1), _row(2, 0.5), _row(3, 0.1)], [False, True, False], cut=0.2)
    assert page.index("f1.jpg") < page.index("f2.jpg") < page.index("Show 1 weaker matches")
    assert page.index("Show 1 weaker matches") < page.index("f3.jpg")


def test_no_strong_match_says_so_and_names_the_closest() -> None:
    page = _render([_row(1, 0.1), _row(2, 0.05)], [False, False], cut=0.2)
    assert "No strong matches: the closest are f1.jpg, f2.jpg." in page
    assert "weaker matches" not in page  # nothing to hide them behind: shown greyed


def test_message_panels_escape_their_text() -> None:
    assert PLANTED not in render_message("0 results.", PLANTED, "empty")


def test_cutoff_applies_to_plain_text_queries_of_measured_models_only() -> None:
    text = Query("a cat")
    assert threshold("lite", text) == TEXT_THRESHOLDS["lite"]
    assert threshold("clip-b32", text) is None  # not measured here
    assert threshold("lite", Query("a cat", negative="dog")) is None
    assert threshold("lite", Query(None, image="x.jpg")) is None
    assert strong([0.5, 0.1], [0.2, 0.2]) == [True, False]
    assert strong([0.5, 0.1], [None, None]) == [True, True]


def test_cutoff_judges_each_score_on_the_scale_it_was_fused_on() -> None:
    text = Query("a cat")
    image_cut = threshold("lite", text)
    fused_cut = threshold("lite", text, caption_weight=0.4)
    assert image_cut is not None and fused_cut is not None
    assert threshold("lite", text, caption_weight=0.0) == image_cut
    assert fused_cut > image_cut  # fused scores sit higher (bench/cutoff_hybrid.py)
    between = (image_cut + fused_cut) / 2
    rows = [
        _row(1, fused_cut + 0.01),  # captioned, fused score above the fused cut
        _row(2, between),  # captioned: its fused score must meet the fused cut
        _row(3, between, caption=""),  # no caption: its score is its image score
    ]
    flags, quoted = judge("lite", text, 0.4, rows)
    assert flags == [True, False, True]
    assert quoted == fused_cut
    # The search ranked by image alone: every score is an image score.
    assert judge("lite", text, 0.0, rows) == ([True, True, True], image_cut)
    assert judge("lite", text, 0.4, rows[2:]) == ([True], image_cut)


def test_results_panel_judges_scores_by_the_caption_weight_the_search_used(
    tmp_path: Path,
) -> None:
    text = Query("a cat", caption_weight=0.4)
    image_cut, fused_cut = threshold("lite", text), threshold("lite", text, 0.4)
    assert image_cut is not None and fused_cut is not None
    rows = [_row(1, fused_cut + 0.01), _row(2, (image_cut + fused_cut) / 2)]
    settings = Settings.from_env(data_dir=tmp_path)

    def weak_cards(weight: float) -> int:
        results = SearchResults(rows, {}, "lite", None, [], weight)
        return results_html(results, text, settings).count('class="mm-card mm-weak"')

    assert weak_cards(0.4) == 1  # the scores were fused: the fused threshold applies
    assert weak_cards(0.0) == 0  # captions did not count (e.g. read-only): image threshold


def test_model_choices_mark_indexed_and_unavailable_models_by_full_name() -> None:
    from mmdemo.ui.shared import embedder_choices

    labels = {key: label for label, key in embedder_choices(["/my/model"], {"lite"}, {"clip-b32"})}
    assert labels["lite"].startswith("Offline lite (MiniLM + EfficientNet-Lite0) · lite")
    assert labels["lite"].endswith("✓ indexed")
    assert labels["clip-b32"] == "CLIP ViT-B/32 · clip-b32 (unavailable here: needs the Hub)"
    assert labels["/my/model"] == "/my/model"


def test_hub_presets_are_unavailable_without_the_hub_unless_cached(
    tmp_path: Any, monkeypatch: Any
) -> None:
    from mmdemo.models.loading import unavailable_presets
    from mmdemo.models.registry import presets

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    hub = {p.key for p in presets() if not p.offline}
    assert set(unavailable_presets(hub_ok=False)) == hub
    assert unavailable_presets(hub_ok=True) == ()
