"""int8 graphs: ONNX Runtime's dynamic quantisation of an exported set's transformer towers.

Weights become int8 per output channel and activations are quantised per batch on the fly
(``onnxruntime.quantization.quantize_dynamic``, MatMul and Gemm nodes), the standard int8
recipe for transformer encoders on CPUs with VNNI. Towers made of convolutions (the lite
CNNs) stay fp32: static int8 of EfficientNet-Lite's convolutions moved its embeddings to a
mean cosine of 0.81 of fp32 and ran no faster (bench/README.md, "Backends: int8").
Which models and backends offer int8 at all is :data:`mmdemo.models.backends.choice.INT8`.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

QUANTISED_OPS = ["MatMul", "Gemm"]


def is_convolutional(path: Path) -> bool:
    """Whether a graph has more convolutions than matrix products (a CNN tower)."""
    # lazy: onnx: keeps it out of commands that quantise nothing
    import onnx

    ops = Counter(node.op_type for node in onnx.load(str(path)).graph.node)
    return ops["Conv"] > ops["MatMul"] + ops["Gemm"]


def quantize_set(folder: Path, manifest: dict[str, Any]) -> None:
    """Replace each transformer tower's graph in ``folder`` by its int8 graph, in place,
    and mark in ``manifest`` which towers are int8."""
    # lazy: onnxruntime.quantization: keeps it out of commands that quantise nothing
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger("root").setLevel(logging.WARNING)  # the quantiser logs each node
    for spec in manifest["towers"].values():
        source = folder / spec["graph"]
        if is_convolutional(source):
            spec["int8"] = False
            continue
        target = source.with_name(f"{source.stem}.int8.onnx")
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=QUANTISED_OPS,
        )
        source.unlink()
        spec["graph"], spec["int8"] = target.name, True
