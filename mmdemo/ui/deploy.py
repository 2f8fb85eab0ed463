"""Where the app listens and keeps its data: local defaults, flags, env, Hugging Face Spaces.

Pure decisions over the environment and the mount table, kept apart from gradio so they
are easy to test. A Space's persistent storage is a Storage Bucket mounted as a volume
(since 2026-04, at a path the owner picks: ``hf spaces volumes set ... -v
hf://buckets/OWNER/BUCKET:/data``) or the older persistent-storage tier at ``/data``: the
app uses ``/data`` when it is writable, else the first writable bucket volume it finds in
``/proc/self/mounts`` (:func:`mmdemo.mounts.volumes`), wherever it is mounted.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mmdemo import mounts
from mmdemo.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: Where a Space's persistent storage usually is: the older tier, and the usual volume path.
SPACES_STORAGE = Path("/data")
#: Where the Hugging Face cache goes on persistent storage, so models survive a restart.
SPACES_HF_HOME = "huggingface"
EPHEMERAL_NOTE = (
    "This Space has no persistent storage: collections you upload are lost when it restarts, "
    "and models are downloaded again after each restart."
)


@dataclass(frozen=True)
class Deployment:
    """Host and port to bind, the data directory (None: the settings default), notes to
    show, and the Hugging Face cache folder to use (None: leave ``HF_HOME`` as it is)."""

    host: str
    port: int
    data_dir: Path | None
    notes: tuple[str, ...] = ()
    hf_home: Path | None = None


def _port(value: str | int) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 < port < 65536:
        raise InputError(f"Port {value!r} is not valid: use a number from 1 to 65535.")
    return port


def _writable_dir(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def persistent_storage(spaces_storage: Path, mount_table: list[mounts.Mount]) -> Path | None:
    """Where a Space keeps files across restarts: ``spaces_storage`` (``/data``) when it
    is a writable folder, else the first writable bucket volume in ``mount_table``; None
    when the Space has neither."""
    if _writable_dir(spaces_storage):
        return spaces_storage
    points = (Path(volume.point) for volume in mounts.volumes(mount_table))
    return next((point for point in points if _writable_dir(point)), None)


def resolve_deployment(
    env: Mapping[str, str],
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: str | None = None,
    spaces_storage: Path = SPACES_STORAGE,
    mount_table: list[mounts.Mount] | None = None,
) -> Deployment:
    """Decide host, port and data directory; flags win over ``MMDEMO_*`` variables.

    On Hugging Face Spaces (``SPACE_ID`` set) the app binds every interface; when the
    Space has persistent storage (:func:`persistent_storage`; ``mount_table`` None: this
    process's mounts) its data goes under ``<storage>/mmdemo`` and the Hugging Face model
    cache under ``<storage>/huggingface`` (unless ``HF_HOME`` is set), so neither is lost
    at a restart; without it, a note warns that uploads and downloads do not survive one.
    """
    on_spaces = bool(env.get("SPACE_ID"))
    chosen_host = host or env.get("MMDEMO_HOST") or ("0.0.0.0" if on_spaces else DEFAULT_HOST)
    chosen_port = _port(port if port is not None else env.get("MMDEMO_PORT") or DEFAULT_PORT)
    if not on_spaces:
        return Deployment(chosen_host, chosen_port, Path(data_dir) if data_dir else None)
    table = mounts.read_mounts() if mount_table is None else mount_table
    storage = persistent_storage(spaces_storage, table)
    if storage is None:
        chosen = Path(data_dir) if data_dir else None
        return Deployment(chosen_host, chosen_port, chosen, (EPHEMERAL_NOTE,))
    hf_home = None if env.get("HF_HOME") else storage / SPACES_HF_HOME
    if data_dir or env.get("MMDEMO_DATA_DIR"):
        return Deployment(
            chosen_host, chosen_port, Path(data_dir) if data_dir else None, (), hf_home
        )
    return Deployment(chosen_host, chosen_port, storage / "mmdemo", (), hf_home)
