"""``python -m mmdemo``: the command line."""

import sys

from mmdemo.cli import main

sys.exit(main())
