"""An embedder's graphs for a backend: read from the cache, or exported into it first.

Called by the one model-loading path (:mod:`mmdemo.models.loading`) for the ``onnx`` and
``openvino`` backends. A cached set opens without torch; a missing one is exported from
the torch model (which is loaded for it), checked and published. Any failure to export or
to open leaves the model on torch, with one logged line saying why.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.models.backends import export, quantize
from mmdemo.models.backends.cache import graphs_root, key_for, publish, read_manifest
from mmdemo.models.backends.graph_model import GraphModel, with_sizes
from mmdemo.models.registry import Resolved

log = logging.getLogger("mmdemo.models")
#: The least cosine an int8 graph's probe vectors may have to the fp32 model's: a sanity
#: bound (int8 drifts by design); whether it keeps relevance is measured (bench/README.md).
INT8_MIN_COSINE = 0.95


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]


def _open(folder: Path, backend: str) -> GraphModel | None:
    """The published set in ``folder`` opened by ``backend``; None when there is none. A set
    that cannot be opened is removed (it is exported anew), with one logged line."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    try:
        return GraphModel(folder, manifest, backend)
    except Exception as exc:
        why = _first_line(exc)
        log.warning("Cached graphs in %s could not be opened (%s): exporting again.", folder, why)
        shutil.rmtree(folder, ignore_errors=True)
        return None


def _build(raw: Any, folder: Path, precision: str, backend: str) -> dict[str, Any]:
    """Export, quantise when asked, open and check one set in ``folder``; its manifest."""
    manifest = export.export_set(raw, folder, precision)
    if precision == "int8":
        quantize.quantize_set(folder, manifest)
    manifest = with_sizes(folder, manifest)
    least = export.MIN_COSINE if precision == "fp32" else INT8_MIN_COSINE
    export.check_replay(raw, GraphModel(folder, manifest, backend), least)
    return manifest


def graphs_or_torch(
    resolved: Resolved, backend: str, settings: Settings, load_torch: Callable[[], Any]
) -> tuple[Any, str]:
    """``resolved``'s graphs run by ``backend`` and that backend's name, or, when they
    cannot be had, the torch model (from ``load_torch``) and ``"torch"``.

    ``load_torch`` is called only when no cached set opens; a model that cannot load at all
    raises from it as on torch.
    """
    precision = settings.resolved_precision
    root = graphs_root(settings)
    key = key_for(resolved, precision)
    if key is not None and (cached := _open(key.folder(root), backend)) is not None:
        return cached, backend
    raw = load_torch()
    try:
        key = key or key_for(resolved, precision)  # a Hub model is in the cache once loaded
        if key is None:
            raise RuntimeError("its Hub revision is not in the local cache")
        folder = key.folder(root)
        publish(folder, lambda tmp: _build(raw, tmp, precision, backend))
        opened = _open(folder, backend)
        if opened is None:
            raise RuntimeError(f"the exported graphs in {folder} could not be opened")
    except Exception as exc:
        why = _first_line(exc)
        log.warning("%s: %s cannot run it (%s): torch runs it.", resolved.key, backend, why)
        return raw, "torch"
    return opened, backend
