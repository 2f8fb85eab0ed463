"""Where a dataset's image files lie: which remote locations a row may send us to, and the
images of a Hub imagefolder that ``datasets`` does not list.

``datasets`` lists a Hub repo's files by extension, so a file without one is never a row:
a DICOM study named ``IM000001`` in a label folder, as scanners and PACS exports write
them. :func:`unlisted_images` finds those by their first bytes (a DICOM study's ``DICM``
preamble, or any signature of :mod:`mmdemo.ingest.formats`), as folders and zips do.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from mmdemo import compat
from mmdemo.ingest import formats

#: fsspec protocols a Hub row's image path may use, each link of a chained one
#: (``zip://a.png::hf://datasets/...``): the Hub, the web, archives and fsspec's in-process
#: filesystem; never ``file://`` or ``local://``, which would read this machine's files.
_REMOTE_PROTOCOLS = frozenset({"hf", "http", "https", "zip", "tar", "gzip", "xz", "memory"})
#: Files whose presence makes an imagefolder's rows come from metadata, which names every
#: image itself (so no unlisted file is added).
_METADATA_NAMES = frozenset({"metadata.jsonl", "metadata.csv", "metadata.parquet"})
#: How much of a file without an extension is read to tell an image (DICOM: 132 bytes).
_SNIFF_BYTES = 512


def is_remote(location: str) -> bool:
    """Whether every link of ``location`` names a protocol of :data:`_REMOTE_PROTOCOLS`."""
    links = location.split("::")
    return all(link.partition("://")[0].lower() in _REMOTE_PROTOCOLS for link in links)


def hub_folder(repo: str) -> str:
    """Where a Hub dataset's files lie, for listing them."""
    return f"hf://datasets/{repo}"


def _is_image_file(location: str) -> bool:
    """Whether the file at ``location`` starts like an image the decoder reads."""
    from datasets.utils.file_utils import xopen

    try:
        with xopen(location, "rb") as stream:
            head = stream.read(_SNIFF_BYTES)
    except OSError:
        return False
    return formats.sniff(head) is not None


def unlisted_images(folder: str, split: str) -> tuple[str, ...]:
    """The files of ``split`` in an imagefolder of label folders (no metadata file) that
    have no extension, which ``datasets`` never lists, and whose first bytes are an
    image's; () when the folder cannot be listed."""
    try:
        files = compat.dataset_files(folder, split)
    except Exception:  # datasets raises many types for a folder it cannot list
        return ()
    names = [PurePosixPath(location).name for location in files]
    if _METADATA_NAMES.intersection(names):
        return ()
    return tuple(
        location
        for location, name in zip(files, names, strict=True)
        if "." not in name and is_remote(location) and _is_image_file(location)
    )
