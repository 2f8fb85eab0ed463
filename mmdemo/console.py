"""What every command line command prints its ``--json`` output with (the CLI's modules)."""

from __future__ import annotations

import json
from typing import Any


def print_json(value: Any) -> None:
    """``value`` as indented JSON on stdout, non-ASCII text kept, other types as text."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))
