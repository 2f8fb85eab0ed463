"""The one atomic write (mmdemo.atomic) and the stored-file write built on it (store.space)."""

from __future__ import annotations

import errno
import threading
from pathlib import Path

import pytest

from mmdemo import atomic
from mmdemo.atomic import write_atomically
from mmdemo.config import Settings
from mmdemo.errors import OutOfSpaceError
from mmdemo.store.space import write_stored
from mmdemo.text import persist


def _recording(seen: list[Path], data: bytes = b"new") -> atomic.Content:
    def write(path: Path) -> None:
        seen.append(path)
        path.write_bytes(data)

    return write


def test_bytes_and_text_land_under_the_target_and_its_folder_is_made(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "file.json"
    write_atomically(target, "é\n")
    assert target.read_text(encoding="utf-8") == "é\n"
    write_atomically(target, b"\x00\x01")
    assert target.read_bytes() == b"\x00\x01"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.json"]


def test_two_writers_of_one_target_write_their_own_temporaries_at_once(tmp_path: Path) -> None:
    target = tmp_path / "shared.bin"
    both_written = threading.Barrier(2, timeout=30)
    seen: list[Path] = []

    def writer(data: bytes) -> None:
        def write(path: Path) -> None:
            seen.append(path)
            path.write_bytes(data)
            both_written.wait()  # each holds its temporary until the other has written
            assert path.read_bytes() == data

        write_atomically(target, write)

    threads = [threading.Thread(target=writer, args=(d,)) for d in (b"one", b"two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(seen) == 2 and seen[0] != seen[1]
    assert all(path.parent == tmp_path and path.suffix == ".tmp" for path in seen)
    assert target.read_bytes() in (b"one", b"two")
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]


def test_a_failing_writer_leaves_the_target_as_it_was_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "kept.txt"
    target.write_text("old", encoding="utf-8")

    def failing(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise OSError(errno.EIO, "device error")

    with pytest.raises(OSError, match="device error"):
        write_atomically(target, failing)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["kept.txt"]


def test_fsync_and_the_crash_point_come_between_the_write_and_the_rename(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "version"
    steps: list[str] = []

    def synced(handle: int) -> None:
        steps.append("fsync")

    def crash(name: str) -> None:
        steps.append(f"crash {name} before rename: {not target.exists()}")

    monkeypatch.setattr(atomic.os, "fsync", synced)
    monkeypatch.setattr(atomic, "crash_point", crash)
    write_atomically(target, "3\n", fsync=True, crash_at="copy-write")
    assert steps == ["fsync", "crash copy-write before rename: True"]
    assert target.read_text(encoding="utf-8") == "3\n"
    steps.clear()
    write_atomically(target, "4\n")
    assert steps == []


def test_a_stored_file_is_written_through_a_part_temporary(tmp_path: Path) -> None:
    seen: list[Path] = []
    write_stored(tmp_path / "images" / "abc.jpg", _recording(seen))
    assert seen[0].suffix == ".part"  # what gc removes and the re-scrub skips
    assert [p.name for p in (tmp_path / "images").iterdir()] == ["abc.jpg"]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT])
def test_a_full_disk_stops_a_stored_write_with_out_of_space(tmp_path: Path, code: int) -> None:
    target = tmp_path / "thumbs" / "abc.jpg"
    target.parent.mkdir()
    target.write_bytes(b"old")

    def full(path: Path) -> None:
        path.write_bytes(b"ha")
        raise OSError(code, "No space left on device")

    with pytest.raises(OutOfSpaceError):
        write_stored(target, full)
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["abc.jpg"]


def test_another_error_of_a_stored_write_stays_what_it_was(tmp_path: Path) -> None:
    def denied(path: Path) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    with pytest.raises(PermissionError):
        write_stored(tmp_path / "abc.jpg", denied)


def test_gc_finds_what_a_killed_lexical_write_leaves(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    seen: list[Path] = []
    write_atomically(persist.lexical_dir(settings) / "shop-1.json", _recording(seen))
    seen[0].write_bytes(b"{")  # as a kill before the rename leaves it
    assert seen[0] in persist.orphans(settings, {"shop"})


def test_only_old_temporaries_count_as_abandoned(tmp_path: Path) -> None:
    seen: list[Path] = []
    write_atomically(tmp_path / "maps" / "m.json", _recording(seen))
    left = seen[0]
    left.write_bytes(b"{")  # as a kill before the rename leaves it
    (tmp_path / "maps" / "notes.tmp").write_bytes(b"")  # not a name write_atomically makes
    now = left.stat().st_mtime
    assert atomic.abandoned(tmp_path / "maps", now) == []  # a writer may be about to rename
    assert atomic.abandoned(tmp_path / "maps", now + atomic.ABANDONED_S) == [left]
    assert atomic.abandoned(tmp_path / "nowhere") == []
