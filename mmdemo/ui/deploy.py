"""Where the app listens and keeps its data: local defaults, flags, env, Hugging Face Spaces.

Pure decisions over the environment, kept apart from gradio so they are easy to test.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mmdemo.errors import InputError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860
#: Persistent storage of a Space, when the Space has it enabled.
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


def resolve_deployment(
    env: Mapping[str, str],
    *,
    host: str | None = None,
    port: int | None = None,
    data_dir: str | None = None,
    spaces_storage: Path = SPACES_STORAGE,
) -> Deployment:
    """Decide host, port and data directory; flags win over ``MMDEMO_*`` variables.

    On Hugging Face Spaces (``SPACE_ID`` set) the app binds every interface; when the
    Space has persistent storage its data goes under ``/data/mmdemo`` and the Hugging Face
    model cache under ``/data/huggingface`` (unless ``HF_HOME`` is set), so neither is lost
    at a restart; without it, a note warns that uploads and downloads do not survive one.
    """
    on_spaces = bool(env.get("SPACE_ID"))
    chosen_host = host or env.get("MMDEMO_HOST") or ("0.0.0.0" if on_spaces else DEFAULT_HOST)
    chosen_port = _port(port if port is not None else env.get("MMDEMO_PORT") or DEFAULT_PORT)
    if not on_spaces:
        return Deployment(chosen_host, chosen_port, Path(data_dir) if data_dir else None)
    if not _writable_dir(spaces_storage):
        chosen = Path(data_dir) if data_dir else None
        return Deployment(chosen_host, chosen_port, chosen, (EPHEMERAL_NOTE,))
    hf_home = None if env.get("HF_HOME") else spaces_storage / SPACES_HF_HOME
    if data_dir or env.get("MMDEMO_DATA_DIR"):
        return Deployment(
            chosen_host, chosen_port, Path(data_dir) if data_dir else None, (), hf_home
        )
    return Deployment(chosen_host, chosen_port, spaces_storage / "mmdemo", (), hf_home)
