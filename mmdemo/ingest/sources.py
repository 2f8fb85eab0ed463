"""Inputs to items: files, folders, zip archives, PDFs and datasets as a lazy stream.

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
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from mmdemo.config import DEFAULT_LIMITS, Limits
from mmdemo.errors import ImageRejected
from mmdemo.ingest import hf_datasets, images, pdfs
from mmdemo.ingest.entries import Budget, Rejection, SourceItem, read_capped
from mmdemo.ingest.hf_datasets import DEFAULT_DATASET, DatasetOptions

# System clutter that is never an image; skipped without a rejection.
_JUNK_NAMES = frozenset({".ds_store", "thumbs.db", "desktop.ini", "__macosx"})
# Zip containers that are documents rather than archives of images.
_DOCUMENT_EXTENSIONS = frozenset(
    {".docx", ".xlsx", ".pptx", ".odt", ".ods", ".odp", ".epub", ".jar", ".apk", ".whl"}
)
_ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
_ENCRYPTED_FLAG = 0x1
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")


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


def _read_charged(path: Path, upload: Budget) -> bytes:
    data = images.read_file(path)
    upload.take(len(data))
    return data


def _file_item(path: Path, source: str, upload: Budget) -> SourceItem | Rejection:
    try:
        images.check_file_size(path.stat().st_size)
    except ImageRejected as exc:
        return Rejection(str(path), exc.reason)
    return SourceItem(path.name, str(path), source, partial(_read_charged, path, upload))


def _read_member(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budgets: tuple[Budget, ...]
) -> bytes:
    """One member's bytes through a size-capped stream: its declared size is not trusted.

    The archive stays open for as long as its items are alive.
    """
    try:
        with archive.open(info) as stream:
            return read_capped(stream, budgets)
    except NotImplementedError as exc:
        raise ImageRejected("unsupported compression in archive") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise ImageRejected("corrupt zip archive member") from exc


def _member_parts(name: str) -> list[str]:
    return [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]


def _is_unsafe(name: str, parts: list[str]) -> bool:
    return name.startswith(("/", "\\")) or bool(_DRIVE_LETTER.match(name)) or ".." in parts


def _member_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, origin: str, budgets: tuple[Budget, ...]
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
    return SourceItem(parts[-1], origin, "zip", partial(_read_member, archive, info, budgets))


def _member_pdf_pages(
    archive: zipfile.ZipFile, item: SourceItem, limits: Limits
) -> Iterator[SourceItem | Rejection]:
    """The pages of a PDF inside an archive: its bytes are read (size-capped) to count them."""
    try:
        document = item.read()
    except ImageRejected as exc:
        yield Rejection(item.origin, exc.reason)
        return
    yield from pdfs.iter_pages(document, item.file_name, item.origin, limits)


def _iter_zip(path: Path, limits: Limits, upload: Budget) -> Iterator[SourceItem | Rejection]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        yield Rejection(str(path), "corrupt zip archive")
        return
    except OSError as exc:
        yield Rejection(str(path), f"cannot read file ({exc.strerror or exc})")
        return
    members = archive.infolist()
    if len(members) > limits.archive_members:
        archive.close()
        yield Rejection(
            str(path), f"too many archive members ({len(members):,} > {limits.archive_members:,})"
        )
        return
    budgets = (Budget(limits.archive_bytes, "archive"), upload)
    for info in sorted(members, key=lambda member: member.filename):
        entry = _member_entry(archive, info, f"{path}!{info.filename}", budgets)
        if isinstance(entry, SourceItem) and entry.file_name.lower().endswith(".pdf"):
            yield from _member_pdf_pages(archive, entry, limits)
        elif entry is not None:
            yield entry


@dataclass(frozen=True)
class _Walk:
    """What one call of :func:`iter_sources` shares: its limits, budget and current root."""

    limits: Limits
    upload: Budget
    root: Path | None = None
    #: Files inside the given folders that are inputs of another kind (the captions CSV).
    skip: frozenset[Path] = frozenset()


def _iter_file(path: Path, source: str, walk: _Walk) -> Iterator[SourceItem | Rejection]:
    if _looks_like_zip(path):
        yield from _iter_zip(path, walk.limits, walk.upload)
    elif pdfs.looks_like_pdf(path):
        yield from _iter_pdf(path, walk.limits)
    else:
        yield _file_item(path, source, walk.upload)


def _iter_pdf(path: Path, limits: Limits) -> Iterator[SourceItem | Rejection]:
    try:
        images.check_file_size(path.stat().st_size)
    except ImageRejected as exc:
        yield Rejection(str(path), exc.reason)
        return
    yield from pdfs.iter_pages(path, path.name, str(path), limits)


def _leaves(entry: Path, root: Path) -> bool:
    """Whether a symbolic link ``entry`` points outside ``root`` (or nowhere)."""
    try:
        return not entry.resolve(strict=True).is_relative_to(root)
    except (OSError, RuntimeError):
        return True


def _iter_folder(folder: Path, walk: _Walk) -> Iterator[SourceItem | Rejection]:
    """Files under ``folder`` in name order, depth first.

    Symlinked folders are not followed, and a symlinked file is read only when it points
    inside the folder the user gave: a link cannot pull in files from elsewhere.
    """
    root = walk.root or folder.resolve()
    try:
        entries = sorted(folder.iterdir(), key=lambda entry: entry.name)
    except OSError as exc:
        yield Rejection(str(folder), f"cannot read folder ({exc.strerror or exc})")
        return
    for entry in entries:
        if _is_skipped(entry.name) or (walk.skip and entry.resolve() in walk.skip):
            continue
        if entry.is_symlink() and _leaves(entry, root):
            yield Rejection(str(entry), "symbolic link to outside the folder")
        elif entry.is_dir():
            if not entry.is_symlink():
                yield from _iter_folder(entry, replace(walk, root=root))
        elif entry.is_file():
            yield from _iter_file(entry, "folder", walk)


def iter_sources(
    paths: Iterable[str | Path],
    limits: Limits = DEFAULT_LIMITS,
    dataset: DatasetOptions = DEFAULT_DATASET,
    skip: Iterable[str | Path] = (),
) -> Iterator[SourceItem | Rejection]:
    """Every candidate image under ``paths`` (files, folders, zip archives, PDFs, datasets).

    Folders are walked recursively in name order, skipping hidden entries, ``__MACOSX``
    and OS clutter (``.DS_Store``, ``Thumbs.db``). Zip archives are recognised by content
    as well as by extension and read in place; a PDF, in a folder or an archive, yields one
    item per page. A ``hf:OWNER/NAME`` id or a dataset folder (see
    :func:`~mmdemo.ingest.hf_datasets.is_dataset`) is streamed row by row as ``dataset``
    says. Files without an image extension are still yielded: the decoder decides.
    Unusable inputs come out as :class:`Rejection`; reads past ``limits`` (bytes per
    archive and per call) are refused with the reason. Files in ``skip`` (the captions CSV)
    are passed over when a folder holds them.
    """
    skipped = frozenset(Path(path).resolve() for path in skip)
    walk = _Walk(limits, Budget(limits.upload_bytes, "upload"), skip=skipped)
    for given in paths:
        path = Path(given)
        if hf_datasets.is_dataset(given):
            yield from hf_datasets.iter_rows(given, dataset, limits, walk.upload)
        elif path.is_dir():
            yield from _iter_folder(path, walk)
        elif path.is_file():
            yield from _iter_file(path, "file", walk)
        elif path.exists():
            yield Rejection(str(given), "not a regular file or folder")
        else:
            yield Rejection(str(given), "no such file or folder")


def count_sources(
    paths: Iterable[str | Path],
    limits: Limits = DEFAULT_LIMITS,
    dataset: DatasetOptions = DEFAULT_DATASET,
    skip: Iterable[str | Path] = (),
) -> int:
    """How many entries :func:`iter_sources` will yield for ``paths``, for progress totals.

    Walks the same way without reading or decoding any image, so the count always agrees
    with the stream; a dataset's rows are counted from its own record of its size where it
    keeps one. Pass a collection, not a one-shot iterator, if you iterate it again.
    """
    return sum(
        hf_datasets.count_rows(given, dataset)
        if hf_datasets.is_dataset(given)
        else sum(1 for _ in iter_sources([given], limits, skip=skip))
        for given in paths
    )
