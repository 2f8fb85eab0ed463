"""Names a user gives and sees: which collection names are usable, and file names shown
with their invisible characters written out. Pure functions."""

from __future__ import annotations

import re

from mmdemo.errors import InputError

_NAME_PATTERN = re.compile(r"[^\W_][\w .-]{0,62}")


def visible_name(name: str) -> str:
    """``name`` with every invisible or direction-changing character (bidi overrides and
    isolates, zero-width characters, other format, control and separator characters but
    the space) written out as ``[U+XXXX]``, so that a file name cannot disguise itself:
    ``invoice\u202efdp.exe`` would show as ``invoiceexe.pdf``."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else f"[U+{ord(c):04X}]" for c in name)


def validate_collection_name(name: str) -> str:
    """Return ``name`` without surrounding spaces, or raise InputError if it is not usable.

    A name is 1 to 63 characters: letters, digits, spaces, '-', '_' and '.', starting with
    a letter or digit, so it reads well in a URL, a CLI argument and a dropdown.
    """
    stripped = name.strip()
    if not _NAME_PATTERN.fullmatch(stripped):
        raise InputError(
            f"Collection name {name!r} is not valid: use 1 to 63 letters, digits, spaces, "
            "'-', '_' or '.', starting with a letter or digit."
        )
    return stripped
