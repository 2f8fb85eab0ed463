"""Text that matches exactly: words and phrases, item text, the BM25 index, score fusion,
and lexical + dense search end to end (library and CLI) on the offline lite model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.filters import parse_where
from mmdemo.ingest.indexer import index_paths
from mmdemo.search.engine import search
from mmdemo.search.lexical_fusion import fuse_scores
from mmdemo.search.query import Query
from mmdemo.store import Store
from mmdemo.text.documents import item_text
from mmdemo.text.index import LexicalIndex
from mmdemo.text.words import contains_phrase, parse_query, stems

from helpers import write_images
from imagefactory import pdf_bytes, write

PRODUCTS = {
    "p1.png": ((200, 30, 30), "Red mug from Kettle & Kiln, glazed stoneware", "Kettle & Kiln"),
    "p2.png": ((210, 40, 40), "Red shoe from Strideline, leather sole", "Strideline"),
    "p3.png": ((30, 40, 200), "Blue shoe from Strideline, canvas", "Strideline"),
    "p4.png": ((240, 240, 240), "White mug from Kettle & Kiln", "Kettle & Kiln"),
    "p5.png": ((30, 180, 40), "Green sun hat from Brimworth", "Brimworth"),
    "p6.png": ((220, 200, 30), "Yellow umbrella from Lumen Optics", "Lumen Optics"),
}
CHART_PAGES = [
    "Revenue by region: bar chart",
    "Monthly revenue: line chart",
    "Sales by product category: pie chart",
]


def test_query_terms_drop_stop_words_and_stem_and_quotes_keep_every_word() -> None:
    query = parse_query('a pair of "Red Shoes" for the North Face')
    assert [(t.word, t.stem) for t in query.terms] == [
        ("pair", "pair"),
        ("red", "red"),
        ("shoes", "shoe"),
        ("north", "north"),
        ("face", "face"),
    ]
    assert query.phrases == (("red", "shoe"),)
    assert parse_query("“the north face”").phrases == (("the", "north", "face"),)
    assert parse_query("a the of").terms == ()


def test_a_phrase_matches_its_words_in_order_only() -> None:
    sequence = stems("The red shoe, leather sole")
    assert contains_phrase(sequence, ("red", "shoe"))
    assert not contains_phrase(sequence, ("shoe", "red"))
    assert not contains_phrase(sequence, ("red", "sole"))


def test_item_text_is_caption_metadata_and_ocr_with_the_file_name_only_beside_them() -> None:
    meta = {
        "file_name": "red_shoe-01.jpg",
        "caption": "A red shoe",
        "brand": "Strideline",
        "ocr_text": "SALE 50%",
        "price": 9.5,
        "origin": "/srv/uploads/red_shoe-01.jpg",
        "added_at": "2026-01-01T00:00:00",
        "taken": "2021-06-01T12:00:00",
        "image_file": "abc.jpg",
        "mmdemo_internal": "x",
    }
    text = item_text(meta)
    assert text.splitlines() == ["A red shoe", "Strideline", "SALE 50%", "red_shoe-01"]
    assert item_text({"file_name": "IMG_2041.jpg", "caption": "", "width": 4}) == ""


def test_the_index_ranks_by_bm25_leaves_out_items_without_text_and_says_what_matched() -> None:
    index = LexicalIndex.build(
        [
            ("a", {"caption": "red mug", "file_name": "a.jpg"}),
            ("b", {"caption": "red shoe with red laces", "file_name": "b.jpg"}),
            ("c", {"caption": "", "file_name": "red-shoe.jpg"}),
            ("d", {"caption": "blue shoe", "file_name": "d.jpg"}),
        ]
    )
    assert index.ids == ["a", "b", "d"]
    found = index.search(parse_query("red shoes"), 10)
    assert found.hits[0].id == "b"
    assert {hit.id for hit in found.hits} == {"a", "b", "d"}
    best = found.hits[0]
    assert (best.matched, best.coverage) == (("red", "shoes"), 1.0)
    assert found.required is None
    quoted = index.search(parse_query('"red shoe"'), 10)
    assert quoted.required == frozenset({"b"})
    assert index.search(parse_query("zebra"), 10).empty


def test_score_fusion_spans_dense_only_to_words_first() -> None:
    dense = {"a": 0.30, "b": 0.20, "c": 0.25}
    bm25 = {"b": 4.0, "c": 1.0}
    assert fuse_scores(dense, bm25, 0.0) == ["a", "c", "b"]
    assert fuse_scores(dense, bm25, 1.0) == ["b", "c", "a"]
    assert fuse_scores(dense, {}, 0.7) == ["a", "c", "b"]  # no words matched: dense order
    with pytest.raises(InputError, match="lexical weight must be between 0 and 1"):
        fuse_scores(dense, bm25, 1.5)
    with pytest.raises(InputError, match="lexical weight"):
        Query(text="x", lexical_weight=-0.1).validate()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A small shop (captioned, with a brand column), three chart pages of a PDF and a folder
    of uncaptioned photos, indexed with the offline lite model."""
    root = tmp_path_factory.mktemp("lexical")
    settings = Settings(data_dir=root / "data", device="cpu")
    store = Store(settings)
    shop = write_images(root / "shop", {name: colour for name, (colour, _, _) in PRODUCTS.items()})
    pd.DataFrame(
        {
            "file_name": list(PRODUCTS),
            "caption": [caption for _, caption, _ in PRODUCTS.values()],
            "brand": [brand for _, _, brand in PRODUCTS.values()],
        }
    ).to_csv(root / "shop.csv", index=False)
    common = {"models": ["lite"], "settings": settings, "store": store}
    index_paths([shop], collection="shop", captions=str(root / "shop.csv"), **common)
    write(root / "docs" / "report.pdf", pdf_bytes(CHART_PAGES))
    index_paths([root / "docs"], collection="docs", **common)
    photos = write_images(root / "photos", {name: c for name, (c, _, _) in PRODUCTS.items()})
    index_paths([photos], collection="photos", **common)
    return {"settings": settings, "store": store, "data": str(root / "data")}


def _search(demo: dict[str, Any], collection: str, **query: Any) -> list[dict[str, Any]]:
    found = search(
        Query(**query), collection=collection, model="lite", settings=demo["settings"],
        store=demo["store"], top_k=6,
    )  # fmt: skip
    return found.rows


def _names(rows: list[dict[str, Any]]) -> list[str]:
    return [str(row["file_name"]) for row in rows]


def test_red_shoe_finds_the_product_described_as_a_red_shoe(demo: dict[str, Any]) -> None:
    rows = _search(demo, "shop", text="red shoe")
    assert rows[0]["file_name"] == "p2.png"
    assert rows[0]["matched"] == ["red", "shoe"]
    assert set(rows[1]["matched"]) < {"red", "shoe"}  # a red mug or a blue shoe: one word
    assert [row["match"] for row in rows] == sorted((row["match"] for row in rows), reverse=True)


def test_a_brand_and_quoted_words_match_exactly(demo: dict[str, Any]) -> None:
    by_brand = _search(demo, "shop", text="Brimworth")
    assert by_brand[0]["file_name"] == "p5.png"
    assert by_brand[0]["matched"] == ["brimworth"]
    quoted = _search(demo, "shop", text='"kettle & kiln" mug')
    assert sorted(_names(quoted)) == ["p1.png", "p4.png"]  # only items holding the phrase
    nothing = search(
        Query(text='"purple elephant"'), collection="shop", model="lite",
        settings=demo["settings"], store=demo["store"],
    )  # fmt: skip
    assert nothing.rows == []
    said = "No item's text holds the quoted words “purple elephant”"
    assert any(said in note for note in nothing.notes)


def test_line_chart_finds_the_page_titled_line_chart(demo: dict[str, Any]) -> None:
    rows = _search(demo, "docs", text="line chart")
    assert rows[0]["file_name"] == "report.pdf p. 2"
    assert rows[0]["matched"] == ["line", "chart"]


def test_items_found_by_words_alone_keep_the_metadata_filter(demo: dict[str, Any]) -> None:
    where = parse_where("brand = Strideline")
    rows = _search(demo, "shop", text="mug", where=where)
    assert set(_names(rows)) == {"p2.png", "p3.png"}  # the mugs match the word, not the filter


def test_uncaptioned_photos_rank_exactly_as_without_the_lexical_part(demo: dict[str, Any]) -> None:
    for text in ("red shoe", "p2", '"red shoe"', "a white mug"):
        with_words = _search(demo, "photos", text=text)
        assert with_words == _search(demo, "photos", text=text, lexical_weight=0.0)
        assert all(row["matched"] == [] for row in with_words)


def test_weight_zero_is_todays_dense_search(demo: dict[str, Any]) -> None:
    dense = _search(demo, "shop", text="red shoe", lexical_weight=0.0)
    assert all(row["matched"] == [] for row in dense)
    similarities = [row["similarity"] for row in dense]
    assert similarities == sorted(similarities, reverse=True)


def test_cli_lexical_weight_and_matched_words(
    demo: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["search", "--collection", "shop", "--data-dir", demo["data"], "--top-k", "3"]
    assert main([*common, "--text", "red shoe", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    top = found["results"][0]
    assert (top["file_name"], top["matched"]) == ("p2.png", ["red", "shoe"])
    assert {"match", "strength", "similarity"} <= set(top)
    assert main([*common, "--text", "red shoe", "--lexical-weight", "0", "--json"]) == 0
    assert all(row["matched"] == [] for row in json.loads(capsys.readouterr().out)["results"])
    assert main([*common, "--text", "line chart", "--collection", "docs"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[1].split()[1:3] == ["report.pdf", "p."]
    assert "line, chart" in printed  # the words matched, as the table prints a list
    assert main([*common, "--text", "x", "--lexical-weight", "2"]) == 1
    assert "lexical weight must be between 0 and 1" in capsys.readouterr().err


def test_cli_help_documents_the_lexical_weight(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    assert "--lexical-weight" in capsys.readouterr().out


def test_cli_docs_document_the_lexical_weight() -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "cli.md").read_text(encoding="utf-8")
    assert "--lexical-weight" in page
