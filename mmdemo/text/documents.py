"""Which text an item has, for the lexical index (pure).

An item's text is its caption (a PDF page's text layer is its caption), the text found in
its image (``ocr_text``) and every other metadata value that is text (brand, colour, a
dataset's columns, the PDF's name, a photo's camera and lens, ...). The indexer's own
bookkeeping (where it came from, sizes, dates, stored file names) is not text about the
item. The file name counts
only beside such text: a camera's ``IMG_2041.jpg`` or a dataset's ``koala.png`` says
nothing a viewer wrote, so a collection of uncaptioned photos keeps no lexical part and
ranks exactly as it does by image alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

#: Metadata keys that are bookkeeping, not text about the item (``taken``: a photo's date,
#: ISO text that ``--where`` filters on).
NOT_TEXT = frozenset({"file_name", "origin", "source", "added_at", "image_file", "taken"})
#: Key prefix of metadata the app stores for itself.
OWN_PREFIX = "mmdemo_"


def item_text(metadata: Mapping[str, Any]) -> str:
    """The text an item is found by, one field per line ("" when it has none)."""
    fields = [
        value.strip()
        for key, value in metadata.items()
        if isinstance(value, str)
        and key not in NOT_TEXT
        and not key.startswith(OWN_PREFIX)
        and value.strip()
    ]
    if not fields:
        return ""
    name = PurePath(str(metadata.get("file_name", ""))).stem
    return "\n".join([*fields, name] if name else fields)
