"""What one candidate costs a Qwen3-VL reranker preset on this CPU: the figures behind
``MEASURED_SECONDS`` in ``mmdemo/models/rerank_cost.py``.

    python -m bench.rerank_cost [--full] [--presets KEY ...] [--out FILE.json]

The presets cannot be downloaded here, and only their cost matters, so each preset's
architecture is built locally from its config (the values of the published Qwen3-VL-2B and
-8B ``config.json`` the rerankers are built on, below) with random weights, in fp32 as the
CPU runs it. One candidate is what ``CrossEncoder.rank`` runs per document: one forward
pass over the chat-formatted (query, document) pair, a short text query and one image, of
which only the last position's logits are read (``LogitScore``). The image goes through
the Qwen2-VL image processor bounded by the preset's ``max_pixels`` (a 12 MP photo is
scaled down to the same token count as the bound), so its token count is what the preset
really sees.

The 8B preset does not fit this machine's memory in fp32 (35 GB), so every preset is also
built with only ``--layers`` vision blocks and decoder layers: forward hooks time each
block, and the per-block medians scale to the preset's full depth (the rest of the pass,
embeddings, merger and the last logits, is timed as it is). ``--full`` also builds the 2B
preset whole and times it, which checks that extrapolation. Each pass runs twice (the first
warms the allocator); the second is kept.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmdemo.models.registry import resolve

IMAGE_TOKEN, VISION_START, VISION_END = 151655, 151652, 151653
#: The layers of the Qwen3-VL models the reranker presets are built on (their config.json).
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "qwen3-vl-reranker-2b": {
        "text": {"hidden_size": 2048, "intermediate_size": 6144, "num_hidden_layers": 28,
                 "num_attention_heads": 16, "num_key_value_heads": 8, "tie_word_embeddings": True},
        "vision": {"depth": 24, "hidden_size": 1024, "intermediate_size": 4096,
                   "out_hidden_size": 2048, "deepstack_visual_indexes": [5, 11, 17]},
    },
    "qwen3-vl-reranker-8b": {
        "text": {"hidden_size": 4096, "intermediate_size": 12288, "num_hidden_layers": 36,
                 "num_attention_heads": 32, "num_key_value_heads": 8, "tie_word_embeddings": False},
        "vision": {"depth": 27, "hidden_size": 1152, "intermediate_size": 4304,
                   "out_hidden_size": 4096, "deepstack_visual_indexes": [8, 16, 24]},
    },
}  # fmt: skip
#: What every Qwen3-VL size shares.
COMMON_TEXT = {
    "vocab_size": 151936,
    "head_dim": 128,
    "hidden_act": "silu",
    "max_position_embeddings": 262144,
    "rms_norm_eps": 1e-6,
    "rope_parameters": {
        "rope_type": "default",
        "rope_theta": 5000000.0,
        "mrope_section": [24, 20, 20],
        "mrope_interleaved": True,
    },
}
COMMON_VISION = {
    "hidden_act": "gelu_pytorch_tanh",
    "num_heads": 16,
    "in_channels": 3,
    "patch_size": 16,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "num_position_embeddings": 2304,
}
#: Tokens of the chat template, instruction and a short query around the image.
TEXT_TOKENS = 96
#: Photo sizes whose token counts are shown: small, at the bound, and a 12 MP photo.
SIZES = ((448, 336), (1024, 768), (4000, 3000))


def config(key: str, layers: int | None = None) -> Any:
    """The preset's Qwen3-VL config; with ``layers``, that many vision blocks and decoder
    layers only (the deepstack taps moved into them)."""
    from transformers import Qwen3VLConfig

    shape = ARCHITECTURES[key]
    text, vision = {**COMMON_TEXT, **shape["text"]}, {**COMMON_VISION, **shape["vision"]}
    if layers is not None:
        text["num_hidden_layers"] = vision["depth"] = layers
        taps = len(vision["deepstack_visual_indexes"])
        vision["deepstack_visual_indexes"] = list(range(layers - taps, layers))
    return Qwen3VLConfig(
        text_config=text,
        vision_config=vision,
        image_token_id=IMAGE_TOKEN,
        vision_start_token_id=VISION_START,
        vision_end_token_id=VISION_END,
        tie_word_embeddings=shape["text"]["tie_word_embeddings"],
    )


def build_model(key: str, layers: int | None = None) -> Any:
    """The preset's architecture with random weights, fp32, in eval mode."""
    import torch
    from transformers import Qwen3VLForConditionalGeneration

    torch.manual_seed(0)
    return Qwen3VLForConditionalGeneration(config(key, layers)).eval()


def max_pixels(key: str) -> int:
    """The preset's image bound (its processor's ``max_pixels``)."""
    bound = (resolve(key, "reranker").processor_kwargs or {}).get("max_pixels")
    if bound is None:
        raise SystemExit(f"{key} has no max_pixels bound")
    return bound


def candidate_inputs(size: tuple[int, int], bound: int) -> dict[str, Any]:
    """One (query, image document) pair as the model gets it: image tokens in the text."""
    import torch
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import (
        Qwen2VLImageProcessorPil,
    )

    half = [0.5, 0.5, 0.5]
    processor = Qwen2VLImageProcessorPil(
        patch_size=16,
        merge_size=2,
        temporal_patch_size=2,
        max_pixels=bound,
        image_mean=half,
        image_std=half,
    )
    pixels = np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    image = processor(images=[Image.fromarray(pixels)], return_tensors="pt")
    grid = image["image_grid_thw"]
    image_tokens = int(grid.prod()) // 4  # merge_size 2 x 2
    ids = [1000 + i for i in range(TEXT_TOKENS // 2)]
    ids += [VISION_START, *[IMAGE_TOKEN] * image_tokens]
    ids += [VISION_END, *(2000 + i for i in range(TEXT_TOKENS // 2))]
    input_ids = torch.tensor([ids])
    return {
        "input_ids": input_ids,
        "attention_mask": torch.ones_like(input_ids),
        "mm_token_type_ids": (input_ids == IMAGE_TOKEN).long(),  # 1 marks an image token
        "pixel_values": image["pixel_values"],
        "image_grid_thw": grid,
    }


@contextmanager
def block_timer(model: Any) -> Iterator[dict[str, list[float]]]:
    """Seconds of each vision block and decoder layer run meanwhile, by kind."""
    spans: dict[str, list[float]] = {"vision": [], "text": []}
    started: dict[int, float] = {}
    handles = []
    for kind, blocks in (
        ("vision", model.model.visual.blocks),
        ("text", model.model.language_model.layers),
    ):
        for block in blocks:

            def before(module: Any, *_: Any) -> None:
                started[id(module)] = time.perf_counter()

            def after(module: Any, *_: Any, kind: str = kind) -> None:
                spans[kind].append(time.perf_counter() - started.pop(id(module)))

            handles += [block.register_forward_pre_hook(before), block.register_forward_hook(after)]
    try:
        yield spans
    finally:
        for handle in handles:
            handle.remove()


def time_candidate(model: Any, inputs: dict[str, Any]) -> tuple[float, dict[str, list[float]]]:
    """Seconds of one candidate's forward pass and its blocks' seconds (the second of two)."""
    import torch

    seconds, kept = 0.0, {}
    for _ in range(2):
        with block_timer(model) as spans, torch.inference_mode():
            start = time.perf_counter()
            model(**inputs, logits_to_keep=1, use_cache=False)
            seconds = time.perf_counter() - start
        kept = spans
    return seconds, kept


def full_depth_seconds(key: str, seconds: float, spans: dict[str, list[float]]) -> float:
    """A truncated model's pass scaled to the preset's depth: the rest as timed, each kind
    of block at its median times the preset's count of them."""
    shape = ARCHITECTURES[key]
    counts = {"vision": shape["vision"]["depth"], "text": shape["text"]["num_hidden_layers"]}
    rest = seconds - sum(sum(v) for v in spans.values())
    total: float = rest + sum(statistics.median(spans[kind]) * counts[kind] for kind in counts)
    return total


def measure(key: str, layers: int, full: bool) -> dict[str, Any]:
    """One preset's token counts per photo size and its seconds per candidate at the bound."""
    bound = max_pixels(key)
    tokens = {
        f"{w}x{h}": int(candidate_inputs((w, h), bound)["input_ids"].shape[1]) for w, h in SIZES
    }
    inputs = candidate_inputs(SIZES[-1], bound)
    model = build_model(key, layers)
    seconds, spans = time_candidate(model, inputs)
    row: dict[str, Any] = {
        "preset": key,
        "max_pixels": bound,
        "tokens_per_photo": tokens,
        "layers_built": layers,
        "truncated_pass_s": round(seconds, 2),
        "seconds_per_candidate": round(full_depth_seconds(key, seconds, spans), 2),
    }
    del model
    if full:
        model = build_model(key)
        row["parameters"] = sum(p.numel() for p in model.parameters())
        row["full_model_s"] = round(time_candidate(model, inputs)[0], 2)
        del model
    row["top20_s"] = round(row.get("full_model_s", row["seconds_per_candidate"]) * 20, 1)
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layers", type=int, default=4, help="blocks of each kind to build")
    parser.add_argument("--full", action="store_true", help="also time the whole 2B model")
    parser.add_argument("--presets", nargs="+", default=list(ARCHITECTURES), choices=ARCHITECTURES)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import torch

    rows = [measure(key, args.layers, args.full and "2b" in key) for key in args.presets]
    result = {
        "when": datetime.now(UTC).isoformat(timespec="minutes"),
        "threads": torch.get_num_threads(),
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
        "presets": rows,
    }
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
