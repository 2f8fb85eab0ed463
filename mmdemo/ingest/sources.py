"""Inputs to items: files, folders and zip archives as a lazy stream, plus captions CSVs.

:func:`iter_sources` walks what the user gave and yields one :class:`SourceItem` per
candidate file, or a :class:`Rejection` for something that cannot be used. Bytes are read
only when an item's ``read`` is called, so memory stays flat however large the input;
archives are read in place, never extracted to disk. Decoding is not done here: the image
decoder decides whether a candidate is an image.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

from mmdemo.errors import ImageRejected, InputError
from mmdemo.ingest import images
from mmdemo.records import MetadataValue

# System clutter that is never an image; skipped without a rejection.
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "__macosx"})
# Zip containers that are documents rather than archives of images.
_DOCUMENT_EXTENSIONS = frozenset(
    {".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub", ".jar", ".apk", ".whl"}
)
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_ENCRYPTED_FLAG = 0x1
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")

_FILE_NAME_COLUMNS = ("file_name", "filename", "file", "image", "path")
_CAPTION_COLUMNS = ("caption", "text", "description")


@dataclass(frozen=True)
class SourceItem:
    """One candidate image file, not yet read.

    ``file_name`` is the base name (joins the captions CSV); ``origin`` is the path, or
    ``"archive.zip!member/path"`` for archive members; ``source`` is ``"file"``, ``"folder"``
    or ``"zip"``. ``read()`` returns the bytes and raises
    :class:`~mmdemo.errors.ImageRejected` when they cannot be read.
    """

    file_name: str
    origin: str
    source: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class Rejection:
    """An input that was refused before decoding: its origin and a short reason."""

    file: str
    reason: str


def _is_skipped(name: str) -> bool:
    """Hidden files and folders, macOS resource forks and OS clutter are not user images."""
    return name.startswith(".") or name.lower() in _JUNK_NAMES


def _looks_like_zip(path: Path) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".zip":
        return True
    if suffix in images.IMAGE_EXTENSIONS or suffix in _DOCUMENT_EXTENSIONS:
        return False
    try:
        with path.open("rb") as handle:
            return handle.read(4).startswith(_ZIP_SIGNATURES)
    except OSError:
        return False  # reading it later reports the problem against the file itself


def _file_item(path: Path, source: str) -> SourceItem | Rejection:
    try:
        images.check_file_size(path.stat().st_size)
    except ImageRejected as exc:
        return Rejection(str(path), exc.reason)
    return SourceItem(path.name, str(path), source, partial(images.read_file, path))


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """One member's bytes; the archive stays open for as long as its items are alive."""
    try:
        return archive.read(info)
    except NotImplementedError as exc:
        raise ImageRejected("unsupported compression in archive") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ImageRejected("corrupt zip archive member") from exc


def _member_parts(name: str) -> list[str]:
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def _is_unsafe(name: str, parts: list[str]) -> bool:
    return name.startswith(("/", "\\")) or bool(_DRIVE_LETTER.match(name)) or ".." in parts


def _member_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, origin: str
) -> SourceItem | Rejection | None:
    """The item for one archive member, a rejection, or None when it is skipped silently."""
    parts = _member_parts(info.filename)
    if _is_unsafe(info.filename, parts):
        return Rejection(origin, "unsafe path in archive")
    if info.is_dir() or not parts or any(_is_skipped(part) for part in parts):
        return None
    if info.flag_bits & _ENCRYPTED_FLAG:
        return Rejection(origin, "encrypted archive member")
    if parts[-1].lower().endswith(".zip"):
        return Rejection(origin, "nested zip archives are not supported")
    try:
        images.check_file_size(info.file_size)
    except ImageRejected as exc:
        return Rejection(origin, exc.reason)
    return SourceItem(parts[-1], origin, "zip", partial(_read_member, archive, info))


def _iter_zip(path: Path) -> Iterator[SourceItem | Rejection]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        yield Rejection(str(path), "corrupt zip archive")
        return
    except OSError as exc:
        yield Rejection(str(path), f"cannot read file ({exc.strerror or exc})")
        return
    for info in sorted(archive.infolist(), key=lambda member: member.filename):
        entry = _member_entry(archive, info, f"{path}!{info.filename}")
        if entry is not None:
            yield entry


def _iter_file(path: Path, source: str) -> Iterator[SourceItem | Rejection]:
    if _looks_like_zip(path):
        yield from _iter_zip(path)
    else:
        yield _file_item(path, source)


def _iter_folder(folder: Path) -> Iterator[SourceItem | Rejection]:
    """Files under ``folder`` in name order, depth first; symlinked folders are not followed."""
    try:
        entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    except OSError as exc:
        yield Rejection(str(folder), f"cannot read folder ({exc.strerror or exc})")
        return
    for entry in entries:
        if _is_skipped(entry.name):
            continue
        if entry.is_dir():
            if not entry.is_symlink():
                yield from _iter_folder(entry)
        elif entry.is_file():
            yield from _iter_file(entry, "folder")


def iter_sources(paths: Iterable[str | Path]) -> Iterator[SourceItem | Rejection]:
    """Every candidate image under ``paths`` (files, folders, zip archives), lazily.

    Folders are walked recursively in name order, skipping hidden entries, ``__MACOSX``
    and OS clutter (``.DS_Store``, ``Thumbs.db``). Zip archives are recognised by content
    as well as by extension and read in place. Files without an image extension are still
    yielded: the decoder decides. Unusable inputs come out as :class:`Rejection`.
    """
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _iter_folder(path)
        elif path.is_file():
            yield from _iter_file(path, "file")
        elif path.exists():
            yield Rejection(str(given), "not a regular file or folder")
        else:
            yield Rejection(str(given), "no such file or folder")


def count_sources(paths: Iterable[str | Path]) -> int:
    """How many entries :func:`iter_sources` will yield for ``paths``, for progress totals.

    Walks the same way without reading or decoding any image, so the count always agrees
    with the stream. Pass a collection, not a one-shot iterator, if you iterate it again.
    """
    return sum(1 for _ in iter_sources(paths))


def _find_column(columns: list[str], candidates: tuple[str, ...]) -> str | None:
    by_name = {column.strip().lower(): column for column in columns}
    return next((by_name[name] for name in candidates if name in by_name), None)


def _plain_value(value: Any) -> MetadataValue | None:
    """A CSV cell as a plain str/int/float/bool (what Chroma stores); None for empty cells."""
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool | int | float):
        return value
    text = str(value).strip()
    return text or None


def _base_name(value: Any) -> str | None:
    text = _plain_value(value)
    if text is None:
        return None
    name = PurePosixPath(str(text).replace("\\", "/")).name
    return name or None


def _read_table(csv_path: Path, **options: Any) -> Any:
    import pandas as pd

    try:
        return pd.read_csv(csv_path, encoding="utf-8-sig", **options)
    except FileNotFoundError as exc:
        raise InputError(f"Captions file {csv_path} does not exist.") from exc
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"Captions file {csv_path} is empty.") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"Captions file {csv_path} is not UTF-8 text.") from exc
    except (pd.errors.ParserError, OSError, ValueError) as exc:
        raise InputError(f"Captions file {csv_path} cannot be read as CSV: {exc}") from exc


def _row_metadata(row: dict[str, Any], caption_column: str | None) -> dict[str, MetadataValue]:
    metadata: dict[str, MetadataValue] = {}
    for column, cell in row.items():
        value = _plain_value(cell)
        if value is None:
            continue
        if column == caption_column:
            metadata["caption"] = str(value)
        else:
            metadata[column.strip()] = value
    return metadata


def read_captions(csv_path: str | Path) -> dict[str, dict[str, MetadataValue]]:
    """Captions and metadata per file base name, from a CSV with a file-name column.

    The file-name column is the first of file_name, filename, file, image, path (any case);
    its values are reduced to base names so "imgs/a.jpg" joins the file "a.jpg". The first
    of caption, text, description becomes the key ``"caption"``; every other column is kept
    under its own name. Empty cells and pandas' index columns ("Unnamed: 0") are dropped.
    Raises :class:`InputError` when the CSV cannot be read, has no file-name column, or has
    a column the database reserves ("chroma:..."), before anything is indexed.
    """
    csv_path = Path(csv_path)
    columns = [str(column) for column in _read_table(csv_path, nrows=0).columns]
    file_column = _find_column(columns, _FILE_NAME_COLUMNS)
    if file_column is None:
        raise InputError(
            f"Captions file {csv_path} has no file-name column: expected one of "
            f"{', '.join(_FILE_NAME_COLUMNS)} (found {', '.join(columns)})."
        )
    reserved = [c for c in columns if c.lower().startswith("chroma:")]
    if reserved:
        raise InputError(
            f"Captions file {csv_path} has columns with reserved names ({', '.join(reserved)}): "
            "rename them; names starting with 'chroma:' belong to the database."
        )
    # Read file names as text so that "001.jpg"-style names and "007" keep their zeros.
    table = _read_table(csv_path, dtype={file_column: str})
    caption_column = _find_column(columns, _CAPTION_COLUMNS)
    kept = [c for c in columns if c != file_column and not c.startswith("Unnamed: ")]
    captions: dict[str, dict[str, MetadataValue]] = {}
    for row in table.to_dict("records"):
        name = _base_name(row[file_column])
        if name is not None:
            captions[name] = _row_metadata({c: row[c] for c in kept}, caption_column)
    return captions
