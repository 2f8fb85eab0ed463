"""The results grid: match bars and words, reranker moves, matched words, escaping, and
weak matches folded by one rule in every mode."""

from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.present.grid import render_message, render_results
from mmdemo.search.cutoff import FAIR_MATCH, STRONG_MATCH, strength
from mmdemo.search.engine import SearchResults
from mmdemo.search.query import Query
from mmdemo.ui.search_view import results_html

PLANTED = '<img src=x onerror="alert(1)">'


def _row(rank: int, match: float, **extra: Any) -> dict[str, Any]:
    row = {
        "rank": rank,
        "id": f"id{rank}",
        "file_name": f"f{rank}.jpg",
        "path": f"/data/images/f{rank}.jpg",
        "caption": f"caption {rank}",
        "match": match,
        "strength": strength(match),
        "similarity": 0.25,
        "rerank_score": None,
        "rank_before_rerank": None,
        "rerank_move": None,
        "matched": [],
    }
    return row | extra


def _render(rows: list[dict[str, Any]], **kwargs: Any) -> str:
    options = {"reranked": False} | kwargs
    return render_results(
        rows, lambda row: (f"/thumbs/{row['id']}.jpg", "/images/x.png"), **options
    )


def test_planted_markup_in_captions_names_and_words_is_escaped() -> None:
    row = _row(1, 0.9, caption=PLANTED, file_name=PLANTED, source=PLANTED, matched=[PLANTED])
    page = _render([row])
    assert PLANTED not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


def test_a_card_shows_its_match_as_a_bar_and_a_word_never_a_raw_score() -> None:
    page = _render([_row(1, 0.72)])
    assert 'alt="#1 f1.jpg: caption 1"' in page
    assert '<meter min="0" max="1" value="0.720">72%</meter> ' in page
    assert '<span class="mm-label">#1 · 72% strong</span>' in page
    assert "0.250" not in page.split('class="mm-detail"')[0]  # the similarity: details only
    assert "<dt>similarity</dt><dd>0.2500</dd>" in page


def test_one_legend_sentence_names_the_scale_and_its_cuts() -> None:
    page = _render([_row(1, 0.9)])
    legend = page.split('<p class="mm-legend">')[1].split("</p>")[0]
    assert legend.count(".") == 1 and legend.endswith(".")
    assert f"strong from {STRONG_MATCH:.0%}, fair from {FAIR_MATCH:.0%}" in legend
    assert "not calibrated" in _render([_row(1, 0.9)], calibrated=False)


def test_reranked_cards_say_in_words_what_the_reranker_did() -> None:
    rows = [
        _row(1, 0.9, rerank_score=2.5, rank_before_rerank=4, rerank_move="moved up 3"),
        _row(2, 0.8, rerank_score=1.0, rank_before_rerank=2, rerank_move="kept its place"),
    ]
    page = _render(rows, reranked=True)
    assert '<span class="mm-line">moved up 3</span>' in page
    assert '<span class="mm-line">kept its place</span>' in page
    assert "how the reranker moved it" in page
    assert "▲" not in page and "shrinks" not in page


def test_cards_say_which_query_words_the_item_text_matched() -> None:
    page = _render([_row(1, 0.9, matched=["red", "shoe"]), _row(2, 0.5)])
    assert page.count("matched: ") == 1
    assert '<span class="mm-line">matched: red, shoe</span>' in page


def test_weak_matches_sit_behind_a_toggle_after_the_others() -> None:
    page = _render([_row(1, 0.9), _row(2, 0.4), _row(3, 0.1), _row(4, 0.05)])
    assert page.index("f2.jpg") < page.index("Show 2 weaker matches") < page.index("f3.jpg")
    assert page.count("mm-weak") == 3  # two cards and the toggle's own class
    assert "No strong matches" not in page


def test_no_strong_match_says_so_and_names_the_closest() -> None:
    page = _render([_row(1, 0.4), _row(2, 0.1)])
    assert "No strong matches: the closest are f1.jpg, f2.jpg." in page
    assert "Show 1 weaker matches" in page  # the fair one is shown, the weak one folded
    all_weak = _render([_row(1, 0.1), _row(2, 0.05)])
    assert "weaker matches" not in all_weak  # nothing to hide them behind: shown greyed


def test_message_panels_escape_their_text() -> None:
    assert PLANTED not in render_message("0 results.", PLANTED, "empty")


def test_the_same_cut_folds_weak_matches_in_every_mode(tmp_path: Path) -> None:
    settings = Settings.from_env(data_dir=tmp_path)
    rows = [_row(1, 0.9), _row(2, 0.1)]
    for query in (Query("a cat"), Query(image="x.jpg"), Query("a cat", image="x.jpg")):
        results = SearchResults(rows, {}, "lite", None, [], 0.0)
        assert results_html(results, query, settings).count('class="mm-card mm-weak"') == 1


def test_model_choices_mark_indexed_and_unavailable_models_by_full_name() -> None:
    from mmdemo.ui.shared import embedder_choices

    extra = ["/srv/data/finetuned/demo-tuned", "someone/model"]
    labels = {key: label for label, key in embedder_choices(extra, {"lite"}, {"clip-b32"})}
    assert labels["lite"].startswith("Offline lite (MiniLM + EfficientNet-Lite0) · lite")
    assert labels["lite"].endswith("✓ indexed")
    assert labels["clip-b32"] == "CLIP ViT-B/32 · clip-b32 (unavailable here: needs the Hub)"
    # A model folder is named by its name, never by its server path; a Hub id as it is.
    assert labels["/srv/data/finetuned/demo-tuned"] == "demo-tuned"
    assert labels["someone/model"] == "someone/model"


def test_hub_presets_are_unavailable_without_the_hub_unless_cached(
    tmp_path: Any, monkeypatch: Any
) -> None:
    from mmdemo.models.loading import unavailable_presets
    from mmdemo.models.registry import presets

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    hub = {p.key for p in presets() if not p.offline}
    assert set(unavailable_presets(hub_ok=False)) == hub
    assert unavailable_presets(hub_ok=True) == ()


def test_the_detail_panel_lists_camera_dicom_and_ocr_fields_escaped_in_order() -> None:
    own = {
        "taken": "2021-06-14T09:30:05",
        "camera": "Apple iPhone 13 mini",
        "lens": "5.1mm f/1.6",
        "lat": 0.0,  # on the equator: a real value, shown
        "lon": 2.2945,
        "modality": "CT",
        "body_part": "CHEST",
        "study_description": "CT chest",
        "series_description": "axial",
        "study_date": "2004-01-19",
        "manufacturer": "GE MEDICAL SYSTEMS",
        "ocr_text": f"ZEBRAFISH {PLANTED}",
    }
    page = _render([_row(1, 0.5, **own)])
    detail = page.split('class="mm-detail"', 1)[1]
    labels = [
        "file", "caption", "taken", "camera", "lens", "latitude", "longitude", "modality",
        "body part", "study", "series", "study date", "manufacturer", "text in the image",
    ]  # fmt: skip
    shown = [detail.index(f"<dt>{label}</dt>") for label in labels]
    assert shown == sorted(shown)
    assert "<dt>latitude</dt><dd>0.0</dd>" in detail
    assert "<dd>ZEBRAFISH &lt;img src=x onerror=&quot;alert(1)&quot;&gt;</dd>" in detail
    assert PLANTED not in page
    plain = _render([_row(1, 0.5)])
    assert "<dt>camera</dt>" not in plain and "text in the image" not in plain


def test_the_detail_panel_names_no_id_and_no_server_path() -> None:
    item = "ab" * 32  # a content hash, as the store keys an item
    page = _render([_row(1, 0.5, id=item, source="shop")])
    detail = page.split('class="mm-detail"', 1)[1]
    assert "<dt>id</dt>" not in detail and f">{item}<" not in detail
    assert "/data/images" not in page
    assert "<dt>source</dt><dd>shop</dd>" in detail  # other metadata still listed
