"""Collections indexed before caption vectors existed: a search only reads them (it ranks by
image alone and says why), while the next index run, or the app's start-up, embeds their
captions, once."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mmdemo.config import Settings
from mmdemo.ingest import caption_vectors
from mmdemo.ingest.indexer import index_paths
from mmdemo.models.registry import resolve
from mmdemo.search.engine import SearchResults, search
from mmdemo.search.query import Query
from mmdemo.store import Store
from mmdemo.ui.bootstrap import Bootstrap

from helpers import COLOURS, write_images

CAPTIONS = {name: f"a plain {name[:-4]} square" for name in COLOURS}
OLD = "old"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu", allow_local_models=True)


@pytest.fixture
def old(
    settings: Settings, tmp_path: Path, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """The images' folder of collection OLD, indexed as a version before caption vectors
    did: image vectors, copies and lexical index, but no caption vectors."""
    folder = write_images(tmp_path / "photos", COLOURS)
    csv = tmp_path / "captions.csv"
    csv.write_text("file_name,caption\n" + "".join(f"{n},{c}\n" for n, c in CAPTIONS.items()))
    with monkeypatch.context() as patch:
        patch.setattr(caption_vectors, "store_caption_vectors", lambda *_: None)
        _index(folder, settings, tiny_clip_dir, csv)
    assert not Store(settings).has_captions(OLD, _key(tiny_clip_dir))
    return folder


def _index(folder: Path, settings: Settings, model: Path, csv: Path | None = None) -> Any:
    return index_paths(
        [folder], collection=OLD, models=[str(model)], settings=settings, store=Store(settings),
        captions=csv,
    )  # fmt: skip


def _key(model: Path) -> str:
    return resolve(str(model), "embedder").key


def _state(settings: Settings, model: Path) -> tuple[dict[str, tuple[int, int]], dict[str, str]]:
    """Every collection's image and caption vector counts, and every file under the data dir
    by its digest."""
    store = Store(replace(settings, readonly=True))
    counts = {}
    for name in store.names():
        ids = [item_id for item_id, _ in store.items(name)]
        captioned = store.has_captions(name, _key(model))
        caption_count = len(store.vectors_of(name, _key(model), ids, captions=True))
        counts[name] = (len(ids), caption_count if captioned else -1)
    files = {
        str(path.relative_to(settings.data_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(settings.data_dir.rglob("*"))
        if path.is_file()
    }
    return counts, files


def _search(store: Store, model: Path, caption_weight: float) -> SearchResults:
    query = Query(text="a red square", caption_weight=caption_weight)
    return search(query, collection=OLD, model=str(model), settings=store.settings, store=store)


def test_a_search_ranks_by_image_alone_and_writes_nothing(
    old: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    before = _state(settings, tiny_clip_dir)
    for store in (Store(settings), Store(replace(settings, readonly=True))):
        image_only = _search(store, tiny_clip_dir, 0.0)
        asked = _search(store, tiny_clip_dir, 0.5)
        assert asked.caption_weight == 0.0
        assert [r["id"] for r in asked.rows] == [r["id"] for r in image_only.rows]
        assert [s for s in asked.notes if "caption vectors" in s] == [
            f"Collection {OLD!r} was indexed before caption vectors existed, so captions did "
            "not count (an index run, or the app's start-up when writable, embeds them)."
        ]
    assert _state(settings, tiny_clip_dir) == before


def test_a_read_only_multi_visitor_app_never_tries_to_write_them(
    old: Path, settings: Settings, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mmdemo.ui.actions.search import search as app_search
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.requests import SearchRequest

    attempts: list[str] = []
    monkeypatch.setattr(Store, "add_captions", lambda _, name, *__: attempts.append(name))
    public = replace(settings, readonly=True, multiuser=True)
    counts, _ = _state(settings, tiny_clip_dir)
    boot = Bootstrap(public, None, str(tiny_clip_dir))
    boot.start()
    boot.join()  # its start-up sweep compacts the database: bytes are compared after it
    assert boot.status().phase == "ready"
    assert _state(settings, tiny_clip_dir)[0] == counts
    before = _state(settings, tiny_clip_dir)
    ctx = AppContext(public, boot)
    values = {"collection": OLD, "text": "a red square", "model": str(tiny_clip_dir)}
    found = app_search(ctx, ctx.admit(SearchRequest, values | {"caption_weight": 0.5}, "v1"))

    assert found.results.caption_weight == 0.0 and found.records
    assert attempts == []
    assert _state(settings, tiny_clip_dir) == before


def test_the_next_index_run_embeds_each_caption_once(
    old: Path,
    settings: Settings,
    tmp_path: Path,
    tiny_clip_dir: Path,
    encoded_texts: list[str],
) -> None:
    more = write_images(tmp_path / "more", {"teal.png": (0, 128, 128)})
    assert _index(more, settings, tiny_clip_dir).added == 1
    assert sorted(encoded_texts) == sorted(CAPTIONS.values())
    counts, _ = _state(settings, tiny_clip_dir)
    assert counts == {OLD: (len(COLOURS) + 1, len(COLOURS))}  # the new image has no caption

    hybrid = _search(Store(settings), tiny_clip_dir, 0.5)
    assert hybrid.caption_weight == 0.5
    assert not [note for note in hybrid.notes if "caption vectors" in note]


def test_an_index_run_that_adds_nothing_embeds_them_too(
    old: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    report = _index(old, settings, tiny_clip_dir)
    assert (report.added, report.present) == (0, len(COLOURS))
    counts, _ = _state(settings, tiny_clip_dir)
    assert counts == {OLD: (len(COLOURS), len(COLOURS))}
    again = _state(settings, tiny_clip_dir)
    _index(old, settings, tiny_clip_dir)
    assert _state(settings, tiny_clip_dir)[0] == again[0]


def test_a_writable_start_up_embeds_them(
    old: Path, settings: Settings, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[str] = []
    original = Store.add_captions

    def recording(self: Store, collection: str, *args: Any) -> None:
        attempts.append(collection)
        original(self, collection, *args)

    monkeypatch.setattr(Store, "add_captions", recording)
    boot = Bootstrap(settings, None, str(tiny_clip_dir))
    boot.start()
    boot.join()
    assert boot.status().phase == "ready"
    assert attempts == [OLD]
    counts, _ = _state(settings, tiny_clip_dir)
    assert counts == {OLD: (len(COLOURS), len(COLOURS))}

    later = Bootstrap(settings, None, str(tiny_clip_dir))
    later.start()
    later.join()
    assert attempts == [OLD]  # a later start finds them there
