"""The bundled demo collections and their start-up: assets, MMDEMO_DEMO_SOURCES, indexing.

The start-up tests run the real Bootstrap in process with the tiny CLIP (fast, and the same
indexing path as any model); ``web_app`` (conftest.py) covers the full three-demo first
start with the offline lite model.
"""

from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mmdemo.config import Settings
from mmdemo.demos import ASSETS, BUNDLED, PHOTOS_DIR, SAMPLE_PHOTOS, DemoPlan, plan_demos
from mmdemo.ui.bootstrap import BootStatus, Bootstrap

from imagefactory import write_image

MB = 1024 * 1024
COLOURS = {"red": (220, 20, 20), "green": (20, 200, 40), "blue": (30, 40, 210)}


def write_images(folder: Path, count: int) -> Path:
    """``count`` plain colour squares, named by colour, in a new ``folder``."""
    folder.mkdir(parents=True)
    for name, colour in list(COLOURS.items())[:count]:
        write_image(folder / f"{name}.png", colour, size=(48, 32))
    return folder


def _rows(demo: str) -> list[dict[str, str]]:
    with (ASSETS / demo / "captions.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize(("demo", "least"), [("photos", 60), ("shop", 150)])
def test_every_picture_has_its_caption_row_and_its_sources_line(demo: str, least: int) -> None:
    rows = _rows(demo)
    files = sorted(p.name for p in (ASSETS / demo).glob("*.jpg"))
    assert sorted(r["file_name"] for r in rows) == files
    assert len(files) >= least
    assert all(r["caption"].strip() for r in rows)
    sources = (ASSETS / demo / "SOURCES").read_text(encoding="utf-8")
    assert all(f"\n{name}: " in sources for name in files)


def test_shop_products_carry_their_metadata_in_their_description() -> None:
    rows = _rows("shop")
    assert {"name", "brand", "category", "colour", "price"} <= set(rows[0])
    assert len({r["name"] for r in rows}) == len(rows)
    for row in rows:
        caption = row["caption"]
        assert row["name"] in caption and row["brand"] in caption, row
        assert caption.lower().startswith(row["colour"]), row
        assert float(row["price"]) > 0
    assert len({r["category"] for r in rows}) >= 10
    assert {"red", "blue", "green"} <= {r["colour"] for r in rows}


def test_every_document_page_has_a_row_and_a_text_layer_that_starts_with_its_title() -> None:
    import pypdfium2

    rows = {r["file_name"]: r for r in _rows("documents")}
    pages = 0
    for pdf in sorted((ASSETS / "documents").glob("*.pdf")):
        document = pypdfium2.PdfDocument(str(pdf))
        for index in range(len(document)):
            text = " ".join(document[index].get_textpage().get_text_bounded().split())
            row = rows[f"{pdf.name} p. {index + 1}"]
            assert text.startswith(row["title"]), (pdf.name, index)
            pages += 1
        document.close()
    assert pages == len(rows) >= 20
    assert {"line chart", "bar chart", "pie chart"} <= {r["chart"] for r in rows.values()}
    assert any("line chart" in r["title"] for r in rows.values())


def test_the_assets_stay_under_25_mb_and_keep_the_sample_photos() -> None:
    total = sum(p.stat().st_size for p in ASSETS.parent.rglob("*") if p.is_file())
    assert total < 25 * MB
    assert all((PHOTOS_DIR / name).is_file() for name in SAMPLE_PHOTOS)


def test_demo_sources_add_replace_drop_and_report_bad_entries(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "mine", 2)
    plan = plan_demos(
        f"photos={folder}; shop=; cats=hf:someone/cats?rows=20&split=test; bad entry; "
        "dogs=x?colour=red; Mixed Case=x"
    )
    by_key = {demo.key: demo for demo in plan.demos}
    assert list(by_key) == ["photos", "documents", "cats"]
    assert by_key["photos"].sources == (str(folder),) and not by_key["photos"].bundled
    assert plan.fallbacks["photos"].bundled
    assert by_key["cats"].dataset.limit == 20 and by_key["cats"].dataset.split == "test"
    assert (by_key["cats"].collection, by_key["cats"].label) == ("demo-cats", "Demo: cats")
    assert len(plan.problems) == 3
    assert "'bad entry' is not NAME=SOURCE" in plan.problems[0]
    assert "unknown option colour" in plan.problems[1]


def test_a_folder_demo_counts_its_items_not_its_captions_and_sources_files() -> None:
    photos = next(demo for demo in BUNDLED if demo.key == "photos")
    assert len(photos.items()) == len(_rows("photos"))


def _run(settings: Settings, plan: DemoPlan, model: str) -> tuple[BootStatus, list[int]]:
    boot = Bootstrap(settings, plan, model)
    totals: list[int] = []
    progress = boot.progress
    boot.progress = lambda done, total: (totals.append(total), progress(done, total))  # type: ignore[method-assign]
    boot.start()
    boot.join(timeout=300)
    return boot.status(), totals


def test_local_folder_and_zip_demos_index_beside_the_bundled_photos(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    folder = write_images(tmp_path / "colours", 3)
    (folder / "captions.csv").write_text(
        "file_name,caption\n" + "".join(f"{p.name},a {p.stem} square\n" for p in folder.iterdir())
    )
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        for name in SAMPLE_PHOTOS[:2]:
            packed.write(PHOTOS_DIR / name, name)
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    plan = plan_demos(f"shop=;documents=;colours={folder};zipped={archive}")
    status, totals = _run(settings, plan, str(tiny_clip_dir))
    assert status.phase == "ready", status.message
    assert status.ready_demos == ("demo-photos", "demo-colours", "demo-zipped")
    photos = len(_rows("photos"))
    assert set(totals) == {photos + 3 + 2}  # one count over every demo, nothing else counted
    assert f"photos {photos}, colours 3, zipped 2 items" in status.message

    from mmdemo.store import Store

    store = Store(settings)
    items = dict(store.items("demo-colours"))
    assert {m["caption"] for m in items.values()} == {f"a {c} square" for c in COLOURS}


def test_a_later_start_reads_nothing_again_and_a_changed_source_is_indexed_anew(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    from mmdemo.store import Store

    folder = write_images(tmp_path / "colours", 3)
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    plan = plan_demos(f"shop=;documents=;photos={folder}")
    first, _ = _run(settings, plan, str(tiny_clip_dir))
    assert first.phase == "ready" and first.total == 3
    later, totals = _run(settings, plan, str(tiny_clip_dir))
    assert later.phase == "ready" and later.ready_demos == ("demo-photos",)
    assert totals == []  # nothing to index, nothing decoded
    (folder / sorted(p.name for p in folder.iterdir())[0]).unlink()
    shutil.copy(PHOTOS_DIR / "coffee.jpg", folder / "coffee.jpg")
    changed, _ = _run(settings, plan, str(tiny_clip_dir))
    assert changed.phase == "ready" and changed.total == 3
    names = {m["file_name"] for _, m in Store(settings).items("demo-photos")}
    assert "coffee.jpg" in names and len(names) == 3


def test_a_stored_demo_is_ready_only_once_its_models_are_warm(
    tmp_path: Path, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ready means a search answers without waiting on a model load, on a later start too."""
    folder = write_images(tmp_path / "colours", 3)
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    plan = plan_demos(f"shop=;documents=;photos={folder};zipped={folder}")
    first, _ = _run(settings, plan, str(tiny_clip_dir))
    assert first.ready_demos == ("demo-photos", "demo-zipped")
    seen: list[tuple[str, ...]] = []
    warm = Bootstrap.warm_up

    def watched(boot: Bootstrap, store: Any, collection: str) -> None:
        seen.append(boot.status().ready_demos)
        warm(boot, store, collection)
        seen.append(boot.status().ready_demos)

    monkeypatch.setattr(Bootstrap, "warm_up", watched)
    later, totals = _run(settings, plan, str(tiny_clip_dir))
    assert totals == [] and later.ready_demos == ("demo-photos", "demo-zipped")
    assert seen == [(), ()]  # nothing was ready before, nor while, the models warmed up


def test_an_unreachable_hub_demo_is_reported_and_the_bundled_one_indexes(
    tmp_path: Path, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    plan = plan_demos("shop=;documents=;photos=hf:someone/photos?rows=5;cats=hf:someone/cats")
    status, _ = _run(settings, plan, str(tiny_clip_dir))
    assert status.phase == "ready", status.message
    assert status.ready_demos == ("demo-photos",)
    photos, cats = status.problems
    assert "Demo 'photos' is not available (the bundled one is used instead)" in photos
    assert "hf:someone/photos cannot be reached: HF_HUB_OFFLINE is set" in photos
    assert "Demo 'cats' is not available: " in cats
    assert photos in status.message and cats in status.message


# --- the page's parts for the demos, in process (the browser tests show them) ----------


def _page(tmp_path: Path, configured: str = "") -> tuple[Bootstrap, Any, Any]:
    """The start-up of the bundled demos (``configured``: MMDEMO_DEMO_SOURCES), not
    started, its app context and its built page."""
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.layout import build_app

    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    boot = Bootstrap(settings, plan_demos(configured), "lite")
    ctx = AppContext(settings, boot)
    return boot, ctx, build_app(ctx)


def test_every_collection_picker_offers_the_demos_by_their_display_names(
    tmp_path: Path,
) -> None:
    from mmdemo.ui.shared import collection_choices

    _, _, app = _page(tmp_path)
    ids = {"search-coll", "cmp-coll", "map-coll", "eval-coll", "dup-coll"}
    pickers = [b for b in app.blocks.values() if b.elem_id in ids]
    assert len(pickers) == len(ids)  # (fine-tuning names no collection until the list loads)
    demos = [("Demo: photos", "demo-photos"), ("Demo: shop", "demo-shop")]
    demos.append(("Demo: documents", "demo-documents"))
    for picker in pickers:
        assert (picker.choices, picker.value) == (demos, "demo-photos"), picker.elem_id
    mine = collection_choices(["abc", "demo-shop", "demo-mine", "demo-photos"], BUNDLED)
    assert mine == [
        ("Demo: photos", "demo-photos"),
        ("Demo: shop", "demo-shop"),
        ("abc", "abc"),
        ("demo-mine", "demo-mine"),
    ]


def test_the_sample_query_runs_once_the_photos_demo_is_ready_not_every_demo(
    tmp_path: Path,
) -> None:
    from types import SimpleNamespace

    import gradio as gr

    boot, _, app = _page(tmp_path)
    on_ready = next(f.fn for f in app.fns.values() if getattr(f.fn, "__name__", "") == "on_ready")
    query = {"text": "a cup of coffee", "image": None, "weight": 0.5, "negative": None}
    query |= {"negative_weight": 0.5, "caption_contains": None, "where": None}
    query |= {"caption_weight": 0.4, "model": "lite", "reranker": "none", "top_k": 10}
    request = SimpleNamespace(session_hash="visitor")
    skips = tuple(gr.skip() for _ in range(7))
    assert on_ready([], request, **query, collection="demo-photos") == skips  # not ready yet
    boot.mark_ready("demo-photos")
    assert not boot.status().finished
    assert on_ready([], request, **query, collection="demo-photos") != skips  # it runs
    assert on_ready([], request, **query, collection="demo-shop") == skips  # still indexing


def test_the_status_line_names_each_demo_that_cannot_be_set_up(tmp_path: Path) -> None:
    from mmdemo.ui.layout import status_text

    boot, ctx, _ = _page(tmp_path, "bad_entry;shop=")
    line = status_text(ctx)
    [problem] = boot.status().problems
    assert "'bad_entry' is not NAME=SOURCE" in problem
    assert "⚠ MMDEMO\\_DEMO\\_SOURCES: 'bad\\_entry' is not NAME=SOURCE" in line
