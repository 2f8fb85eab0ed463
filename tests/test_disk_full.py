"""A full disk, for real: a data dir on a small tmpfs, filled to the last byte.

Indexing then fails with one sentence (CLI: one line, exit 1; app: the same sentence),
while ``list``, ``search`` and ``gc`` keep working in fresh processes (each opens the
database, which needs a little room: the data dir's reserve gives it), and indexing works
again once space is freed. Needs ``mount -t tmpfs`` (root); skipped, saying so, elsewhere.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmdemo.config import Settings
from mmdemo.errors import OutOfSpaceError
from mmdemo.ingest.indexer import index_paths
from mmdemo.store import Store

from helpers import COLOURS, write_images

ROOT = Path(__file__).resolve().parents[1]
DISK_MB = 48


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A fresh tmpfs of DISK_MB megabytes, unmounted afterwards."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK_MB}m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Write a file until the disk holding ``folder`` has not one byte left."""
    filler = folder / "filler.bin"
    with filler.open("wb", buffering=0) as handle:
        for chunk in (1024 * 1024, 4096, 1):
            try:
                while True:
                    handle.write(bytes(chunk))
            except OSError:
                continue
    assert os.statvfs(folder).f_bavail == 0
    return filler


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mmdemo ARGS --data-dir DATA --json`` in a fresh process."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mmdemo", *args, "--data-dir", str(data_dir), "--json"],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip


@pytest.mark.timeout(900)
def test_a_full_disk_refuses_writes_in_one_sentence_and_keeps_reads_working(
    small_disk: Path, tmp_path: Path, tiny_clip_dir: Path
) -> None:
    data = small_disk / "data"
    model = str(tiny_clip_dir)
    first = write_images(tmp_path / "first", dict(list(COLOURS.items())[:3]))
    later = write_images(tmp_path / "later", dict(list(COLOURS.items())[3:]))
    assert cli(data, "index", str(first), "--collection", "c", "--model", model).returncode == 0
    (data / "images" / "stray.png").write_bytes(b"left by a killed ingest")
    filler = fill(small_disk)

    refused = cli(data, "index", str(later), "--collection", "c", "--model", model)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [
        "error: The server is out of disk space, so nothing more can be stored now: free "
        "some space or delete collections (the operator can also run "
        "`python -m mmdemo gc --apply`)."
    ]
    listed = cli(data, "list")
    assert listed.returncode == 0, listed.stderr
    assert [(c["collection"], c["images"]) for c in json.loads(listed.stdout)] == [("c", 3)]
    found = cli(data, "search", "--collection", "c", "--text", "red", "--model", model)
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)["results"]) == 3
    swept = cli(data, "gc", "--apply")
    assert swept.returncode == 0, swept.stderr
    assert json.loads(swept.stdout)["files"] == ["images/stray.png"]

    settings = Settings(data_dir=data, device="cpu")  # the app's library calls, in-process
    with pytest.raises(OutOfSpaceError, match="The server is out of disk space"):
        index_paths(
            [later], collection="c", models=[model], settings=settings, store=Store(settings)
        )

    filler.unlink()
    again = cli(data, "index", str(later), "--collection", "c", "--model", model)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["added"] == len(COLOURS) - 3
    assert (data / "space.reserve").exists()  # kept again for the next time
