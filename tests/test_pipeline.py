"""Ingest -> embed -> store -> search -> rerank, end to end through the library, tiny models."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.errors import InputError, NotFoundError
from mmdemo.ingest.indexer import index_existing, index_paths
from mmdemo.models.loading import load_embedder
from mmdemo.search.engine import COLUMNS, search
from mmdemo.search.fusion import fuse
from mmdemo.search.query import Query, combine
from mmdemo.store import Store

from helpers import COLOURS, write_images


def spy_on_image_encoding(
    monkeypatch: pytest.MonkeyPatch, before: Callable[[], None] = lambda: None
) -> list[list[tuple[int, int]]]:
    """Record the image sizes of each batch prepared for a model (every image encode, at
    index and query time, goes through ``prepare_images``), running ``before`` first."""
    calls: list[list[tuple[int, int]]] = []
    original = Embedder.prepare_images

    def spy(self: Embedder, images: list[Image.Image]) -> dict[str, Any]:
        before()
        calls.append([image.size for image in images])
        return original(self, images)

    monkeypatch.setattr(Embedder, "prepare_images", spy)
    return calls


def test_index_reports_counts_and_progress(
    photos: Path, settings: Settings, store: Store, tiny_clip_dir: Path
) -> None:
    (photos / "notes.txt").write_text("not an image")
    seen: list[tuple[int, int]] = []
    report = index_paths(
        [photos],
        collection="colours",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert report.added == len(COLOURS)
    assert report.present == 0
    assert [(r.file.endswith("notes.txt"), r.reason) for r in report.rejected] == [
        (True, "not an image")
    ]
    assert seen[-1] == (len(COLOURS) + 1, len(COLOURS) + 1)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    for item_id, meta in store.items("colours"):
        assert (settings.images_dir / meta["image_file"]).exists()
        assert (settings.thumbs_dir / f"{item_id}.jpg").exists()


def test_reindex_embeds_only_new_images(
    photos: Path,
    settings: Settings,
    store: Store,
    indexed: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = spy_on_image_encoding(monkeypatch)
    again = index_paths(
        [photos], collection="colours", models=[indexed], settings=settings, store=store
    )
    assert (again.added, again.present, calls) == (0, len(COLOURS), [])

    write_images(photos, {"purple.png": (120, 20, 160)})
    (photos / "copy-of-red.png").write_bytes((photos / "red.png").read_bytes())
    more = index_paths(
        [photos], collection="colours", models=[indexed], settings=settings, store=store
    )
    # The copy of red is stored already: it counts as present, like every other input.
    assert (more.added, more.present) == (1, len(COLOURS) + 1)
    assert [len(call) for call in calls] == [1]


def test_zip_and_duplicates_in_one_run(
    photos: Path, tmp_path: Path, settings: Settings, store: Store, tiny_clip_dir: Path
) -> None:
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in COLOURS:
            zf.write(photos / name, f"nested/{name}")
    report = index_paths(
        [photos, archive],
        collection="mixed",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
    )
    assert (report.added, report.rejected) == (len(COLOURS), [])
    assert store.collections()[0].images == len(COLOURS)


def test_metadata_from_captions_csv(store: Store, indexed: str) -> None:
    metas = {meta["file_name"]: meta for _, meta in store.items("colours")}
    red = metas["red.png"]
    assert red["caption"] == "a plain red square"
    assert red["photographer"] == "ann"
    assert (red["width"], red["height"], red["source"]) == (48, 40, "folder")
    assert red["origin"].endswith("red.png") and red["added_at"]


def test_image_query_finds_itself_first(
    photos: Path, settings: Settings, store: Store, indexed: str
) -> None:
    results = search(
        Query(image=photos / "blue.png"),
        collection="colours",
        model=indexed,
        settings=settings,
        store=store,
        top_k=3,
    )
    table = results.table
    assert list(table.columns) == COLUMNS
    assert table["file_name"].iloc[0] == "blue.png"
    assert table["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-4)
    assert list(table["rank"]) == [1, 2, 3]
    assert table["rerank_score"].isna().all()
    assert set(results.timings_ms) == {"embed", "search", "rerank"}
    assert results.timings_ms["rerank"] == 0.0


def test_scores_match_exact_fused_query(
    photos: Path, settings: Settings, store: Store, indexed: str
) -> None:
    query = Query(
        text="something warm",
        image=photos / "red.png",
        weight=0.3,
        negative="dark",
        negative_weight=0.4,
        caption_weight=0.0,  # image vectors only: the query arithmetic is checked here
    )
    results = search(
        query, collection="colours", model=indexed, settings=settings, store=store, top_k=6
    )

    embedder = load_embedder(indexed, settings)
    with Image.open(photos / "red.png") as im:
        image_vec = embedder.encode_images([im.convert("RGB")])[0]
    vector = combine(
        embedder.encode_texts(["something warm"])[0],
        image_vec,
        0.3,
        embedder.encode_texts(["dark"])[0],
        0.4,
    )
    ids, matrix = store.embeddings("colours", embedder.key)
    exact = dict(zip(ids, matrix @ vector, strict=True))
    for item_id, score in zip(results.table["id"], results.table["similarity"], strict=True):
        assert score == pytest.approx(float(exact[item_id]), abs=1e-4)
    assert list(results.table["id"]) == sorted(exact, key=lambda i: -exact[i])


@pytest.mark.parametrize(("weight", "only"), [(1.0, "text"), (0.0, "image")])
def test_weight_extremes_equal_single_modality_search(
    photos: Path, settings: Settings, store: Store, indexed: str, weight: float, only: str
) -> None:
    both = Query(text="green grass", image=photos / "white.png", weight=weight)
    single = Query(text="green grass") if only == "text" else Query(image=photos / "white.png")
    run = [
        search(q, collection="colours", model=indexed, settings=settings, store=store)
        for q in (both, single)
    ]
    assert list(run[0].table["id"]) == list(run[1].table["id"])


def test_caption_filter(settings: Settings, store: Store, indexed: str) -> None:
    results = search(
        Query(text="colour", caption_contains="YELLOW"),
        collection="colours",
        model=indexed,
        settings=settings,
        store=store,
    )
    assert list(results.table["file_name"]) == ["yellow.png"]


def test_rerank_reorders_candidates(
    settings: Settings, store: Store, indexed: str, tiny_reranker_dir: Path
) -> None:
    from sentence_transformers import CrossEncoder

    plain = search(
        Query(text="a plain square"),
        collection="colours",
        model=indexed,
        settings=settings,
        store=store,
        top_k=6,
    )
    reranked = search(
        Query(text="a plain square"),
        collection="colours",
        model=indexed,
        settings=settings,
        store=store,
        reranker=str(tiny_reranker_dir),
        top_k=4,
        candidates=6,
    )
    table = reranked.table
    assert len(table) == 4
    assert list(table["rerank_score"]) == sorted(table["rerank_score"], reverse=True)
    before = list(table["rank_before_rerank"])
    assert len(set(before)) == 4 and all(1 <= b <= 6 for b in before)
    for _, row in table.iterrows():
        assert plain.table["id"].iloc[row["rank_before_rerank"] - 1] == row["id"]

    ce = CrossEncoder(str(tiny_reranker_dir), device="cpu")
    docs = [
        {"text": c, "image": Image.open(p).convert("RGB")}
        for p, c in zip(plain.table["path"], plain.table["caption"], strict=True)
    ]
    ce_scores = np.zeros(len(docs))
    for entry in ce.rank("a plain square", docs):
        ce_scores[entry["corpus_id"]] = entry["score"]
    fused = fuse(plain.table["similarity"].to_numpy(), ce_scores)
    expected = [plain.table["id"].iloc[i] for i in np.argsort(-fused, kind="stable")][:4]
    assert list(table["id"]) == expected
    assert reranked.timings_ms["rerank"] > 0


def test_second_model_indexes_stored_images(
    settings: Settings, store: Store, indexed: str, tiny_siglip_dir: Path
) -> None:
    report = index_existing(
        collection="colours", models=[str(tiny_siglip_dir)], settings=settings, store=store
    )
    assert (report.added, report.present) == (len(COLOURS), 0)
    info = store.collections()[0]
    assert info.images == len(COLOURS)
    assert sorted(info.models.values()) == [len(COLOURS), len(COLOURS)]
    results = search(
        Query(text="red"),
        collection="colours",
        model=str(tiny_siglip_dir),
        settings=settings,
        store=store,
    )
    assert len(results.table) == len(COLOURS)


def test_errors_are_specific(
    settings: Settings, store: Store, indexed: str, tiny_siglip_dir: Path
) -> None:
    with pytest.raises(NotFoundError, match="colours"):
        search(
            Query(text="x"),
            collection="colours",
            model=str(tiny_siglip_dir),
            settings=settings,
            store=store,
        )
    with pytest.raises(InputError, match="Empty query"):
        search(Query(text=" "), collection="colours", model=indexed, settings=settings, store=store)
    with pytest.raises(InputError, match="top-k"):
        search(
            Query(text="x"),
            collection="colours",
            model=indexed,
            settings=settings,
            store=store,
            top_k=0,
        )


def test_deleting_removes_files_no_other_collection_uses(
    photos: Path, settings: Settings, store: Store, indexed: str
) -> None:
    from mmdemo import manage

    index_paths(
        [photos / "red.png", photos / "blue.png"],
        collection="other",
        models=[indexed],
        settings=settings,
        store=store,
    )
    files = {meta["file_name"]: (item_id, meta) for item_id, meta in store.items("colours")}

    def stored(name: str) -> bool:
        item_id, meta = files[name]
        return (settings.images_dir / meta["image_file"]).exists() and (
            settings.thumbs_dir / f"{item_id}.jpg"
        ).exists()

    assert manage.delete_items(settings, store, "colours", [files["green.png"][0]]) == 1
    assert not stored("green.png") and stored("red.png")
    assert manage.delete_collection(settings, store, "colours") == len(COLOURS) - 1
    assert stored("red.png") and stored("blue.png")  # still shown by "other"
    assert not stored("yellow.png") and not stored("white.png")
    assert manage.delete_collection(settings, store, "other") == 2
    assert not stored("red.png") and list(settings.images_dir.iterdir()) == []


@pytest.mark.parametrize("with_captions", [True, False])
def test_reranker_reads_captions_unless_told_not_to(
    settings: Settings,
    store: Store,
    indexed: str,
    tiny_reranker_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    with_captions: bool,
) -> None:
    from mmdemo.rerank import Candidate, PartScores, Reranker

    seen: list[str | None] = []
    original = Reranker.score_parts

    def spy(self: Reranker, candidates: list[Candidate], **parts: object) -> PartScores:
        seen.extend(candidate.caption for candidate in candidates)
        return original(self, candidates, **parts)  # type: ignore[arg-type]

    monkeypatch.setattr(Reranker, "score_parts", spy)
    search(
        Query(text="square"),
        collection="colours",
        model=indexed,
        settings=settings,
        store=store,
        reranker=str(tiny_reranker_dir),
        rerank_captions=with_captions,
    )
    assert len(seen) == len(COLOURS)
    if with_captions:
        assert all(c and c.startswith("a plain ") for c in seen)
    else:
        assert seen == [None] * len(COLOURS)


def test_two_writers_of_the_same_image_both_succeed(photos: Path, tmp_path: Path) -> None:
    import threading

    from mmdemo.ingest.copies import save_copies
    from mmdemo.ingest.images import content_hash, decode_image

    data = (photos / "red.png").read_bytes()
    decoded = decode_image(data)
    item_id = content_hash(data)
    errors: list[BaseException] = []

    for attempt in range(20):
        settings = Settings(data_dir=tmp_path / str(attempt))
        start = threading.Barrier(4)

        def write(settings: Settings = settings, start: threading.Barrier = start) -> None:
            start.wait()
            try:
                save_copies(settings, item_id, decoded, data)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert [p.suffix for p in settings.images_dir.iterdir()] == [".png"]
        assert [p.suffix for p in settings.thumbs_dir.iterdir()] == [".jpg"]


def test_delete_during_indexing_keeps_files_the_new_collection_needs(
    photos: Path,
    settings: Settings,
    store: Store,
    indexed: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    from mmdemo import manage

    deleter = threading.Thread(target=manage.delete_collection, args=(settings, store, "colours"))

    def delete_meanwhile() -> None:
        # "colours" holds red.png too; delete it after the copy is saved, before it is stored.
        deleter.start()
        deleter.join(2)  # long enough to finish, unless it rightly waits for the indexing

    spy_on_image_encoding(monkeypatch, before=delete_meanwhile)
    index_paths(
        [photos / "red.png"], collection="late", models=[indexed], settings=settings, store=store
    )
    deleter.join(30)
    [(item_id, meta)] = store.items("late")
    assert not store.has_model("colours", indexed)
    assert (settings.images_dir / meta["image_file"]).exists()
    assert (settings.thumbs_dir / f"{item_id}.jpg").exists()


def test_large_images_reach_models_bounded_but_are_stored_whole(
    tmp_path: Path,
    settings: Settings,
    store: Store,
    tiny_clip_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from mmdemo.ingest.images import MODEL_MAX_SIDE

    big = tmp_path / "big.jpg"
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 256, (2000, 3000, 3), dtype=np.uint8)).save(big, quality=70)
    calls = spy_on_image_encoding(monkeypatch)
    model = str(tiny_clip_dir)
    index_paths([big], collection="big", models=[model], settings=settings, store=store)
    found = search(Query(image=big), collection="big", model=model, settings=settings, store=store)
    bounded = (MODEL_MAX_SIDE, round(MODEL_MAX_SIDE * 2 / 3))
    assert calls == [[bounded], [bounded]]  # indexed, then the query
    [(_, meta)] = store.items("big")
    assert (meta["width"], meta["height"]) == (3000, 2000)
    assert (settings.images_dir / meta["image_file"]).read_bytes() == big.read_bytes()
    assert found.table["similarity"].iloc[0] == pytest.approx(1.0, abs=1e-4)


def test_same_bytes_with_other_details_are_reported_with_what_was_kept(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    """Two products sharing a photo: the second's caption and price are named, not lost."""
    folder = write_images(tmp_path / "shop", {"a-red-shoe.png": (200, 30, 30)})
    data = (folder / "a-red-shoe.png").read_bytes()
    for name in ("b-blue-shoe.png", "c-same-shoe.png", "d-plain-copy.png"):
        (folder / name).write_bytes(data)
    captions = tmp_path / "captions.csv"
    captions.write_text(
        "file_name,caption,price\n"
        "a-red-shoe.png,red shoe,30\n"
        "b-blue-shoe.png,blue shoe,25\n"
        "c-same-shoe.png,red shoe,30\n",
        encoding="utf-8",
    )
    store = Store(settings)
    report = index_paths(
        [folder],
        collection="shop",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
        captions=captions,
    )
    assert (report.added, report.present) == (1, 2)  # c and d add nothing new and lose nothing
    (lost,) = report.rejected
    assert Path(lost.file).name == "b-blue-shoe.png"
    assert lost.reason == (
        "same image as a-red-shoe.png, which is stored once with its own caption and metadata; "
        "this file's caption 'blue shoe' (kept: 'red shoe'), price 25 (kept: 30) were not stored"
    )
    ((_, kept),) = store.items("shop")
    assert (kept["file_name"], kept["caption"], kept["price"]) == ("a-red-shoe.png", "red shoe", 30)
