"""Hugging Face datasets -> a stream of items, one per row, through the `datasets` library.

A source is a Hub dataset (``hf:OWNER/NAME``) or a local dataset: a folder that
``datasets`` reads as an imagefolder (``metadata.jsonl`` / ``metadata.csv`` beside the
images), parquet files, or a ``save_to_disk`` folder. Rows are streamed (Hub and files) or
memory-mapped (``save_to_disk``), never loaded whole; each row's image column gives the
bytes (never decoded by ``datasets``: the one image decoder does that), its caption column
the caption, and its other plain columns become metadata. A dataset that cannot be opened
fails the whole call with one sentence before anything is stored.

An imagefolder (local or on the Hub) lists the files of every format the decoder reads,
HEIC, AVIF and DICOM included, which ``datasets`` by itself leaves out (its list is
Pillow's): a local one is read as an imagefolder whatever its files' extensions, and
``datasets`` is taught the decoder's extensions (:func:`mmdemo.compat.teach_imagefolder`).
A Hub imagefolder of label folders (no metadata file) may hold files without any
extension, which ``datasets`` never lists: those whose first bytes are an image's (a
DICOM study's ``DICM`` preamble) become rows after the listed ones, labelled by folder.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path, PurePosixPath
from typing import Any

from mmdemo import compat
from mmdemo.config import Limits
from mmdemo.errors import ImageRejected, InputError, MMDemoError
from mmdemo.ingest import dataset_files, images
from mmdemo.ingest.captions import CAPTION_COLUMNS, find_column, plain_value
from mmdemo.ingest.entries import Budget, Rejection, SourceItem, read_capped

HUB_PREFIX = "hf:"
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
# Files whose presence at the top of a folder makes it a dataset rather than a photo folder.
_SAVED_MARKERS = ("state.json", "dataset_dict.json")
_FOLDER_MARKERS = ("metadata.jsonl", "metadata.csv")


@dataclass(frozen=True)
class DatasetOptions:
    """Which split and columns to read, and how many rows at most (None: all)."""

    split: str = "train"
    image_column: str = "image"
    #: None: the first of caption, text, description (any case), if there is one.
    caption_column: str | None = None
    limit: int | None = None


DEFAULT_DATASET = DatasetOptions()


@dataclass(frozen=True)
class _Opened:
    """An opened dataset: its rows, the folder its local image paths must stay inside,
    its label in reasons ("hf:owner/name[train]") and its row count when it records one."""

    rows: Any
    root: Path | None
    label: str
    size: int | None
    #: A Hub dataset: a row may give its image as a remote path (hf://...) to fetch.
    remote: bool = False
    #: Images without an extension that ``datasets`` does not list (remote paths).
    unlisted: tuple[str, ...] = ()


def is_hub_id(given: str | Path) -> bool:
    """Whether ``given`` names a Hub dataset: ``hf:OWNER/NAME``."""
    return isinstance(given, str) and given.startswith(HUB_PREFIX)


def is_dataset(given: str | Path) -> bool:
    """Whether ``given`` is a dataset source: ``hf:OWNER/NAME``, a ``.parquet`` file, or a
    folder holding ``save_to_disk`` output, ``metadata.jsonl``/``metadata.csv`` or parquet
    files at its top level (or under ``data/``)."""
    if is_hub_id(given):
        return True
    path = Path(given)
    if path.is_file():
        return path.suffix.lower() == ".parquet"
    if not path.is_dir():
        return False
    return (
        any((path / name).is_file() for name in _SAVED_MARKERS)
        or any(_names_files(path / name) for name in _FOLDER_MARKERS)
        or any(next(folder.glob("*.parquet"), None) for folder in (path, path / "data"))
    )


def _names_files(metadata: Path) -> bool:
    """Whether a metadata.jsonl/.csv has the ``file_name`` field an imagefolder needs, so a
    photo folder that merely holds some other metadata.csv stays a photo folder."""
    try:
        with metadata.open(encoding="utf-8-sig", errors="replace") as handle:
            first = handle.readline(64 * 1024)
    except OSError:
        return False
    return "file_name" in first


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__).rstrip(".")


def check_hub_id(given: str) -> None:
    """Refuse, in well under a second, a ``hf:OWNER/NAME`` that is not valid or whose Hub
    cannot be reached (InputError, one sentence): callers run it before opening the store
    or importing ``datasets``, so a command that cannot succeed says so first."""
    from mmdemo.models.loading import hub_reachable

    repo = given.removeprefix(HUB_PREFIX)
    if not _HUB_ID.fullmatch(repo) or ".." in repo:
        raise InputError(f"Dataset id {given!r} is not valid: use hf:OWNER/NAME.")
    reachable, why = hub_reachable()
    if not reachable:
        raise InputError(f"Dataset {given} cannot be reached: {why}.")


@cache
def _teach_imagefolder() -> None:
    """Teach ``datasets``' imagefolder the decoder's extensions it lacks (HEIC, AVIF,
    DICOM): a Hub repo of iPhone photos in label folders then has a row per file."""
    compat.teach_imagefolder(images.IMAGE_EXTENSIONS)


def _hub(repo: str, options: DatasetOptions) -> _Opened:
    label = f"{HUB_PREFIX}{repo}"
    check_hub_id(label)
    import datasets

    rows = datasets.load_dataset(repo, split=options.split, streaming=True)
    splits = rows.info.splits or {}
    size = splits[options.split].num_examples if options.split in splits else None
    unlisted = dataset_files.unlisted_images(dataset_files.hub_folder(repo), options.split)
    if size:
        size += len(unlisted)
    label = f"{label}[{options.split}]"
    return _Opened(rows, None, label, size or None, remote=True, unlisted=unlisted)


def _saved(path: Path, options: DatasetOptions) -> _Opened:
    import datasets

    saved = datasets.load_from_disk(str(path))
    if isinstance(saved, datasets.DatasetDict):
        if options.split not in saved:
            raise InputError(
                f"Dataset {path.name} has no split {options.split!r} (it has {', '.join(saved)})."
            )
        saved = saved[options.split]
    return _Opened(
        saved.to_iterable_dataset(), path.resolve(), f"{path.name}[{options.split}]", len(saved)
    )


def _local(path: Path, options: DatasetOptions) -> _Opened:
    import datasets

    if path.is_file():
        rows = datasets.load_dataset("parquet", data_files=str(path), split="train", streaming=True)
        # A lone parquet file (an upload, say) has no folder of its own: its rows must
        # carry their image bytes, so a row cannot point at files beside it.
        return _Opened(rows, None, path.name, None)
    if any(_names_files(path / name) for name in _FOLDER_MARKERS):
        # An imagefolder by its metadata file, whatever extensions its images have (left to
        # itself, `datasets` reads a folder of only HEIC or DICOM files as a JSON dataset).
        rows = datasets.load_dataset(
            "imagefolder", data_dir=str(path), split=options.split, streaming=True
        )
    else:
        rows = datasets.load_dataset(str(path), split=options.split, streaming=True)
    return _Opened(rows, path.resolve(), f"{path.name}[{options.split}]", None)


def _load(given: str | Path, options: DatasetOptions) -> _Opened:
    """Open the dataset, or raise InputError with one sentence saying why it cannot be."""
    path = Path(given)
    name = str(given) if is_hub_id(given) else path.name
    _teach_imagefolder()
    try:
        if is_hub_id(given):
            return _hub(str(given).removeprefix(HUB_PREFIX), options)
        if path.is_dir() and any((path / marker).is_file() for marker in _SAVED_MARKERS):
            return _saved(path, options)
        return _local(path, options)
    except MMDemoError:
        raise
    except Exception as exc:  # datasets raises many types for missing, private or bad data
        raise InputError(f"Dataset {name} cannot be read: {_first_line(exc)}.") from exc


def _columns(opened: _Opened, options: DatasetOptions) -> tuple[Any, str | None]:
    """The rows with their image column left undecoded, and the caption column.

    Raises InputError when the image column, or a caption column that was named, is absent.
    """
    import datasets

    features = opened.rows.features or {}
    columns = list(features)
    if options.image_column not in features:
        raise InputError(
            f"Dataset {opened.label} has no image column {options.image_column!r} "
            f"(its columns: {', '.join(columns) or 'none known'}): "
            "name the column that holds the images."
        )
    if options.caption_column is not None and options.caption_column not in features:
        raise InputError(
            f"Dataset {opened.label} has no caption column {options.caption_column!r} "
            f"(its columns: {', '.join(columns)})."
        )
    caption = options.caption_column or find_column(
        [c for c in columns if c != options.image_column], CAPTION_COLUMNS
    )
    rows = opened.rows
    if isinstance(features[options.image_column], datasets.Image):
        rows = rows.cast_column(options.image_column, datasets.Image(decode=False))
    return rows, caption


def _take(data: bytes, upload: Budget) -> bytes:
    images.check_file_size(len(data))
    upload.take(len(data))
    return data


def _read_local(path: Path, upload: Budget) -> bytes:
    return _take(images.read_file(path), upload)


def _read_remote(location: str, upload: Budget) -> bytes:
    """A Hub dataset's image file (imagefolder repos give paths, not bytes), size-capped."""
    from datasets.utils.file_utils import xopen

    try:
        with xopen(location, "rb") as stream:
            return read_capped(stream, (upload,))
    except OSError as exc:
        raise ImageRejected(f"cannot fetch the image ({_first_line(exc)})") from exc


def _row_metadata(
    row: dict[str, Any], image_column: str, caption_column: str | None, limits: Limits
) -> dict[str, Any]:
    """The row's plain columns as metadata, its caption cut at ``limits.caption_chars``.

    Lists, dicts and binary columns are left out: the store keeps only plain values. So is
    a column named "caption" that is not the caption column.
    """
    metadata: dict[str, Any] = {}
    for column, cell in row.items():
        if column in (image_column, "caption") and column != caption_column:
            continue
        if column.lower().startswith("chroma:"):
            continue
        if isinstance(cell, list | dict | bytes):
            continue
        value = plain_value(cell)
        if value is None:
            continue
        if column == caption_column:
            metadata["caption"] = str(value)[: limits.caption_chars]
        else:
            metadata[column] = value
    return metadata


def _image_reader(
    cell: Any, opened: _Opened, upload: Budget
) -> tuple[str | None, partial[bytes] | str]:
    """The image's file name and a reader of its bytes, or a reason it has none.

    A path is read when it lies inside the local dataset's folder, or, for a Hub dataset,
    when it is remote (never a path on this machine)."""
    data, location = (
        (cell.get("bytes"), cell.get("path")) if isinstance(cell, dict) else (cell, None)
    )
    if isinstance(data, str):
        data, location = None, data
    name = PurePosixPath(str(location).replace("\\", "/")).name if location else None
    if isinstance(data, bytes) and data:
        return name, partial(_take, data, upload)
    root = opened.root
    if location and opened.remote and dataset_files.is_remote(location):
        return name, partial(_read_remote, location, upload)
    if location and root is not None:
        path = (root / location).resolve()
        if path.is_relative_to(root):
            return name, partial(_read_local, path, upload)
        return name, "image path outside the dataset folder"
    if location:
        return name, "image not embedded in the row (only a path to it)"
    return name, "no image in this row"


def _row_item(
    row: dict[str, Any],
    index: int,
    opened: _Opened,
    caption: str | None,
    options: DatasetOptions,
    limits: Limits,
    upload: Budget,
) -> SourceItem | Rejection:
    origin = f"{opened.label} row {index}"
    name, reader = _image_reader(row.get(options.image_column), opened, upload)
    if isinstance(reader, str):
        return Rejection(origin, reader)
    details = partial(_row_metadata, row, options.image_column, caption, limits)
    return SourceItem(name or f"row-{index}", origin, "dataset", reader, details)


def _unlisted_item(location: str, opened: _Opened, upload: Budget) -> SourceItem:
    """The item of an image ``datasets`` does not list, with its folder's label (as the
    dataset's ``label`` class, where the folder is one)."""
    path = PurePosixPath(location)
    labels = (opened.rows.features or {}).get("label")
    names = getattr(labels, "names", None) or []
    found = {"label": names.index(path.parent.name)} if path.parent.name in names else {}
    reader = partial(_read_remote, location, upload)
    return SourceItem(path.name, f"{opened.label} {path.name}", "dataset", reader, found.copy)


def _items(
    opened: _Opened, options: DatasetOptions, limits: Limits, upload: Budget
) -> Iterator[SourceItem | Rejection]:
    """An item per row, then one per image the rows do not list."""
    rows, caption = _columns(opened, options)
    for index, row in enumerate(rows):
        yield _row_item(row, index, opened, caption, options, limits, upload)
    for location in opened.unlisted:
        yield _unlisted_item(location, opened, upload)


def iter_rows(
    given: str | Path, options: DatasetOptions, limits: Limits, upload: Budget
) -> Iterator[SourceItem | Rejection]:
    """One item per row of the dataset ``given`` (at most ``options.limit``), streamed.

    Raises InputError (when iteration starts) if the dataset cannot be opened or lacks
    the named columns.
    """
    opened = _load(given, options)
    try:
        yield from itertools.islice(_items(opened, options, limits, upload), options.limit)
    except MMDemoError:
        raise
    except Exception as exc:  # a shard that fails to download or parse mid-stream
        raise InputError(
            f"Dataset {opened.label} stopped being readable: {_first_line(exc)}."
        ) from exc


def count_rows(given: str | Path, options: DatasetOptions) -> int:
    """How many items :func:`iter_rows` will yield: the dataset's recorded size, capped at
    ``options.limit``; a dataset that records none is counted by streaming its rows once."""
    opened = _load(given, options)
    if opened.size is not None:
        return min(opened.size, options.limit) if options.limit is not None else opened.size
    rows, _ = _columns(opened, options)
    try:
        counted = sum(1 for _ in itertools.islice(rows, options.limit)) + len(opened.unlisted)
        return min(counted, options.limit) if options.limit is not None else counted
    except Exception as exc:  # the same failures iter_rows reports
        raise InputError(f"Dataset {opened.label} cannot be read: {_first_line(exc)}.") from exc
