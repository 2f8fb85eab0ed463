"""The models an ingest indexes with, loaded only when a batch holds something to embed."""

from __future__ import annotations

from collections.abc import Sequence

from mmdemo.config import Settings
from mmdemo.embed import Embedder
from mmdemo.errors import InputError, ModelLoadError
from mmdemo.models.loading import load_embedder
from mmdemo.models.registry import resolve
from mmdemo.runtime import Runtime


class Embedders:
    """The models to index with, loaded only when a batch holds something to embed.

    Their keys come from the registry without loading anything, so an ingest whose inputs
    are all stored already (or all unreadable) never imports torch, unless the collection
    predates caption vectors. The first input that needs a model loads every model before
    it is decoded. A model that cannot load is left
    out (``failed``: key -> why; ``keys`` shrinks in place) and the others index; when none
    loads, the call fails before any copy, thumbnail or vector is written.
    """

    def __init__(self, names: Sequence[str], settings: Settings, runtime: Runtime) -> None:
        if not names:
            raise InputError("Name at least one embedding model to index with.")
        self._names = list(dict.fromkeys(names))
        self._settings = settings
        self._runtime = runtime
        self.keys = list(dict.fromkeys(resolve(name, "embedder").key for name in self._names))
        self._loaded: dict[str, Embedder] | None = None
        self.failed: dict[str, str] = {}

    def load(self) -> dict[str, Embedder]:
        """Every model that loads, loaded on the first call: key -> embedder."""
        if self._loaded is None:
            loaded: dict[str, Embedder] = {}
            for name in self._names:
                try:
                    embedder = load_embedder(name, self._settings, self._runtime)
                except ModelLoadError as exc:
                    if len(self._names) == 1:
                        raise
                    self.failed[resolve(name, "embedder").key] = str(exc)
                    continue
                loaded[embedder.key] = embedder
            if not loaded:
                reasons = " ".join(self.failed.values())
                raise ModelLoadError(f"No model could be loaded: {reasons}")
            self.keys[:] = [key for key in self.keys if key in loaded]
            self._loaded = loaded
        return self._loaded
