"""The one path from a model name to a loaded model.

Every embedder and reranker, preset or Hub id or folder, real or offline, is loaded here:
resolved through the registry, tried from the local cache first, fetched from the Hub only
when the Hub answers, and kept in the caller's :class:`mmdemo.models.cache.ModelCache` (its
:class:`mmdemo.runtime.Runtime`'s; without one, :func:`mmdemo.runtime.default_runtime`'s).
Any failure becomes one
:class:`ModelLoadError` naming the model and the cause, so callers can carry on with other
models.
"""

from __future__ import annotations

import copyreg
import json
import logging
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from mmdemo.config import Settings, is_set
from mmdemo.embed import Embedder
from mmdemo.errors import ModelLoadError
from mmdemo.models.backends.choice import choose
from mmdemo.models.backends.load import graphs_or_torch
from mmdemo.models.base import ModelHandle
from mmdemo.models.cache import ModelCache, owner
from mmdemo.models.memory import check_fits
from mmdemo.models.precision import prepare
from mmdemo.models.registry import (
    DEFAULT_EMBEDDER,
    OFFLINE_EMBEDDER,
    Kind,
    Resolved,
    presets,
    resolve,
)
from mmdemo.rerank import Reranker
from mmdemo.runtime import default_runtime

if TYPE_CHECKING:
    from mmdemo.runtime import Runtime

HUB_PROBE_TIMEOUT_S = 3.0
log = logging.getLogger("mmdemo.models")

CacheKey = tuple[str, str, str, str, str]  # kind, location, device, precision, backend


def hub_reachable(timeout: float = HUB_PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """Whether the Hugging Face Hub can be reached now, and if not, why (fails fast)."""
    if is_set(os.environ.get("HF_HUB_OFFLINE")):
        return False, "HF_HUB_OFFLINE is set"
    url = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True, ""
    except socket.gaierror:
        why = "its address cannot be looked up (no network?)"
    except OSError as exc:
        why = exc.strerror or str(exc) or type(exc).__name__
    return False, f"the Hugging Face Hub ({url.hostname}) is unreachable: {why}"


def unavailable_presets(hub_ok: bool) -> tuple[str, ...]:
    """Keys of the Hub presets that cannot load here: the Hub is unreachable and they are
    not in the local Hub cache. Offline presets always load."""
    if hub_ok:
        return ()
    # lazy: huggingface_hub: keeps it out of start-ups that can reach the Hub
    from huggingface_hub import try_to_load_from_cache

    def cached(repo: str) -> bool:
        return any(
            isinstance(try_to_load_from_cache(repo, name), str)
            for name in ("modules.json", "config.json")
        )

    return tuple(p.key for p in presets() if not p.offline and not cached(p.source))


def _own_modules_only(folder: Path) -> bool:
    """Whether a saved model's modules all come from sentence-transformers or mmdemo itself.

    Such a folder names no code outside these two packages, so letting sentence-transformers
    import its module classes runs only code we ship.
    """
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        types = [str(module["type"]) for module in modules]
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return any(t.startswith("mmdemo.") for t in types) and all(
        t.startswith(("mmdemo.", "sentence_transformers.")) for t in types
    )


def _construct(resolved: Resolved, device: str, local_only: bool) -> Any:
    # lazy: transformers: keeps it out of commands that load no torch model
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # per-tensor "Loading weights" bars are noise
    trust = _is_local(resolved) and _own_modules_only(Path(resolved.location))
    if resolved.kind == "embedder":
        # lazy: sentence-transformers: keeps it out of commands that load no torch model
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(
            resolved.location,
            device=device,
            local_files_only=local_only,
            trust_remote_code=trust,
            processor_kwargs=resolved.processor_kwargs,
        )
    # lazy: sentence-transformers: keeps it out of commands that load no torch model
    from sentence_transformers import CrossEncoder

    return CrossEncoder(
        resolved.location,
        device=device,
        local_files_only=local_only,
        trust_remote_code=trust,
        processor_kwargs=resolved.processor_kwargs,
    )


def _is_local(resolved: Resolved) -> bool:
    return Path(resolved.location).is_dir()


def _describe(exc: BaseException) -> str:
    # lazy: torch: keeps it out of commands that load no torch model
    import torch

    if isinstance(exc, MemoryError | torch.OutOfMemoryError):
        return "out of memory"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _load_raw(resolved: Resolved, device: str) -> Any:
    """Load from disk or the local Hub cache; reach out to the Hub only when it answers.

    Only "not found locally" (an OSError) sends a Hub id to the Hub; any other failure of a
    cached model (out of memory, a broken file) is reported as what it is.
    """
    if _is_local(resolved):
        return _construct(resolved, device, local_only=True)
    try:
        return _construct(resolved, device, local_only=True)
    except OSError as cached_exc:
        reachable, why = hub_reachable()
        if not reachable:
            raise ModelLoadError(
                f"Could not load {resolved.kind} {resolved.key!r}: it is not in the local "
                f"cache and {why}."
            ) from cached_exc
    return _construct(resolved, device, local_only=False)


def _checked_load(resolved: Resolved, device: str) -> Any:
    """:func:`_load_raw`, with any failure turned into one :class:`ModelLoadError`."""
    try:
        return _load_raw(resolved, device)
    except ModelLoadError:
        raise
    except Exception as exc:
        raise ModelLoadError(
            f"Could not load {resolved.kind} {resolved.key!r}: {_describe(exc)}"
        ) from exc


def _raw_model(resolved: Resolved, backend: str, settings: Settings) -> tuple[Any, str]:
    """The model ready for inference and the backend it runs on: the exported graphs of a
    graph backend, else (or when they cannot run it) the torch model, prepared for the
    precision and in eval mode (cached models only run inference)."""

    def load_torch() -> Any:
        return _checked_load(resolved, settings.load_device)

    raw, backend = (
        graphs_or_torch(resolved, backend, settings, load_torch)
        if backend != "torch"
        else (load_torch(), backend)
    )
    if backend == "torch":
        raw = prepare(raw, settings.resolved_precision, settings.resolved_device).eval()
    return raw, backend


def _models(runtime: Runtime | None) -> ModelCache[ModelHandle]:
    return (runtime or default_runtime()).models


def _load(
    name: str, kind: Kind, settings: Settings, models: ModelCache[ModelHandle]
) -> ModelHandle:
    """The cached handle, or a new one, on the backend :func:`choose` picks; one model loads
    at a time per key, while other models are loaded or served from the cache meanwhile."""
    resolved = resolve(name, kind)
    backend, note = choose(resolved, settings)
    device, precision = settings.resolved_device, settings.resolved_precision
    cache_key: CacheKey = (kind, resolved.location, device, precision, backend)

    def load() -> ModelHandle:
        if note:
            log.warning("%s: %s", resolved.key, note)
        check_fits(resolved, settings)
        raw, _ = _raw_model(resolved, backend, settings)
        handle_cls = Embedder if kind == "embedder" else Reranker
        handle = handle_cls(resolved, raw, settings)
        handle.cache_token = models.token
        return handle

    return models.get(cache_key, load, settings.max_models)


def load_embedder(name: str, settings: Settings, runtime: Runtime | None = None) -> Embedder:
    """Load (or reuse, from ``runtime``'s cache) an embedding model by preset key, Hub id or
    folder."""
    handle = _load(name, "embedder", settings, _models(runtime))
    assert isinstance(handle, Embedder)
    return handle


def load_reranker(name: str, settings: Settings, runtime: Runtime | None = None) -> Reranker:
    """Load (or reuse, from ``runtime``'s cache) a CrossEncoder reranker by preset key, Hub
    id or folder."""
    handle = _load(name, "reranker", settings, _models(runtime))
    assert isinstance(handle, Reranker)
    return handle


def load_for_training(name: str, settings: Settings) -> Any:
    """A fresh, uncached ``SentenceTransformer`` to fine-tune: training changes its weights,
    so it must never be a model that searches are using."""
    resolved = resolve(name, "embedder")
    check_fits(resolved, settings)
    return _checked_load(resolved, settings.load_device)


def reload_handle(name: str, kind: Kind, settings: Settings, cache_token: str = "") -> ModelHandle:
    """The loaded handle of ``name`` from the cache that loaded it (or loaded there now):
    how a handle pickled into a ZeroGPU worker comes back to life there."""
    models = owner(cache_token) or _models(None)
    return _load(name, kind, settings, models)


def _by_reference(handle: ModelHandle) -> tuple[Any, tuple[str, Kind, Settings, str]]:
    """How a handle pickles: by reference, so that a ZeroGPU worker (a fork of this process)
    that receives one finds the model in its copy of its owner's cache, or loads it there."""
    return reload_handle, (handle.key, handle.resolved.kind, handle.settings, handle.cache_token)


for _handle_class in (Embedder, Reranker):
    copyreg.pickle(_handle_class, _by_reference)


def forget(name: str, runtime: Runtime | None = None) -> None:
    """Drop every model in ``runtime``'s cache loaded from ``name``'s location (a folder
    written anew)."""
    location = resolve(name, "embedder").location
    _models(runtime).drop(lambda key: isinstance(key, tuple) and key[1] == location)


def default_embedder(
    settings: Settings, runtime: Runtime | None = None, hub: tuple[bool, str] | None = None
) -> tuple[str, str]:
    """The embedder to use when none is named, and a sentence saying why.

    A real CLIP model when it loads (cached, or downloadable now); otherwise the offline
    ``lite`` model, with the reason CLIP was not used. CLIP is not even tried where it
    cannot load (the Hub out of reach, ``hub`` or probed now, and CLIP not cached): the
    attempt would import sentence-transformers and torch for nothing, seconds of a command
    that may need no model at all (a re-index of what is stored).
    """
    reachable, hub_why = hub or hub_reachable()
    if DEFAULT_EMBEDDER in unavailable_presets(reachable):
        why = f"{DEFAULT_EMBEDDER!r} is not in the local cache and {hub_why}"
        return OFFLINE_EMBEDDER, f"Using the offline model {OFFLINE_EMBEDDER!r}: {why}."
    try:
        load_embedder(DEFAULT_EMBEDDER, settings, runtime)
    except ModelLoadError as exc:
        return OFFLINE_EMBEDDER, f"Using the offline model {OFFLINE_EMBEDDER!r}: {exc}"
    return (
        DEFAULT_EMBEDDER,
        f"Using CLIP ({DEFAULT_EMBEDDER!r}): it loaded, so no fallback is needed.",
    )
