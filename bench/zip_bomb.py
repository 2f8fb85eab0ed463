"""Cost of a zip bomb of zeros: reading every member whole vs the size-capped ingest stream.

Builds a small archive whose members each decompress to ``--member-mb`` of zeros, then
reads it (1) the way the ingest did before limits, ``ZipFile.read`` per member, and (2)
through ``iter_sources`` with the default limits. Prints wall time and the peak of Python
allocations (tracemalloc) for each, and their ratios. Run once; the machine is noisy.

    python -m bench.zip_bomb --members 40 --member-mb 60
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

from mmdemo.errors import ImageRejected
from mmdemo.ingest.sources import SourceItem, iter_sources


def build(path: Path, members: int, member_mb: int) -> None:
    zeros = bytes(member_mb * 1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for i in range(members):
            archive.writestr(f"zeros-{i:03}.png", zeros)


def read_whole(path: Path) -> int:
    """Every member read in one piece, trusting its declared size."""
    total = 0
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            total += len(archive.read(info))
    return total


def read_capped(path: Path) -> int:
    """Every member read the way the ingest reads it now."""
    total = 0
    for entry in iter_sources([path]):
        if isinstance(entry, SourceItem):
            with contextlib.suppress(ImageRejected):  # refused reads count as nothing read
                total += len(entry.read())
    return total


def measure(read: Callable[[Path], int], path: Path) -> tuple[float, float, int]:
    """Seconds, peak MB of Python allocations, and bytes read."""
    tracemalloc.start()
    start = time.perf_counter()
    n_bytes = read(path)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, n_bytes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--member-mb", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bomb.zip"
        build(path, args.members, args.member_mb)
        print(f"archive: {path.stat().st_size / 2**20:.1f} MB on disk")
        whole = measure(read_whole, path)
        capped = measure(read_capped, path)
    for name, (seconds, peak, n_bytes) in (("whole", whole), ("capped", capped)):
        print(f"{name:7} {seconds:7.2f} s  peak {peak:8.1f} MB  read {n_bytes / 2**20:8.0f} MB")
    print(f"ratio capped/whole: time {capped[0] / whole[0]:.2f}  peak {capped[1] / whole[1]:.2f}")


if __name__ == "__main__":
    main()
