"""Tiny image files and zip archives generated with Pillow/zipfile for ingest tests."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

RED = (255, 0, 0)
BLUE = (0, 0, 255)

# Pillow's format name for each image extension the project accepts.
FORMAT_BY_EXTENSION = {
    ".jpg": "JPEG",
    ".png": "PNG",
    ".webp": "WEBP",
    ".gif": "GIF",
    ".bmp": "BMP",
    ".tiff": "TIFF",
}


def image_bytes(
    image_format: str = "PNG",
    size: tuple[int, int] = (8, 6),
    color: Any = RED,
    mode: str = "RGB",
    **save_options: Any,
) -> bytes:
    """A solid-colour image of ``mode`` encoded as ``image_format``."""
    return encode(Image.new(mode, size, color), image_format, **save_options)


def encode(image: Image.Image, image_format: str, **save_options: Any) -> bytes:
    """``image`` saved to bytes in ``image_format``."""
    buffer = io.BytesIO()
    image.save(buffer, image_format, **save_options)
    return buffer.getvalue()


def write(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` (creating parent folders) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_image(path: Path, color: Any = RED, size: tuple[int, int] = (8, 6)) -> Path:
    """A small solid image at ``path``, its format taken from the extension."""
    return write(path, image_bytes(FORMAT_BY_EXTENSION[path.suffix.lower()], size, color))


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    """A deflated zip archive at ``path`` holding ``members`` (name -> bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def mark_encrypted(path: Path) -> None:
    """Set the "encrypted" flag bit on every member of a zip, as a password-protected zip has.

    zipfile cannot write encrypted archives, and the flag is all a reader sees before
    decrypting, so flipping it in both the local and the central headers is enough.
    """
    data = bytearray(path.read_bytes())
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            data[start + flag_offset] |= 0x1
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))


def pdf_bytes(pages: list[str], *, encrypted: bool = False) -> bytes:
    """A minimal hand-written PDF: one US Letter page per entry, showing that text in
    Helvetica ("" for a page without a text layer). ``encrypted`` adds a standard security
    handler whose user password is not empty, so no reader can open it without one."""
    count = len(pages)
    font = 3 + 2 * count
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(count))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
    ]
    for i, text in enumerate(pages):
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 {font} 0 R >> >> /Contents {4 + 2 * i} 0 R >>"
        )
        stream = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET" if text else ""
        objects.append(f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream")
    objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    trailer = ""
    if encrypted:
        objects.append(f"<< /Filter /Standard /V 1 /R 2 /O <{'11' * 32}> /U <{'22' * 32}> /P -4 >>")
        trailer = f" /Encrypt {len(objects)} 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>]"
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{trailer} >>\nstartxref\n{xref}\n%%EOF\n"
    ).encode()
    return out
