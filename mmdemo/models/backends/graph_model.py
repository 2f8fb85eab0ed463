"""An embedder's exported towers, behind the part of a ``SentenceTransformer`` that
:class:`~mmdemo.embed.Embedder` reads: modalities, embedding size, ``preprocess`` and a
forward pass (:meth:`GraphModel.run`), here on numpy arrays.

One graph per modality (``text``, ``image``), each opened by the chosen runtime when it
first runs (a text search never opens the image graph: 0.1-0.3 s of a cold CLI search),
each fed by the replayed pre-processing of :mod:`~mmdemo.models.backends.prep`. So that a
damaged cached graph is still found when the model loads (and exported anew), each
tower's spec records its graph's size at publishing (:func:`with_sizes`), checked at load.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.models.backends.base import Session, cpu_cores, open_session
from mmdemo.models.backends.prep import PixelPrep, TextPrep

#: The output every tower has: the (not yet normalised) embedding.
EMBEDDING = "embedding"


class Tower:
    """One modality's graph and the pre-processing that feeds it; the graph is opened by
    its first run."""

    def __init__(self, folder: Path, spec: Mapping[str, Any], backend: str, modality: str) -> None:
        self._path = folder / spec["graph"]
        recorded = spec.get("bytes")
        if recorded is not None and self._path.stat().st_size != recorded:
            raise ValueError(f"{self._path.name} is not the graph that was published")
        self._backend, self._outputs = backend, list(spec["outputs"])
        self._session: Session | None = None
        self._lock = threading.Lock()
        self.prepare = (
            TextPrep(folder, spec["prep"]) if modality == "text" else PixelPrep(spec["prep"])
        )
        #: Images per run (0: the whole batch); lite's CNN is fastest a few images a run.
        self.pass_size = int(spec.get("pass") or 0)

    @property
    def session(self) -> Session:
        """The graph opened by the runtime (once, by whichever thread runs it first)."""
        with self._lock:
            if self._session is None:
                self._session = open_session(self._backend, self._path, cpu_cores(), self._outputs)
            return self._session

    @property
    def is_open(self) -> bool:
        """Whether the graph has been opened (it has run)."""
        return self._session is not None

    def run(self, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Every output of the graph for ``feeds``, in passes of :attr:`pass_size` rows."""
        rows = len(next(iter(feeds.values())))
        step = self.pass_size or rows
        session = self.session
        if rows <= step:
            return session.run(feeds)
        parts = [
            session.run({k: v[at : at + step] for k, v in feeds.items()})
            for at in range(0, rows, step)
        ]
        return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}


class GraphModel:
    """The exported graphs of one embedder, run by ``backend`` (``onnx`` or ``openvino``).

    ``prompts`` and ``default_prompt_name`` are empty: the model's default prompt is part of
    the replayed text pre-processing, so ``preprocess`` ignores a prompt passed to it.
    """

    prompts: dict[str, str] = {}  # noqa: RUF012
    default_prompt_name: str | None = None

    def __init__(self, folder: Path, manifest: Mapping[str, Any], backend: str) -> None:
        self.folder = folder
        self.backend = backend
        self.precision = str(manifest["precision"])
        self.truncate_dim: int | None = manifest.get("truncate_dim")
        self._dim = int(manifest["dim"])
        self.towers = {
            modality: Tower(folder, spec, backend, modality)
            for modality, spec in manifest["towers"].items()
        }

    @property
    def modalities(self) -> list[str]:
        """The modalities with a tower (each encoded in its own call)."""
        return list(self.towers)

    @property
    def opened(self) -> list[str]:
        """The modalities whose graph this process has opened so far."""
        return [modality for modality, tower in self.towers.items() if tower.is_open]

    def supports(self, modality: str | tuple[str, ...]) -> bool:
        """Whether one tower takes ``modality`` (mixed inputs never: one tower per modality)."""
        return isinstance(modality, str) and modality in self.towers

    def get_embedding_dimension(self) -> int:
        """The embedding size the graphs give."""
        return self._dim

    def preprocess(self, inputs: Sequence[Any], prompt: str | None = None) -> dict[str, Any]:
        """The graph inputs of one batch of texts or of images, and its ``modality``."""
        modality = "text" if all(isinstance(item, str) for item in inputs) else "image"
        if modality == "image" and not all(isinstance(i, Image.Image) for i in inputs):
            raise ValueError("A batch must be all texts or all PIL images; encode them apart.")
        return {**self.towers[modality].prepare(list(inputs)), "modality": modality}

    def run(self, prepared: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Every output of the batch's tower: ``embedding`` and any the tower adds (lite's
        ``cnn_logits`` and ``cnn_pooled``, which its reranker's stored rows are made of)."""
        tower = self.towers[prepared["modality"]]
        feeds = {k: v for k, v in prepared.items() if isinstance(v, np.ndarray)}
        return tower.run(feeds)


def with_sizes(folder: Path, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """``manifest`` with each tower's graph size in ``folder`` recorded (``bytes``), as it
    is published; a set from before sizes were recorded opens without the check."""
    towers = {
        modality: {**spec, "bytes": (folder / spec["graph"]).stat().st_size}
        for modality, spec in manifest["towers"].items()
    }
    return {**manifest, "towers": towers}
