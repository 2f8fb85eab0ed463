"""mmdemo.mounts: a bucket volume (FUSE/NFS) is found wherever it is mounted, and the
Chroma layout named as safe follows the file system under the data dir."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmdemo import doctor, mounts
from mmdemo.config import Settings

# As a Space with a bucket mounted shows it (hf-mount over FUSE), plus an escaped space.
SPACE_MOUNTS = """overlay / overlay rw,relatime 0 0
proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
fusectl /sys/fs/fuse/connections fusectl rw 0 0
hf-mount /mnt/my\\040bucket fuse rw,nosuid,nodev,relatime,user_id=0,group_id=0 0 0
/dev/sda1 /home/user/app ext4 rw,relatime 0 0
"""


def test_mounts_are_parsed_and_a_bucket_volume_is_found_off_data() -> None:
    found = mounts.read_mounts(SPACE_MOUNTS)
    assert [m.point for m in mounts.volumes(found)] == ["/mnt/my bucket"]
    on_bucket = mounts.mount_of(Path("/mnt/my bucket/mmdemo"), found)
    on_disk = mounts.mount_of(Path("/home/user/app/data"), found)
    assert on_bucket is not None and (on_bucket.fstype, on_bucket.network) == ("fuse", True)
    assert on_disk is not None and (on_disk.point, on_disk.network) == ("/home/user/app", False)


def test_store_layout_follows_the_file_system_under_the_data_dir() -> None:
    found = mounts.read_mounts(SPACE_MOUNTS)
    on_bucket = mounts.store_layout(Path("/mnt/my bucket/mmdemo"), None, found)
    assert on_bucket.startswith("local Chroma (SQLite) on a network mount (fuse at /mnt/my bucket)")
    assert "one writer only" in on_bucket and "MMDEMO_CHROMA_URL" in on_bucket
    local = mounts.store_layout(Path("/home/user/app/data"), None, found)
    assert local == "local Chroma (SQLite) on a local disk (ext4 at /home/user/app): safe"
    server = mounts.store_layout(Path("/mnt/my bucket/mmdemo"), "http://chroma:8000", found)
    assert server == "Chroma server at http://chroma:8000: safe for several writers"
    unknown = mounts.store_layout(Path("/x"), None, [])  # no /proc/self/mounts
    assert unknown == "local Chroma (SQLite) on a local disk: safe"


def test_doctor_on_a_space_counts_a_bucket_volume_as_persistent_wherever_mounted(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bucket = tmp_path / "bucket"
    table = f"overlay / overlay rw 0 0\nhf-mount {bucket} fuse.hf-mount rw 0 0\n"
    real = mounts.read_mounts
    monkeypatch.setattr(mounts, "read_mounts", lambda text=None: real(table))
    monkeypatch.setenv("SPACE_ID", "me/demo")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    on_bucket = doctor.diagnose(Settings(data_dir=bucket / "mmdemo", device="cpu"))
    assert on_bucket.data_persistent
    assert "network mount (fuse.hf-mount at " in on_bucket.store_layout
    elsewhere = doctor.diagnose(Settings(data_dir=tmp_path / "local", device="cpu"))
    assert not elsewhere.data_persistent
    assert elsewhere.store_layout.startswith("local Chroma (SQLite) on a local disk")
