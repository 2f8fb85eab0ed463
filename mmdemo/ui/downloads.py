"""The app's download area: result CSVs written to fresh folders of a temporary directory,
and removed a few minutes later (gradio serves its own copy)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from mmdemo.export import Rows, write_csv

if TYPE_CHECKING:
    import pandas as pd

#: How long a results CSV stays in the app's download area (gradio keeps its own copy).
DOWNLOAD_TTL_S = 600
#: How often that area is scanned for expired CSVs: a scan stats one folder per search of
#: the last DOWNLOAD_TTL_S, too much work to repeat on every search of a busy server.
PRUNE_EVERY_S = 60


class Downloads:
    """One running app's download area (safe to share between threads)."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mmdemo-ui-"))
        self._lock = threading.Lock()
        self._next_prune = 0.0

    def write_csv(self, table: pd.DataFrame | Rows, name: str) -> Path:
        """Save ``table`` as ``name`` (neutralised, see :mod:`mmdemo.export`) in a fresh
        folder of the area, first removing, every minute or so, the files older than a few
        minutes, which keeps the area small on a long-running server."""
        self._prune()
        folder = self.folder / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return write_csv(table, folder / name)

    def _prune(self) -> None:
        with self._lock:  # one search claims each scan: two must not prune the same folder
            now = time.monotonic()
            if now < self._next_prune:
                return
            self._next_prune = now + PRUNE_EVERY_S
        cutoff = time.time() - DOWNLOAD_TTL_S
        for folder in self.folder.iterdir():
            if folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
