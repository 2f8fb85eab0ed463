"""PDF pages as items: rendering, text layer captions, rejections, page limit, end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmdemo.config import Limits, Settings
from mmdemo.ingest.entries import Rejection, SourceItem
from mmdemo.ingest.images import decode_image
from mmdemo.ingest.indexer import index_paths
from mmdemo.ingest.pdfs import RENDER_LONG_SIDE
from mmdemo.ingest.sources import count_sources, iter_sources
from mmdemo.present import grid
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.store import Store

from imagefactory import pdf_bytes, write, write_image, write_zip

PAGES = ["Quarterly sales chart", "", "Pump maintenance diagram"]


def split(entries: list[SourceItem | Rejection]) -> tuple[list[SourceItem], dict[str, str]]:
    items = [e for e in entries if isinstance(e, SourceItem)]
    return items, {e.file: e.reason for e in entries if isinstance(e, Rejection)}


def test_each_page_is_an_item_named_by_file_and_page(tmp_path: Path) -> None:
    pdf = write(tmp_path / "docs" / "report.pdf", pdf_bytes(PAGES))
    items, rejected = split(list(iter_sources([tmp_path / "docs"])))
    assert rejected == {}
    assert [i.file_name for i in items] == ["report.pdf p. 1", "report.pdf p. 2", "report.pdf p. 3"]
    assert [i.origin for i in items] == [f"{pdf}#page={n}" for n in (1, 2, 3)]
    assert {i.source for i in items} == {"pdf"}
    assert count_sources([tmp_path / "docs"]) == 3


def test_a_page_renders_through_the_image_decoder_at_a_readable_size(tmp_path: Path) -> None:
    pdf = write(tmp_path / "report.pdf", pdf_bytes(PAGES))
    first = next(e for e in iter_sources([pdf]) if isinstance(e, SourceItem))
    decoded = decode_image(first.read(), first.file_name)
    assert decoded.format == "PNG"
    # A US Letter page is 612 x 792 points: the long side renders at RENDER_LONG_SIDE.
    assert decoded.height == RENDER_LONG_SIDE
    assert abs(decoded.width - 612 * RENDER_LONG_SIDE / 792) <= 1
    # The text is drawn in black on white: the page is not blank.
    assert decoded.image.convert("L").getextrema()[0] < 64


def test_the_text_layer_is_the_caption_and_pages_without_one_have_none(tmp_path: Path) -> None:
    pdf = write(tmp_path / "report.pdf", pdf_bytes(PAGES))
    items, _ = split(list(iter_sources([pdf])))
    details = [item.details() for item in items]
    assert details[0] == {"document": "report.pdf", "page": 1, "caption": PAGES[0]}
    assert details[1] == {"document": "report.pdf", "page": 2}
    assert details[2]["caption"] == PAGES[2]


def test_long_page_text_is_cut_at_the_caption_limit_on_a_word(tmp_path: Path) -> None:
    pdf = write(tmp_path / "long.pdf", pdf_bytes(["word " * 40]))
    (item,) = split(list(iter_sources([pdf], Limits(caption_chars=23))))[0]
    assert item.details()["caption"] == "word word word word"


def test_encrypted_corrupt_and_empty_pdfs_are_rejected_with_reasons(tmp_path: Path) -> None:
    write(tmp_path / "in" / "locked.pdf", pdf_bytes(["secret"], encrypted=True))
    write(tmp_path / "in" / "broken.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 50)
    write(tmp_path / "in" / "empty.pdf", b"")
    write_image(tmp_path / "in" / "photo.png")
    items, rejected = split(list(iter_sources([tmp_path / "in"])))
    assert [i.file_name for i in items] == ["photo.png"]
    assert {Path(k).name: v for k, v in rejected.items()} == {
        "locked.pdf": "encrypted PDF (it needs a password)",
        "broken.pdf": "corrupt or unreadable PDF",
        "empty.pdf": "corrupt or unreadable PDF",
    }


def test_pages_past_the_limit_are_reported_not_indexed(tmp_path: Path) -> None:
    pdf = write(tmp_path / "manual.pdf", pdf_bytes([f"page {n}" for n in range(1, 8)]))
    limits = Limits(pdf_pages=3)
    items, rejected = split(list(iter_sources([pdf], limits)))
    assert [i.file_name for i in items] == [f"manual.pdf p. {n}" for n in (1, 2, 3)]
    assert rejected == {
        f"{pdf}#page=4-7": "past the limit of 3 pages per PDF (MMDEMO_MAX_PDF_PAGES)"
    }
    assert count_sources([pdf], limits) == 4


def test_a_pdf_over_the_file_size_cap_is_rejected_unopened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmdemo.ingest import images

    pdf = write(tmp_path / "huge.pdf", pdf_bytes(PAGES))
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 100)
    _, rejected = split(list(iter_sources([pdf])))
    assert list(rejected) == [str(pdf)]
    assert "too large" in rejected[str(pdf)]


def test_pdfs_inside_zip_archives_yield_their_pages(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "upload.zip",
        {
            "docs/report.pdf": pdf_bytes(PAGES[:2]),
            "docs/locked.pdf": pdf_bytes(["x"], encrypted=True),
        },
    )
    items, rejected = split(list(iter_sources([archive])))
    assert [i.file_name for i in items] == ["report.pdf p. 1", "report.pdf p. 2"]
    assert items[0].origin == f"{archive}!docs/report.pdf#page=1"
    assert rejected == {f"{archive}!docs/locked.pdf": "encrypted PDF (it needs a password)"}
    assert decode_image(items[1].read()).format == "PNG"


def test_index_stores_pages_with_file_page_and_caption(tmp_path: Path, tiny_clip_dir: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    store = Store(settings)
    docs = tmp_path / "docs"
    write(docs / "report.pdf", pdf_bytes(PAGES))
    write(docs / "locked.pdf", pdf_bytes(["x"], encrypted=True))
    captions = write(
        tmp_path / "captions.csv", b"file_name,caption\nreport.pdf p. 2,a blank page\n"
    )
    report = index_paths(
        [docs],
        collection="docs",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
        captions=captions,
    )
    assert (report.added, report.present) == (3, 0)
    assert [(Path(r.file).name, r.reason) for r in report.rejected] == [
        ("locked.pdf", "encrypted PDF (it needs a password)")
    ]
    metas = {meta["file_name"]: meta for _, meta in store.items("docs")}
    assert metas["report.pdf p. 1"]["caption"] == PAGES[0]
    assert (metas["report.pdf p. 1"]["document"], metas["report.pdf p. 1"]["page"]) == (
        "report.pdf",
        1,
    )
    # A captions CSV row names a page the way results show it, and wins over the text layer.
    assert metas["report.pdf p. 2"]["caption"] == "a blank page"
    assert metas["report.pdf p. 3"]["source"] == "pdf"
    results = search(
        Query(text="sales"), collection="docs", model=str(tiny_clip_dir), settings=settings,
        store=store, top_k=3,
    )  # fmt: skip
    rows = results.table.to_dict("records")
    assert sorted(r["file_name"] for r in rows) == [f"report.pdf p. {n}" for n in (1, 2, 3)]
    page_one = next(r for r in rows if r["file_name"] == "report.pdf p. 1")
    shown = grid.card(page_one, ("thumb.jpg", "page.jpg"), strong=True)
    assert shown.alt.endswith(f"report.pdf p. 1: {PAGES[0]}")
    assert ("file", "report.pdf p. 1") in shown.details
    again = index_paths(
        [docs], collection="docs", models=[str(tiny_clip_dir)], settings=settings, store=store
    )
    assert (again.added, again.present) == (0, 3)
