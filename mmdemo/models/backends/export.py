"""Exporting an embedder's towers to ONNX, with the specs that replay its pre-processing.

Each modality the model takes (text, image) becomes one graph: the model's own forward
pass (every module of the ``SentenceTransformer``, the lite models' ConSE head included)
traced by ``torch.onnx.export`` (the TorchScript exporter, opset 18) with a dynamic batch,
and for texts a dynamic sequence length. Nothing is written by hand: the graph is what
torch runs. Attention is traced in transformers' ``eager`` form (matrix products and a
softmax), which both runtimes fuse; the traced ``sdpa`` form ran ViT-B/32 half as fast
(bench/README.md, "Backends"). Before a set is published, :func:`check_replay` runs it on
probe texts and images through the chosen runtime and the replayed pre-processing, and
compares with the model itself; a set that does not match is refused (and the model runs
on torch).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.models.backends.graph_model import EMBEDDING, GraphModel
from mmdemo.models.backends.prep import ENCODING_FIELDS, TOKENIZER_FILE
from mmdemo.models.lite.backbone import CPU_PASS
from mmdemo.vectors import unit_rows

OPSET = 18
#: Outputs a module may add beside the embedding that are worth keeping (lite's CNN outputs).
EXTRA_OUTPUTS = ("cnn_logits", "cnn_pooled")
#: Each fp32 vector of the graphs must agree this well with the model's own.
MIN_COSINE = 0.9999
PROBE_TEXTS = (
    "a",
    "a photo of a cat on a red sofa",
    "Ünïcödé, émojis ✓ and 東京 too",
    " ".join(["a very long query that must be truncated"] * 80),
)


class ExportError(Exception):
    """A model whose graphs cannot be exported or do not match the model."""


def _probe_images() -> list[Image.Image]:
    """Small images of different sizes and aspect ratios, with structure in them."""
    rng = np.random.default_rng(0)
    images = []
    for width, height in ((64, 48), (37, 80), (300, 200)):
        ramp = np.linspace(0, 255, width * height * 3).reshape(height, width, 3)
        noise = rng.integers(0, 64, (height, width, 3))
        images.append(Image.fromarray(((ramp + noise) % 256).astype(np.uint8)))
    return images


def _prompt(raw: Any) -> str | None:
    return raw.prompts.get(raw.default_prompt_name) if raw.default_prompt_name else None


def _tower_module(raw: Any, names: list[str], extra: dict[str, Any], outputs: list[str]) -> Any:
    """One modality of ``raw`` as a module of positional tensors, for tracing."""
    # lazy: torch: exporting graphs is the only backend step that needs it
    import torch

    class Tower(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.raw = raw

        def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
            features = self.raw({**dict(zip(names, tensors, strict=True)), **extra})
            return (features["sentence_embedding"], *(features[k] for k in outputs[1:]))

    return Tower()


@contextmanager
def _eager_attention(raw: Any) -> Iterator[None]:
    """Every transformers model inside ``raw`` with eager attention, restored after."""
    # lazy: transformers: keeps it out of searches on exported graphs
    from transformers import PreTrainedModel

    models = [m for m in raw.modules() if isinstance(m, PreTrainedModel)]
    saved = [(model, model.config._attn_implementation) for model in models]
    try:
        for model in models:
            model.set_attn_implementation("eager")
        yield
    finally:
        for model, implementation in saved:
            model.set_attn_implementation(implementation)


def _export_tower(raw: Any, modality: str, path: Path) -> list[str]:
    """Trace ``raw``'s ``modality`` forward pass into ``path``; returns its output names."""
    # lazy: torch: exporting graphs is the only backend step that needs it
    import torch

    example = ["a photo of a dog", "two cats"] if modality == "text" else _probe_images()[:2]
    features = dict(raw.preprocess(example, prompt=_prompt(raw) if modality == "text" else None))
    names = [k for k, v in features.items() if isinstance(v, torch.Tensor)]
    extra = {k: v for k, v in features.items() if not isinstance(v, torch.Tensor)}
    with torch.no_grad():
        produced = raw(dict(features))
    outputs = [EMBEDDING, *(k for k in EXTRA_OUTPUTS if k in produced)]
    axes = {n: {0: "batch", 1: "sequence"} if modality == "text" else {0: "batch"} for n in names}
    with torch.no_grad(), warnings.catch_warnings(), _eager_attention(raw):
        warnings.simplefilter("ignore")  # tracer warnings about Python branches on shapes
        torch.onnx.export(
            _tower_module(raw, names, extra, outputs),
            tuple(features[n] for n in names),
            str(path),
            input_names=names,
            output_names=outputs,
            dynamic_axes={**axes, **{o: {0: "batch"} for o in outputs}},
            opset_version=OPSET,
            dynamo=False,
        )
    return outputs


def _tokenizer_of(raw: Any) -> Any:
    first = raw[0]
    tokenizer = getattr(first, "tokenizer", None)
    if tokenizer is None or not hasattr(tokenizer, "backend_tokenizer"):
        raise ExportError("it has no fast tokenizer to replay")
    return tokenizer


def _text_spec(raw: Any, folder: Path, inputs: Sequence[str]) -> dict[str, Any]:
    """Save the model's tokenizer with its truncation and padding; the text tower's spec."""
    # lazy: tokenizers: keeps it out of commands that export nothing
    from tokenizers import Tokenizer

    tokenizer = _tokenizer_of(raw)
    replay = Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    replay.no_padding()
    natural = len(replay.encode("a").ids)
    replay.enable_truncation(max_length=int(raw[0].max_seq_length))
    width = int(raw.preprocess(["a"])["input_ids"].shape[1])
    replay.enable_padding(
        direction=getattr(tokenizer, "padding_side", "right"),
        pad_id=int(tokenizer.pad_token_id or 0),
        pad_token=str(tokenizer.pad_token or ""),
        length=width if width > natural else None,  # SigLIP pads to a fixed length
    )
    replay.save(str(folder / TOKENIZER_FILE))
    unknown = [name for name in inputs if name not in ENCODING_FIELDS]
    if unknown:
        raise ExportError(f"its text tower takes inputs no tokenizer gives: {unknown}")
    return {"file": TOKENIZER_FILE, "prompt": _prompt(raw) or "", "inputs": list(inputs)}


def _size(value: Any) -> dict[str, int] | None:
    if value is None:
        return None
    items = dict(value) if not hasattr(value, "items") else dict(value.items())
    return {k: int(v) for k, v in items.items() if v is not None}


def _image_spec(raw: Any) -> dict[str, Any]:
    """How the model prepares images, as :mod:`~mmdemo.models.backends.prep` replays it."""
    first = raw[0]
    if hasattr(first, "pixel_spec"):
        return dict(first.pixel_spec())
    processor = getattr(first, "processor", None)
    images = getattr(processor, "image_processor", processor)
    if images is None or getattr(images, "do_pad", False):
        raise ExportError("its image processor cannot be replayed")
    normalise = bool(images.do_normalize)
    return {
        "kind": "processor",
        "resize": _size(images.size) if images.do_resize else None,
        "resample": int(images.resample),
        "crop": _size(images.crop_size) if getattr(images, "do_center_crop", False) else None,
        "rescale": float(images.rescale_factor) if images.do_rescale else None,
        "mean": [float(x) for x in images.image_mean] if normalise else None,
        "std": [float(x) for x in images.image_std] if normalise else None,
    }


def export_set(raw: Any, folder: Path, precision: str) -> dict[str, Any]:
    """Write ``raw``'s fp32 towers and pre-processing specs into ``folder``; the manifest."""
    towers: dict[str, Any] = {}
    for modality in ("text", "image"):
        if not raw.supports(modality):
            continue
        path = folder / f"{modality}.onnx"
        outputs = _export_tower(raw, modality, path)
        spec: dict[str, Any] = {"graph": path.name, "outputs": outputs}
        if modality == "text":
            spec["prep"] = _text_spec(raw, folder, _graph_inputs(path))
        else:
            spec["prep"] = _image_spec(raw)
            spec["pass"] = CPU_PASS if spec["prep"]["kind"] == "square" else 0
        towers[modality] = spec
    if not towers:
        raise ExportError("it embeds neither texts nor images")
    return {
        "format": 1,
        "precision": precision,
        "dim": int(raw.get_embedding_dimension()),
        "truncate_dim": raw.truncate_dim,
        "towers": towers,
    }


def _graph_inputs(path: Path) -> list[str]:
    """The inputs the traced graph kept (the tracer drops those the forward pass ignores)."""
    # lazy: onnx: keeps it out of commands that export nothing
    import onnx

    graph = onnx.load(str(path), load_external_data=False).graph
    initialisers = {i.name for i in graph.initializer}
    return [i.name for i in graph.input if i.name not in initialisers]


def _reference(raw: Any, inputs: list[Any], modality: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The model's own unit vectors and inputs for one batch (as the torch backend runs it)."""
    # lazy: torch: exporting graphs is the only backend step that needs it
    import torch

    features = dict(raw.preprocess(inputs, prompt=_prompt(raw) if modality == "text" else None))
    with torch.no_grad():
        vectors = raw(dict(features))["sentence_embedding"].float().numpy()
    return unit_rows(vectors), features


def check_replay(raw: Any, model: GraphModel, min_cosine: float = MIN_COSINE) -> None:
    """Raise :class:`ExportError` unless the graphs, fed by the replayed pre-processing,
    give each probe's vector within ``min_cosine`` of the model's own, and the replayed
    inputs equal the model's."""
    probes: dict[str, list[Any]] = {"text": list(PROBE_TEXTS), "image": _probe_images()}
    for modality in model.modalities:
        expected, features = _reference(raw, probes[modality], modality)
        prepared = model.preprocess(probes[modality])
        for name, value in prepared.items():
            if not isinstance(value, np.ndarray):
                continue
            own = features[name].numpy()
            same = value.shape == own.shape and np.allclose(value, own, atol=1e-4)
            if not same:
                raise ExportError(f"its {modality} pre-processing could not be replayed ({name})")
        got = unit_rows(model.run(prepared)[EMBEDDING].astype(np.float32))
        worst = float(np.min(np.sum(got * expected, axis=1)))
        if worst < min_cosine:
            raise ExportError(f"its {modality} graph gives other vectors (cosine {worst:.5f})")
