"""AVIF, which Pillow (12.3) reads by itself; browsers show it, so the original is kept.

Where GPS is dropped its copy is scrubbed in place (:func:`scrub`), never re-encoded:
Pillow writes AVIF only lossily (4:2:0 by default, no lossless mode), so a re-encoding
would lose detail each time. The EXIF item is rewritten to
:func:`~mmdemo.ingest.formats.exif.shareable_exif` within its own bytes and the XMP item
is blanked and retyped, so no offset in the file moves and the coded pixels stay as
they are; a structure the scrubber cannot follow raises ValueError (the copy is then a
re-encoding, see :mod:`mmdemo.ingest.copies`).
"""

from __future__ import annotations

from collections.abc import Iterator

from mmdemo.ingest.formats.base import ImageFormat, iso_brands
from mmdemo.ingest.formats.exif import shareable_exif

_BRANDS = frozenset({b"avif", b"avis"})
_XMP_TYPE, _BLANK_TYPE = b"application/rdf+xml\x00", b"application/x-empty\x00"
#: A TIFF header with one empty IFD: the EXIF item of a file whose EXIF could not be read.
_EMPTY_TIFF = b"MM\x00*\x00\x00\x00\x08" + bytes(6)
_EXIF_HEADER = b"Exif\x00\x00"


def _is_avif(data: bytes) -> bool:
    return bool(iso_brands(data) & _BRANDS)


def _number(data: bytes | bytearray, at: int, size: int, end: int) -> int:
    """The big-endian number of ``size`` bytes at ``at``, which must end before ``end``."""
    if at + size > end:
        raise ValueError("AVIF box ends inside a field")
    return int.from_bytes(data[at : at + size], "big")


def _boxes(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, where its contents start, where it ends) of each box from ``start`` to ``end``."""
    at = start
    while at + 8 <= end:
        size, kind, header = _number(data, at, 4, end), bytes(data[at + 4 : at + 8]), 8
        if size == 1:
            size, header = _number(data, at + 8, 8, end), 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            raise ValueError("AVIF box runs past its parent")
        yield kind, at + header, at + size
        at += size


def _child(data: bytes | bytearray, start: int, end: int, kind: bytes) -> tuple[int, int]:
    """The contents and end of the first ``kind`` box from ``start`` to ``end``."""
    found = next(((body, stop) for k, body, stop in _boxes(data, start, end) if k == kind), None)
    if found is None:
        raise ValueError(f"AVIF without a {kind.decode()} box")
    return found


def _items(data: bytes | bytearray, start: int, end: int) -> Iterator[tuple[int, bytes, int]]:
    """(item id, item type, where a ``mime`` item's content type starts) from ``iinf``."""
    first = start + 4 + (2 if data[start] == 0 else 4)
    for kind, body, stop in _boxes(data, first, end):
        version = data[body] if kind == b"infe" else 0
        if version < 2:
            continue  # not an item entry, or one of a version without an item type
        id_size = 2 if version == 2 else 4
        item_id = _number(data, body + 4, id_size, stop)
        type_at = body + 4 + id_size + 2  # past the protection index
        item_type = bytes(data[type_at : type_at + 4])
        name_end = data.index(b"\x00", type_at + 4, stop)
        yield item_id, item_type, name_end + 1


def _extents(data: bytes | bytearray, start: int, end: int) -> dict[int, list[tuple[int, int]]]:
    """Item id -> its (file offset, length) extents, from ``iloc``; an item stored in
    ``idat`` or with an open-ended extent raises ValueError."""
    version, at = data[start], start + 4
    offset_size, length_size = data[at] >> 4, data[at] & 0x0F
    base_size, index_size = data[at + 1] >> 4, data[at + 1] & 0x0F if version else 0
    wide = 4 if version == 2 else 2
    count, at = _number(data, at + 2, wide, end), at + 2 + wide
    found: dict[int, list[tuple[int, int]]] = {}
    for _ in range(count):
        item_id, at = _number(data, at, wide, end), at + wide
        method, at = (_number(data, at, 2, end) & 0x0F, at + 2) if version else (0, at)
        base, at = _number(data, at + 2, base_size, end), at + 2 + base_size
        n_extents, at = _number(data, at, 2, end), at + 2
        for _ in range(n_extents):
            at += index_size
            offset, at = _number(data, at, offset_size, end), at + offset_size
            length, at = _number(data, at, length_size, end), at + length_size
            if method != 0 or length == 0:
                raise ValueError("AVIF item stored in a way the scrubber does not follow")
            found.setdefault(item_id, []).append((base + offset, length))
    return found


def _shared_exif(payload: bytes) -> bytes:
    """An EXIF item's contents (a TIFF header offset, then EXIF) with only shareable EXIF,
    padded with zeros to the same length."""
    offset = _number(payload, 0, 4, len(payload))
    tiff = payload[4 + offset :].removeprefix(_EXIF_HEADER)
    shared = shareable_exif(tiff).removeprefix(_EXIF_HEADER) or _EMPTY_TIFF
    rewritten = bytes(4) + shared
    if len(rewritten) > len(payload):
        raise ValueError("AVIF's shareable EXIF does not fit its item")
    return rewritten.ljust(len(payload), b"\x00")


def scrub(data: bytes) -> bytes:
    """An AVIF with only shareable metadata, its coded pixels untouched."""
    if not _is_avif(data):
        raise ValueError("not an AVIF")
    out = bytearray(data)
    meta, meta_end = _child(out, 0, len(out), b"meta")
    children = meta + 4  # meta is a full box: version and flags first
    extents = _extents(out, *_child(out, children, meta_end, b"iloc"))
    items = list(_items(out, *_child(out, children, meta_end, b"iinf")))
    for item_id, item_type, content_at in items:
        spans = extents.get(item_id, [])
        if any(offset + length > len(out) for offset, length in spans):
            raise ValueError("AVIF item runs past the end of the file")
        if item_type == b"Exif":
            if len(spans) != 1:
                raise ValueError("AVIF EXIF item in more than one piece")
            offset, length = spans[0]
            out[offset : offset + length] = _shared_exif(bytes(out[offset : offset + length]))
        elif item_type == b"mime" and out.startswith(_XMP_TYPE, content_at):
            out[content_at : content_at + len(_BLANK_TYPE)] = _BLANK_TYPE
            for offset, length in spans:
                out[offset : offset + length] = b" " * length
    return bytes(out)


AVIF = ImageFormat(
    "AVIF", frozenset({".avif"}), _is_avif, ".avif", frozenset({"AVIF"}), scrub=scrub
)
