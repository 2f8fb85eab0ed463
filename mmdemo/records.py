"""What the store accepts: collection names, embedding matrices and metadata records,
checked and shaped for Chroma. Pure functions; only mmdemo.store talks to Chroma.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from mmdemo.errors import InputError

CAPTION_KEY = "caption"
MetadataValue = str | int | float | bool
_NAME_PATTERN = re.compile(r"[^\W_][\w .-]{0,62}")


def visible_name(name: str) -> str:
    """``name`` with every invisible or direction-changing character (bidi overrides and
    isolates, zero-width characters, other format, control and separator characters but
    the space) written out as ``[U+XXXX]``, so that a file name cannot disguise itself:
    ``invoice\u202efdp.exe`` would show as ``invoiceexe.pdf``."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else f"[U+{ord(c):04X}]" for c in name)


def chroma_name(collection: str, model: str) -> str:
    """The Chroma collection name for (collection, model): readable slug plus a hash."""
    slug = re.sub(r"[^a-zA-Z0-9]+", "-", collection).strip("-")[:40] or "x"
    digest = hashlib.sha1(f"{collection}\0{model}".encode()).hexdigest()[:12]
    return f"mmd-{slug}-{digest}"


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


def parse_url(url: str) -> tuple[str, int, bool]:
    """Host, port and whether to use TLS, from an http(s) URL."""
    invalid = InputError(f"Chroma URL {url!r} is not valid: use http://HOST:PORT.")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise invalid from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 8000), ssl


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as float32 rows of length 1 (zero rows stay zero)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    unit: np.ndarray = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return unit


def as_matrix(embeddings: np.ndarray, rows: int) -> np.ndarray:
    """``embeddings`` as a finite float32 (rows, dim) array, or an InputError saying why not."""
    matrix = np.asarray(embeddings, dtype=np.float32)
    if rows == 1 and matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.shape[0] != rows or matrix.shape[1] == 0:
        raise InputError(f"Expected {rows} embedding rows, got an array of shape {matrix.shape}.")
    if not np.isfinite(matrix).all():
        raise InputError("Embeddings contain NaN or infinite values.")
    return matrix


def first_of_each_new(ids: Sequence[str], known: set[str]) -> list[int]:
    """Row numbers of the first occurrence of every id not in ``known``."""
    seen = set(known)
    rows = []
    for row, item_id in enumerate(ids):
        if item_id not in seen:
            seen.add(item_id)
            rows.append(row)
    return rows


def chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    """Consecutive slices of ``items`` of at most ``size`` elements."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def record(
    metadata: dict[str, Any], caption: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    """Chroma-ready (metadata, document) of one item; the document is the folded caption."""
    clean = clean_metadata(metadata)
    if caption:
        clean[CAPTION_KEY] = caption
    return clean or None, caption.casefold() if caption else None


def clean_metadata(metadata: dict[str, Any]) -> dict[str, MetadataValue]:
    """Drop None values and turn numpy scalars into Python ones, as Chroma requires."""
    clean: dict[str, MetadataValue] = {}
    for key, value in metadata.items():
        plain = value.item() if isinstance(value, np.generic) else value
        if plain is None:
            continue
        if not isinstance(plain, str | int | float | bool):
            raise TypeError(f"Metadata {key!r} has unsupported type {type(value).__name__}.")
        clean[str(key)] = plain
    return clean
