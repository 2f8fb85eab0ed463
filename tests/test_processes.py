"""One data dir, many processes: CLI writes seen by a long-lived store, kill -9, gc, locks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from filelock import FileLock

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.crashpoint import POINTS
from mmdemo.ingest.indexer import index_paths
from mmdemo.manage import sweep_orphans
from mmdemo.models.loading import load_embedder
from mmdemo.models.registry import resolve
from mmdemo.store import Store

from helpers import COLOURS, write_images

ROOT = Path(__file__).resolve().parents[1]
FIRST = dict(list(COLOURS.items())[:3])
LATER = dict(list(COLOURS.items())[3:])


def cli(
    data_dir: Path, *args: str, crash_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m mmdemo ARGS --data-dir DATA --json`` in its own process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("MMDEMO_CRASH_AT", None)
    if crash_at:
        env["MMDEMO_CRASH_AT"] = crash_at
    return subprocess.run(
        [sys.executable, "-m", "mmdemo", *args, "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def cli_json(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> object:
    """The CLI's JSON answer, run in this process (start-up costs seconds per subprocess)."""
    assert main([*args, "--data-dir", str(data_dir), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu")


def test_cli_index_is_found_by_a_long_lived_store(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    model = str(tiny_clip_dir)
    key = resolve(model, "embedder").key
    store = Store(settings)
    index_paths(
        [write_images(tmp_path / "first", FIRST)],
        collection="shared",
        models=[model],
        settings=settings,
        store=store,
    )
    _, vectors = store.embeddings("shared", key)
    assert len(store.query("shared", key, vectors[0], k=10)) == len(FIRST)  # index in memory

    later = write_images(tmp_path / "later", LATER)
    done = cli(settings.data_dir, "index", str(later), "--collection", "shared", "--model", model)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == len(LATER)

    all_ids, all_vectors = store.embeddings("shared", key)
    assert len(all_ids) == len(COLOURS)
    for item_id, vector in zip(all_ids, all_vectors, strict=True):
        hits = store.query("shared", key, vector, k=len(COLOURS))
        assert len(hits) == len(COLOURS)
        assert hits[0].id == item_id


def test_a_write_waits_for_another_processes_write_lock(
    settings: Settings, tiny_clip_dir: Path
) -> None:
    store = Store(settings)
    embedder = load_embedder(str(tiny_clip_dir), settings)
    vectors = embedder.encode_texts(["one", "two"])
    finished = threading.Event()

    def write() -> None:
        store.add("locked", embedder.key, ["a", "b"], vectors, [{}, {}])
        finished.set()

    settings.locks_dir.mkdir(parents=True, exist_ok=True)
    holder = FileLock(settings.locks_dir / "store.lock", thread_local=False)
    with holder:
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=1.0)
        assert not finished.is_set(), "the write went ahead while another writer held the lock"
    writer.join(timeout=120)
    assert finished.is_set()
    assert store.models("locked") == {embedder.key: 2}


def referenced_files(settings: Settings, store: Store) -> set[Path]:
    files: set[Path] = set()
    for info in store.collections():
        for item_id, meta in store.items(info.name):
            files.add(settings.images_dir / meta["image_file"])
            files.add(settings.thumbs_dir / f"{item_id}.jpg")
    return files


@pytest.mark.parametrize("point", POINTS)
def test_killed_index_leaves_a_state_that_gc_and_reindex_clean(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    settings: Settings,
    tiny_clip_dir: Path,
    point: str,
) -> None:
    model = str(tiny_clip_dir)
    data = settings.data_dir
    folder = write_images(tmp_path / "photos", COLOURS)
    killed = cli(data, "index", str(folder), "--collection", "k", "--model", model, crash_at=point)
    assert killed.returncode == -9, killed.stderr

    listing = cli_json(capsys, data, "list")
    assert isinstance(listing, list)
    assert all(entry["images"] > 0 for entry in listing)  # never an empty collection
    if point in ("copy-write", "after-copy", "collection-created"):
        assert listing == []
    stored = Store(settings)
    kept = referenced_files(settings, stored)
    assert all(path.exists() for path in kept)
    dry = cli_json(capsys, data, "gc")
    assert isinstance(dry, dict) and dry["applied"] is False
    would = {data / name for name in dry["files"]}
    assert not would & kept
    if point in ("copy-write", "after-copy"):
        assert would, "the killed ingest left files behind, gc should list them"
    if point == "copy-write":
        assert any(path.suffix == ".part" for path in would)
    assert all(path.exists() for path in would)  # a dry run removes nothing

    applied = cli_json(capsys, data, "gc", "--apply")
    assert isinstance(applied, dict) and set(applied["files"]) == set(dry["files"])
    assert not any(path.exists() for path in would)

    report = cli_json(capsys, data, "index", str(folder), "--collection", "k", "--model", model)
    assert isinstance(report, dict) and report["rejected"] == []
    assert report["added"] + report["present"] == len(COLOURS)
    assert cli_json(capsys, data, "gc") == {"applied": False, "files": []}
    [info] = Store(settings).collections()
    assert (info.name, info.images) == ("k", len(COLOURS))
    assert not list(settings.locks_dir.glob("ingest-*.lock"))


def test_sweep_never_removes_a_referenced_file(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    store = Store(settings)
    index_paths(
        [write_images(tmp_path / "p", COLOURS)],
        collection="c",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=store,
    )
    stray = settings.images_dir / "stray.png"
    stray.write_bytes(b"x")
    assert sweep_orphans(settings, store, apply=True) == [stray]
    assert all(path.exists() for path in referenced_files(settings, store))
    assert len(referenced_files(settings, store)) == 2 * len(COLOURS)
