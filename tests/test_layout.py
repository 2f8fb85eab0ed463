"""The data dir's layout version (mmdemo/store/layout.py): an old data dir is migrated once
at open with nothing lost, a newer one is refused untouched, a fresh one is stamped, and a
migration a crash stopped midway is finished by the next open."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from mmdemo.config import Settings
from mmdemo.errors import DataDirError, ReadOnlyError
from mmdemo.ingest.indexer import index_paths
from mmdemo.rerank_features.rows import FeatureStore
from mmdemo.store import Store
from mmdemo.store.layout import CURRENT, MIGRATIONS, VERSION_FILE, ensure_current, read_version

from helpers import COLOURS, write_images

ROOT = Path(__file__).resolve().parents[1]
ROW_LAYOUT = "lite0 views=1"


def _old_data_dir(tmp_path: Path, model: Path) -> tuple[Settings, dict[str, Any]]:
    """A data dir as mmdemo wrote it before layout versions (version 1), and what it stores:
    items indexed with captions, feature rows under ``features/lite/<id[:2]>/`` beside a
    ``LAYOUT`` file, rows of a reranker from before layouts were named, no version file."""
    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    photos = write_images(tmp_path / "photos", COLOURS)
    captions = tmp_path / "captions.csv"
    names = {"file_name": list(COLOURS), "caption": [f"a {n[:-4]} square" for n in COLOURS]}
    pd.DataFrame(names).to_csv(captions, index=False)
    store = Store(settings)
    index_paths(
        [photos],
        collection="c",
        models=[str(model)],
        settings=settings,
        store=store,
        captions=captions,
    )
    stored = _stored(store, str(model))
    lite = settings.data_dir / "features" / "lite"
    for n, item_id in enumerate(stored["items"]):
        (lite / item_id[:2]).mkdir(parents=True, exist_ok=True)
        np.save(lite / item_id[:2] / f"{item_id}.npy", np.full(4, n, dtype=np.float32))
    (lite / "LAYOUT").write_text(ROW_LAYOUT, encoding="utf-8")
    unnamed = settings.data_dir / "features" / "older" / "ab"
    unnamed.mkdir(parents=True)
    np.save(unnamed / "ab12.npy", np.zeros(4, dtype=np.float32))
    (settings.data_dir / VERSION_FILE).unlink()
    return settings, stored


def _stored(store: Store, model: str) -> dict[str, Any]:
    """Everything a user keeps in the data dir: items, image and caption vectors, files."""
    settings = store.settings
    items = dict(store.items("c"))
    ids = sorted(items)
    vectors = store.vectors_of("c", model, ids)
    captions = store.vectors_of("c", model, ids, captions=True)
    return {
        "items": items,
        "vectors": {i: vectors[i].tolist() for i in ids},
        "captions": {i: captions[i].tolist() for i in ids},
        "files": sorted(
            (str(p.relative_to(settings.data_dir)), p.read_bytes())
            for folder in (settings.images_dir, settings.thumbs_dir)
            for p in folder.rglob("*")
            if p.is_file()
        ),
    }


def _files(data_dir: Path) -> dict[str, bytes]:
    """Every file under ``data_dir`` with its bytes."""
    return {
        str(p.relative_to(data_dir)): p.read_bytes() for p in data_dir.rglob("*") if p.is_file()
    }


def _assert_migrated(settings: Settings, before: dict[str, Any], model: Path) -> None:
    """The data dir is at the current version and holds all it held, rows included."""
    after = _stored(Store(settings), str(model))
    assert read_version(settings.data_dir) == CURRENT
    assert after == before and len(after["items"]) == len(COLOURS)
    assert len(after["captions"]) == len(COLOURS)
    features = FeatureStore(settings, "lite", ROW_LAYOUT)
    rows = features.load(list(before["items"]))
    assert {i: r.tolist() for i, r in rows.items()} == {
        item_id: [float(n)] * 4 for n, item_id in enumerate(before["items"])
    }
    lite = settings.data_dir / "features" / "lite"
    assert [p.name for p in lite.iterdir()] == [features.folder.name]  # the LAYOUT file went
    assert not list((settings.data_dir / "features" / "older").rglob("*.npy"))


def test_an_old_data_dir_is_migrated_at_open_with_nothing_lost(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    settings, before = _old_data_dir(tmp_path, tiny_clip_dir)
    assert read_version(settings.data_dir) is None
    _assert_migrated(settings, before, tiny_clip_dir)


def test_a_fresh_data_dir_is_stamped_without_migrating(tmp_path: Path) -> None:
    def never(settings: Settings) -> None:
        raise AssertionError("a fresh data dir has nothing to migrate")

    settings = Settings(data_dir=tmp_path / "new")
    ensure_current(settings, (never, never))
    assert read_version(settings.data_dir) == 3
    Store(Settings(data_dir=tmp_path / "other"))
    assert read_version(tmp_path / "other") == CURRENT == len(MIGRATIONS) + 1


def test_a_data_dir_of_a_newer_mmdemo_is_refused_untouched(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    settings, _ = _old_data_dir(tmp_path, tiny_clip_dir)
    (settings.data_dir / VERSION_FILE).write_text(f"{CURRENT + 1}\n", encoding="ascii")
    files = _files(settings.data_dir)
    with pytest.raises(
        DataDirError, match=r"newer mmdemo \(layout version \d+; this one reads up to"
    ):
        Store(settings)
    (settings.data_dir / VERSION_FILE).write_text("garbage", encoding="ascii")
    with pytest.raises(DataDirError, match="not a version number"):
        Store(settings)
    (settings.data_dir / VERSION_FILE).write_text(f"{CURRENT + 1}\n", encoding="ascii")
    assert _files(settings.data_dir) == files


def test_a_read_only_store_never_migrates(tmp_path: Path, tiny_clip_dir: Path) -> None:
    settings, _ = _old_data_dir(tmp_path, tiny_clip_dir)
    files = _files(settings.data_dir)
    with pytest.raises(ReadOnlyError, match="open it once without MMDEMO_READONLY"):
        Store(Settings(data_dir=settings.data_dir, readonly=True))
    assert _files(settings.data_dir) == files
    ensure_current(Settings(data_dir=tmp_path / "missing", readonly=True))
    assert not (tmp_path / "missing").exists()


def _run(script: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    """A Python process running ``script`` from the repository root."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_processes_opening_an_old_data_dir_at_once_migrate_it_once(tmp_path: Path) -> None:
    """Four processes wait for one signal, then open the same version 1 data dir; the slow
    migration step runs in one of them, and every one returns with it done."""
    data, go = tmp_path / "data", tmp_path / "go"
    (data / "images").mkdir(parents=True)
    script = f"""
        import os, pathlib, time
        from mmdemo.config import Settings
        from mmdemo.store.layout import ensure_current

        def step(settings):
            "Count the runs: one line per process that ran it."
            time.sleep(0.5)
            with open({str(tmp_path / "runs")!r}, "a") as log:
                log.write(f"{{os.getpid()}}\\n")

        while not pathlib.Path({str(go)!r}).exists():
            time.sleep(0.01)
        ensure_current(Settings(data_dir=pathlib.Path({str(data)!r})), (step,))
    """
    processes = [_run(script) for _ in range(4)]
    go.touch()
    for process in processes:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert len((tmp_path / "runs").read_text().splitlines()) == 1
    assert read_version(data) == 2


def test_an_exception_midway_leaves_a_data_dir_the_next_open_finishes(tmp_path: Path) -> None:
    """Step 2 fails after half its work: the version says step 1 is done, and the next
    open runs step 2 again, over its own half-done work, to the end."""
    settings = Settings(data_dir=tmp_path / "data")
    (settings.data_dir / "images").mkdir(parents=True)
    done: list[str] = []

    def first(settings: Settings) -> None:
        done.append("first")

    def second_fails(settings: Settings) -> None:
        (settings.data_dir / "half").write_text("half", encoding="utf-8")
        raise OSError("disk went away")

    def second(settings: Settings) -> None:
        (settings.data_dir / "half").write_text("whole", encoding="utf-8")
        done.append("second")

    with pytest.raises(OSError, match="disk went away"):
        ensure_current(settings, (first, second_fails))
    assert read_version(settings.data_dir) == 2
    ensure_current(settings, (first, second))
    assert read_version(settings.data_dir) == 3 and done == ["first", "second"]
    assert (settings.data_dir / "half").read_text(encoding="utf-8") == "whole"


def test_kill_9_midway_through_moving_feature_rows_then_reopen_completes(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    settings, before = _old_data_dir(tmp_path, tiny_clip_dir)
    script = f"""
        import pathlib
        from mmdemo.config import Settings
        from mmdemo.store import Store
        Store(Settings(data_dir=pathlib.Path({str(settings.data_dir)!r}), device="cpu"))
    """
    killed = _run(script, {"MMDEMO_CRASH_AT": "migration-step"})
    _, err = killed.communicate(timeout=120)
    assert killed.returncode == -9, err
    assert read_version(settings.data_dir) is None
    lite = settings.data_dir / "features" / "lite"
    shards = {item_id[:2] for item_id in before["items"]}
    assert (lite / "LAYOUT").exists() and len(list(lite.glob("??"))) == len(shards) - 1
    _assert_migrated(settings, before, tiny_clip_dir)


def test_derived_caches_written_under_format_numbers_are_removed(tmp_path: Path) -> None:
    """Version 2 -> 3: maps, fingerprints and atlases named with a format number go (they
    are rebuilt when next used); nothing else in the data dir is touched."""
    settings = Settings(data_dir=tmp_path / "data")
    Store(settings)  # a data dir at the current version, holding a database
    old = {"maps/c-abc-v2.json": b"{}", "fingerprints/dct-v1.json": b"{}", "atlases/x.jpg": b"j"}
    for name, data in old.items():
        (settings.data_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (settings.data_dir / name).write_bytes(data)
    (settings.data_dir / VERSION_FILE).write_text("2\n", encoding="ascii")
    kept = {
        k: v
        for k, v in _files(settings.data_dir).items()
        if k.split("/")[0] not in ("maps", "fingerprints", "atlases", VERSION_FILE)
    }
    ensure_current(settings)
    assert read_version(settings.data_dir) == CURRENT
    after = _files(settings.data_dir)
    assert not set(old) & set(after)
    assert {k: after[k] for k in kept} == kept
