"""Where mmdemo relies on what gradio, chromadb and datasets do not document: one place,
each with the release it was checked against.

Every function here reaches a private attribute or an undocumented behaviour of one
library. :data:`CHECKED` names the release each was read against; tests/test_compat.py
fails when the installed release differs, so an upgrade is checked here first. The store
(:mod:`mmdemo.store`) stays the only user of chromadb's public API; this module only holds
its private parts. The libraries are imported inside the functions, so importing this
module imports neither.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import gradio as gr

_Method = TypeVar("_Method", bound=Callable[..., Any])

#: Library -> the release this module was checked against (the pins in requirements.txt).
CHECKED = {"chromadb": "1.5.9", "datasets": "5.2.0", "gradio": "6.31.0", "overrides": "7.7.0"}


def forget_chroma_system(identifier: str) -> None:
    """Drop chromadb's cached system of one database folder (``identifier``: its path), so
    that the next client of that folder is a new system that reads the indexes from disk.

    chromadb 1.5.9 caches one system per folder in the private class attribute
    ``SharedSystemClient._identifier_to_system`` and offers no call that drops one.
    """
    # lazy: chromadb, for commands that open no store
    from chromadb.api.shared_system_client import SharedSystemClient

    SharedSystemClient._identifier_to_system.pop(identifier, None)


def is_chroma_not_found(exc: BaseException) -> bool:
    """Whether chromadb raised ``exc`` to say a collection does not exist (or a handle we
    hold no longer does).

    chromadb 1.5.9 raises ``chromadb.errors.NotFoundError`` but documents no exception
    type for it; matched by class name and package, so this never imports chromadb.
    """
    return type(exc).__name__ == "NotFoundError" and type(exc).__module__.startswith("chromadb")


def event_payload(event: gr.EventData) -> Mapping[str, Any]:
    """The data an event sent from the page, e.g. ``{"index": 3}`` from a gallery's custom
    button; empty when it sent none.

    gradio 6.31.0 keeps it in the private ``EventData._data``: the public attributes exist
    only for the built-in events' own data classes (``SelectData`` ...).
    """
    return event._data or {}


def quiet_queue_analytics() -> None:
    """Keep gradio's queue from rebuilding its monitoring summary after every event.

    gradio 6.31.0's queue rebuilds a pandas summary of up to 10,000 past events every
    ``GRADIO_ANALYTICS_CACHE_FREQUENCY`` events (default 1), read when the queue is made
    (``Blocks.queue``), only for its monitoring dashboard, which this app never enables:
    4-8 ms of CPU per event on 2 cores, growing with uptime (bench/README.md). An operator's
    own value is kept.
    """
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))


def teach_imagefolder(extensions: Collection[str]) -> None:
    """Make ``datasets``' imagefolder list files with ``extensions`` (lower case, with the
    dot) as images too: a folder of them then has a row per file, and is read as an
    imagefolder at all.

    datasets 5.2.0 keeps Pillow's extensions in the class attribute
    ``ImageFolder.EXTENSIONS`` and in the module tables of ``datasets.packaged_modules``
    (``_EXTENSION_TO_MODULE``, ``_MODULE_TO_EXTENSIONS``, ``_ALL_ALLOWED_EXTENSIONS``) that
    pick a folder's builder and filter its files; it offers no option to add one.
    """
    # lazy: datasets, only for dataset sources
    from datasets import packaged_modules as modules
    from datasets.packaged_modules.imagefolder.imagefolder import ImageFolder

    added = sorted(set(extensions).difference(ImageFolder.EXTENSIONS))
    ImageFolder.EXTENSIONS.extend(added)
    for extension in (*added, *(e.upper() for e in added)):
        modules._EXTENSION_TO_MODULE[extension] = ("imagefolder", {})
        modules._MODULE_TO_EXTENSIONS["imagefolder"].append(extension)
        modules._ALL_ALLOWED_EXTENSIONS.append(extension)


def dataset_files(folder: str, split: str) -> list[str]:
    """Every file of ``split`` in the dataset folder ``folder`` (an fsspec URL, such as
    ``hf://datasets/OWNER/NAME``), split by its names (train/, test/ ...) as ``datasets``
    splits it, whatever the files' extensions; [] when the folder has no such split.

    datasets 5.2.0 lists a folder with ``datasets.data_files.get_data_patterns`` and
    ``DataFilesDict.from_patterns`` (undocumented) and, for a Hub repo, keeps only the files
    with a known extension, so a file without one is never a row (a DICOM study named
    ``IM000001``); asked without ``allowed_extensions`` they list every file.
    """
    # lazy: datasets, only for dataset sources
    from datasets.data_files import DataFilesDict, get_data_patterns

    patterns = get_data_patterns(folder)
    if split not in patterns:
        return []
    return list(DataFilesDict.from_patterns({split: patterns[split]}, base_path=folder)[split])


def skip_override_checks() -> None:
    """Define chromadb's classes without the ``overrides`` package's checks of them.

    chromadb 1.5.9 marks some 400 methods with ``overrides.override`` (overrides 7.7.0),
    which, as each class is defined, disassembles the defining frame to find its base
    classes and compares every signature with the base's: a check of chromadb's own code
    that costs each process opening a store about 0.25 s on 2 cores (a quarter of a cold
    CLI search's own time, bench/README.md). The decorator is replaced by one that only
    sets the ``__override__`` mark its ``EnforceOverrides`` classes read. The entry points
    (``python -m mmdemo``, app.py) call this before chromadb is imported; a library user's
    process is left as it is.
    """
    import overrides

    def marked(method: _Method | None = None, **_checks: bool) -> Any:
        def mark(function: _Method) -> _Method:
            function.__override__ = True  # type: ignore[attr-defined]
            return function

        return mark(method) if method is not None else mark

    overrides.override = overrides.overrides = marked
