"""Which file system a path lives on, and whether Chroma's local SQLite store is safe there.

A Hugging Face Space gets persistent storage by mounting a Storage Bucket as a volume
(hf-mount: FUSE or NFS), not a local disk; SQLite's locks are unreliable on network file
systems, so ``doctor`` names the mount under the data dir and the store layout that is
safe on it (docs/deployment.md, "Spaces storage today"). Reads ``/proc/self/mounts``
only: where there is none (not Linux) every path counts as a local disk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MOUNTS_FILE = Path("/proc/self/mounts")
#: File-system types (before any ".subtype", e.g. "fuse.hf-mount") that are not a local disk.
NETWORK_TYPES = frozenset({"fuse", "fuseblk", "nfs", "nfs4", "cifs", "smb3", "9p", "virtiofs"})
#: Pseudo file systems that never hold a volume.
_SYSTEM_POINTS = ("/proc", "/sys", "/dev", "/run")


@dataclass(frozen=True)
class Mount:
    """One line of ``/proc/self/mounts``."""

    source: str
    point: str
    fstype: str

    @property
    def network(self) -> bool:
        """Whether this is a network or FUSE mount (a bucket volume), not a local disk."""
        return self.fstype.split(".", 1)[0] in NETWORK_TYPES


def _unescape(field: str) -> str:
    """The kernel writes space, tab, newline and backslash in mount fields as octal."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def read_mounts(text: str | None = None) -> list[Mount]:
    """The mounts in ``text`` (default: this process's ``/proc/self/mounts``; none if absent)."""
    if text is None:
        try:
            text = MOUNTS_FILE.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 3:
            mounts.append(Mount(*(_unescape(f) for f in fields[:3])))
    return mounts


def mount_of(path: Path, mounts: list[Mount]) -> Mount | None:
    """The mount that holds ``path`` (the deepest mount point above it), or None."""
    target = path.resolve()
    holding = [m for m in mounts if target.is_relative_to(m.point)]
    return max(holding, key=lambda m: len(Path(m.point).parts), default=None)


def volumes(mounts: list[Mount]) -> list[Mount]:
    """Network or FUSE mounts outside the system trees: where a Space's bucket volume is."""
    return [m for m in mounts if m.network and not m.point.startswith(_SYSTEM_POINTS)]


def store_layout(data_dir: Path, chroma_url: str | None, mounts: list[Mount]) -> str:
    """One sentence: where the Chroma store lives and whether that layout is safe."""
    if chroma_url:
        return f"Chroma server at {chroma_url}: safe for several writers"
    mount = mount_of(data_dir, mounts)
    if mount is not None and mount.network:
        return (
            f"local Chroma (SQLite) on a network mount ({mount.fstype} at {mount.point}): "
            "safe for one writer only (this app; no CLI index from elsewhere); for several, "
            "run a Chroma server and set MMDEMO_CHROMA_URL"
        )
    where = f" ({mount.fstype} at {mount.point})" if mount is not None else ""
    return f"local Chroma (SQLite) on a local disk{where}: safe"
