"""Stored copies that share nothing private: the file's metadata rewritten, its pixels
kept byte for byte.

Where GPS is dropped (multi-visitor mode) the stored copy, which the page serves, keeps
only :func:`~mmdemo.ingest.formats.exif.shareable_exif` of the file's EXIF and none of its
XMP, IPTC, comments or vendor blocks (they repeat the position, and name places, people
and devices). Each format keeps an allow-list of what it needs to be shown:

- JPEG: APP0 (JFIF), APP2 ICC profile, APP14 (Adobe colour) and the coding segments; the
  EXIF segment is rewritten; everything after the first picture ends (an MPO's other
  pictures with their own EXIF, a phone's appended motion-photo video) is cut.
- PNG: the critical chunks and those that change how pixels look; eXIf rewritten; text
  chunks (XMP, raw EXIF profiles, comments) dropped.
- WebP: the image, animation, alpha and ICC chunks; EXIF rewritten; the header's flags
  and size kept true.
- GIF: the images with their palettes, the graphic control extensions (frame timing,
  transparency), the plain text extensions they may apply to, and the application
  extensions of looping and colour (NETSCAPE2.0, ANIMEXTS1.0, ICC); comments, XMP and
  other application data are dropped, as is anything after the trailer.

AVIF's scrubber, which rewrites items found through its box tables, is
:func:`mmdemo.ingest.formats.avif.scrub`. TIFF has none (its EXIF is its own header), and
a scrubber raises ValueError for a structure it cannot follow: the caller then stores a
re-encoding of the decoded pixels, which carries no metadata at all
(:mod:`mmdemo.ingest.copies`).
"""

from __future__ import annotations

import struct
import zlib

from mmdemo.ingest.formats.exif import shareable_exif

_EXIF_HEADER = b"Exif\x00\x00"
#: JPEG markers without a length: TEM and the restart markers.
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_SOS, _EOI, _APP0, _APP1, _APP2, _APP14 = 0xDA, 0xD9, 0xE0, 0xE1, 0xE2, 0xEE
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: PNG chunks a copy keeps as they are: pixels, palette, transparency, colour, size,
#: animation (APNG).
_PNG_KEPT = frozenset(
    {
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP",
        b"cICP", b"mDCV", b"cLLI", b"sBIT", b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT",
    }
)  # fmt: skip
_WEBP_KEPT = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_WEBP_EXIF_FLAG, _WEBP_XMP_FLAG = 0x08, 0x04
_GIF_EXTENSION, _GIF_IMAGE, _GIF_TRAILER = 0x21, 0x2C, 0x3B
#: GIF extensions kept whatever they hold: graphic control (timing, transparency) and
#: plain text (a graphic control before one applies to it, not to the next frame).
_GIF_KEPT_LABELS = frozenset({0xF9, 0x01})
#: Application extensions kept: the loop count (two spellings) and the ICC profile.
_GIF_KEPT_APPLICATIONS = frozenset({b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012"})


def _kept_jpeg_segment(marker: int, segment: bytes) -> bytes:
    """A JPEG marker segment as the copy keeps it: as it is, rewritten, or b"" (dropped)."""
    body = segment[4:]
    if marker == _APP1 and body.startswith(_EXIF_HEADER):
        shared = shareable_exif(body)
        return b"\xff\xe1" + struct.pack(">H", len(shared) + 2) + shared if shared else b""
    if marker == _APP2:
        return segment if body.startswith(b"ICC_PROFILE\x00") else b""
    if 0xE0 <= marker <= 0xEF or marker == 0xFE:  # the other APPn and COM
        return segment if marker in (_APP0, _APP14) else b""
    return segment


def _entropy_end(data: bytes, at: int) -> int:
    """Where the entropy-coded data starting at ``at`` ends: at the next marker (0xFF not
    followed by a stuffed zero or a restart marker)."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            raise ValueError("JPEG ends inside its picture data")
        following = data[at + 1]
        if following == 0 or following in _STANDALONE or following == 0xFF:
            at += 1 if following == 0xFF else 2
            continue
        return at


def jpeg(data: bytes) -> bytes:
    """A JPEG (or the first picture of an MPO) with only shareable metadata."""
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG")
    kept, at = [b"\xff\xd8"], 2
    while at + 1 < len(data):
        if data[at] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte before a marker
            at += 1
            continue
        if marker == _EOI:
            return b"".join([*kept, b"\xff\xd9"])
        if marker in _STANDALONE:
            kept.append(data[at : at + 2])
            at += 2
            continue
        end = at + 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if end > len(data):
            raise ValueError("JPEG segment runs past the end")
        kept.append(_kept_jpeg_segment(marker, data[at:end]))
        if marker == _SOS:
            scan_end = _entropy_end(data, end)
            kept.append(data[end:scan_end])
            end = scan_end
        at = end
    raise ValueError("JPEG without an end marker")


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(data: bytes) -> bytes:
    """A PNG with only shareable metadata."""
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG")
    kept, at = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind, end = data[at + 4 : at + 8], at + 12 + length
        if end > len(data):
            raise ValueError("PNG chunk runs past the end")
        if kind == b"eXIf":
            shared = shareable_exif(data[at + 8 : end - 4]).removeprefix(_EXIF_HEADER)
            kept.append(_png_chunk(kind, shared) if shared else b"")
        elif kind in _PNG_KEPT:
            kept.append(data[at:end])
        at = end
        if kind == b"IEND":
            return b"".join(kept)
    raise ValueError("PNG without an end chunk")


def _webp_chunk(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("<I", len(body)) + body + (b"\x00" if len(body) % 2 else b"")


def webp(data: bytes) -> bytes:
    """A WebP with only shareable metadata."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP")
    chunks: list[tuple[bytes, bytes]] = []
    at = 12
    while at + 8 <= len(data):
        kind, length = data[at : at + 4], int.from_bytes(data[at + 4 : at + 8], "little")
        body = data[at + 8 : at + 8 + length]
        if len(body) < length:
            raise ValueError("WebP chunk runs past the end")
        if kind == b"EXIF":
            shared = shareable_exif(body).removeprefix(_EXIF_HEADER)
            if shared:
                chunks.append((kind, shared))
        elif kind in _WEBP_KEPT:
            chunks.append((kind, body))
        at += 8 + length + length % 2
    has_exif = any(kind == b"EXIF" for kind, _ in chunks)
    for index, (kind, body) in enumerate(chunks):
        if kind == b"VP8X" and body:
            flags = body[0] & ~_WEBP_XMP_FLAG & ~_WEBP_EXIF_FLAG
            flags |= _WEBP_EXIF_FLAG if has_exif else 0
            chunks[index] = (kind, bytes([flags]) + body[1:])
    payload = b"WEBP" + b"".join(_webp_chunk(kind, body) for kind, body in chunks)
    return b"RIFF" + struct.pack("<I", len(payload)) + payload


def _gif_sub_blocks_end(data: bytes, at: int) -> int:
    """Where the data sub-blocks starting at ``at`` end (after their zero terminator)."""
    while at < len(data):
        size = data[at]
        at += 1 + size
        if size == 0:
            return at
    raise ValueError("GIF ends inside a block")


def _gif_colour_table(flags: int) -> int:
    """The size of the colour table that a descriptor's packed ``flags`` announce."""
    return 3 << ((flags & 0x07) + 1) if flags & 0x80 else 0


def _kept_gif_block(data: bytes, at: int) -> tuple[bytes, int]:
    """The block starting at ``at`` as the copy keeps it (b"": dropped) and where it ends."""
    if data[at] == _GIF_IMAGE:
        if at + 11 > len(data):
            raise ValueError("GIF ends inside an image descriptor")
        pixels = at + 10 + _gif_colour_table(data[at + 9]) + 1  # past the LZW code size
        end = _gif_sub_blocks_end(data, pixels)
        return data[at:end], end
    if data[at] != _GIF_EXTENSION or at + 2 > len(data):
        raise ValueError("GIF block expected")
    label, end = data[at + 1], _gif_sub_blocks_end(data, at + 2)
    if label in _GIF_KEPT_LABELS:
        return data[at:end], end
    application = data[at + 3 : at + 14] if data[at + 2] == 11 else b""
    return (data[at:end] if application in _GIF_KEPT_APPLICATIONS else b""), end


def gif(data: bytes) -> bytes:
    """A GIF (animated or not, frames and timing kept) with only what showing it needs."""
    if not data.startswith((b"GIF87a", b"GIF89a")) or len(data) < 13:
        raise ValueError("not a GIF")
    at = 13 + _gif_colour_table(data[10])
    kept = [data[:at]]
    while at < len(data):
        if data[at] == _GIF_TRAILER:
            return b"".join([*kept, b";"])
        block, at = _kept_gif_block(data, at)
        kept.append(block)
    raise ValueError("GIF without a trailer")


def unchanged(data: bytes) -> bytes:
    """The bytes of a format that carries no metadata worth removing (BMP)."""
    return data
