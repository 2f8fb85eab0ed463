"""``python -m mmdemo``: the command line."""

import gc
import sys

from mmdemo.cli import main

code = main()
# Everything the command made is about to go: without this, the interpreter's last
# collections walk each of its objects first (0.2-0.3 s of a cold search, bench/README.md).
gc.freeze()
sys.exit(code)
