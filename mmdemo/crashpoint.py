"""A deterministic stand-in for ``kill -9`` at a named point, for crash-recovery tests.

With ``MMDEMO_CRASH_AT=<point>`` set, the process kills itself (SIGKILL: no clean-up, no
``finally``) the first time it reaches that point, so a test can stop an ingest exactly
between saving a copy and storing its vector, or in the middle of a store write.
Unset, each call is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

#: The named points: a copy's temporary ``.part`` file written but not renamed; after an
#: image copy is saved; a new collection created, nothing added to it yet; inside a store
#: write (lock held, vectors added, change marker not yet bumped); after a batch is stored.
POINTS = ("copy-write", "after-copy", "collection-created", "store-write", "after-batch")


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if ``MMDEMO_CRASH_AT`` names ``name``."""
    if os.environ.get("MMDEMO_CRASH_AT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
