"""Hugging Face Spaces as they are now: persistent storage found where the bucket volume is
mounted (faked mount tables), and ``doctor`` naming the Space's hardware tier (faked
Spaces variables)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmdemo.doctor import space_hardware
from mmdemo.mounts import Mount, read_mounts
from mmdemo.ui.deploy import EPHEMERAL_NOTE, resolve_deployment

from helpers import _doctor

SPACE = {"SPACE_ID": "me/demo"}


def _bucket(point: Path, fstype: str = "fuse.hf-mount") -> list[Mount]:
    """A mount table as on a Space: the root overlay, /proc, and a bucket volume."""
    text = (
        "overlay / overlay rw,relatime 0 0\n"
        "proc /proc proc rw,nosuid 0 0\n"
        f"hf-mount {str(point).replace(' ', chr(92) + '040')} {fstype} rw,nosuid 0 0\n"
    )
    return read_mounts(text)


def test_a_bucket_volume_mounted_anywhere_is_the_persistent_storage(tmp_path: Path) -> None:
    """No /data, a bucket mounted at /mnt/my bucket: data and the model cache go there."""
    volume = tmp_path / "my bucket"
    volume.mkdir()
    table = _bucket(volume)
    found = resolve_deployment(SPACE, spaces_storage=tmp_path / "no-data", mount_table=table)
    assert found.data_dir == volume / "mmdemo"
    assert found.hf_home == volume / "huggingface"
    assert found.notes == ()
    nfs = resolve_deployment(
        SPACE, spaces_storage=tmp_path / "no-data", mount_table=_bucket(volume, "nfs4")
    )
    assert nfs.data_dir == volume / "mmdemo"


def test_data_wins_and_local_or_missing_mounts_are_no_volume(tmp_path: Path) -> None:
    """A writable /data is used first; a local-disk mount or a volume whose folder is
    missing is not persistent storage, so the page warns that uploads are lost."""
    data, volume = tmp_path / "data", tmp_path / "bucket"
    data.mkdir()
    volume.mkdir()
    first = resolve_deployment(SPACE, spaces_storage=data, mount_table=_bucket(volume))
    assert first.data_dir == data / "mmdemo"
    for table in (_bucket(volume, "ext4"), _bucket(tmp_path / "gone"), []):
        lost = resolve_deployment(SPACE, spaces_storage=tmp_path / "no-data", mount_table=table)
        assert lost.data_dir is None
        assert lost.notes == (EPHEMERAL_NOTE,)
    local = resolve_deployment({}, spaces_storage=data, mount_table=_bucket(volume))
    assert local.data_dir is None and local.hf_home is None


@pytest.mark.parametrize(
    ("env", "zero_gpu", "gpu", "words"),
    [
        ({"CPU_CORES": "2", "MEMORY": "16Gi"}, False, "", "CPU Basic (2 vCPU, 16Gi memory)"),
        ({"CPU_CORES": "8", "MEMORY": "32Gi"}, False, "", "CPU Upgrade (8 vCPU, 32Gi memory)"),
        (
            {"CPU_CORES": "4", "MEMORY": "15Gi"},
            False,
            "Tesla T4",
            "Nvidia T4 small (4 vCPU, 15Gi memory)",
        ),
        (
            {"CPU_CORES": "4", "MEMORY": "15Gi"},
            False,
            "NVIDIA A10G",
            "Nvidia A10G small (4 vCPU, 15Gi memory)",
        ),
        (
            {"CPU_CORES": "3", "MEMORY": "7Gi"},
            False,
            "",
            "3 vCPU, 7Gi memory: no tier of the Spaces table matches",
        ),
        ({"CPU_CORES": "2"}, False, "", "unknown: CPU_CORES and MEMORY, which Spaces sets"),
        ({}, True, "", "ZeroGPU (SPACES_ZERO_GPU is set)"),
    ],
)
def test_the_hardware_tier_is_named_from_the_spaces_variables(
    env: dict[str, str], zero_gpu: bool, gpu: str, words: str
) -> None:
    named = space_hardware({**SPACE, **env}, zero_gpu, gpu)
    assert named is not None and named.startswith(words), named


def test_doctor_names_the_tier_on_a_space_only(tmp_path: Path) -> None:
    assert space_hardware({"CPU_CORES": "2", "MEMORY": "16Gi"}, False) is None
    run = _doctor("--data-dir", str(tmp_path), CPU_CORES="2", MEMORY="16Gi", **SPACE)
    assert run.returncode == 0, run.stderr
    assert "hardware: CPU Basic (2 vCPU, 16Gi memory)" in run.stdout.splitlines()
    off = _doctor("--data-dir", str(tmp_path), CPU_CORES="2", MEMORY="16Gi")
    assert not any(line.startswith("hardware:") for line in off.stdout.splitlines())
