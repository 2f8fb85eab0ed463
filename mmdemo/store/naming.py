"""The Chroma names of a user collection's parts: one collection per (collection, model)
and the caption vectors kept beside it."""

from __future__ import annotations

import hashlib
import re


def chroma_name(collection: str, model: str) -> str:
    """The Chroma collection name for (collection, model): readable slug plus a hash."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", collection).strip("-")[:40] or "x"
    digest = hashlib.sha1(f"{collection}\0{model}".encode()).hexdigest()[:12]
    return f"mmd-{slug}-{digest}"


def caption_collection_name(image_collection: str) -> str:
    """The Chroma name of the caption vectors kept beside an image collection."""
    return f"{image_collection}-captions"
