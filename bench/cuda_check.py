"""CUDA check: the GPU paths CI cannot run (no GPU there), run on a GPU machine.

1. Fine-tuning: a tiny CLIP trains on 64 (caption, image) pairs on CUDA through
   ``mmdemo.finetune.trainer.train`` with the mixed-precision flags it chooses; prints the
   flags, the first and last loss, and whether the weights moved.
2. Encoding: a random full-size ViT-B/32 CLIP through the one loading path on CUDA, in
   fp32 and bf16; prints images/s for each (ratio, same process) and the top-5 neighbour
   agreement of the two precisions.
3. Lite CNN passes: a random-weight EfficientNet-Lite0 (speed only; its weights package is
   too large to carry) in passes of a few images, as the CPU runs it, vs whole batches, as
   other devices do (``mmdemo.models.lite.backbone.CPU_PASS``); prints images/s of each.

    python -m bench.cuda_check [--checks training encoding lite-passes]
"""

from __future__ import annotations

import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image

if TYPE_CHECKING:
    from mmdemo.config import Settings


def _images(folder: Path, count: int, size: int) -> list[Path]:
    """``count`` distinct coloured gradient images."""
    import numpy as np

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        base = rng.integers(0, 255, 3)
        ramp = np.linspace(0, 1, size)[None, :, None] * rng.integers(0, 255, 3)
        pixels = np.clip(base + ramp + rng.normal(0, 8, (size, size, 3)), 0, 255)
        path = folder / f"img{i:03d}.png"
        Image.fromarray(pixels.astype("uint8")).save(path)
        paths.append(path)
    return paths


def check_training(settings: Settings, tmp: Path) -> None:
    """Fine-tune the tiny CLIP on CUDA and report precision, losses and weight change."""
    import torch

    from mmdemo.finetune.pairs import Pair
    from mmdemo.finetune.recipes import TRANSFORMERS
    from mmdemo.finetune.trainer import Hyper, _precision_flags, train
    from mmdemo.models.loading import load_for_training
    from tests.tiny_models import build_tiny_clip

    folder = build_tiny_clip(tmp / "tiny-clip")
    pairs = [
        Pair(f"id{i}", f"picture number {i}", path)
        for i, path in enumerate(_images(tmp / "pairs", 64, 48))
    ]
    model = load_for_training(str(folder), settings)
    before = [p.detach().clone() for p in model.parameters()]
    hyper = Hyper.choose(TRANSFORMERS, epochs=3, batch_size=16, lr=5e-4)
    print(f"training flags: {_precision_flags(settings)}", flush=True)
    log = train(model, pairs, recipe=TRANSFORMERS, hyper=hyper, settings=settings, work_dir=tmp)
    moved = any(
        not torch.equal(a, b.detach()) for a, b in zip(before, model.parameters(), strict=True)
    )
    device = next(model.parameters()).device
    print(f"\ntrained on {device}")
    print(f"losses: first {log.losses[0]:.4f}, last {log.losses[-1]:.4f}, {log.steps} steps")
    print(f"weights moved: {moved}, {log.seconds:.1f} s")


def check_encoding(settings: Settings, tmp: Path, count: int) -> None:
    """ViT-B/32 image encoding on CUDA in fp32 and bf16: speed ratio and agreement."""
    import numpy as np

    from bench.perf_ingest import build_vit_b32
    from mmdemo.models.loading import load_embedder
    from mmdemo.runtime import default_runtime

    folder = build_vit_b32(tmp / "vit-b32")
    images = [Image.open(p).convert("RGB") for p in _images(tmp / "enc", count, 224)]
    found: dict[str, tuple[float, np.ndarray]] = {}
    for precision in ("fp32", "bf16"):
        default_runtime().models.clear()
        embedder = load_embedder(str(folder), replace(settings, precision=precision))
        embedder.encode_images(images[:32])
        rates = []
        for _ in range(3):
            start = time.perf_counter()
            vectors = embedder.encode_images(images)
            rates.append(len(images) / (time.perf_counter() - start))
        found[precision] = (max(rates), np.asarray(vectors, dtype=np.float32))
        print(f"{precision}: {max(rates):.0f} images/s (best of 3)")
    print(forward_only(folder, settings))
    a, b = found["fp32"][1], found["bf16"][1]
    top_a = np.argsort(-(a @ a.T), axis=1)[:, 1:6]
    top_b = np.argsort(-(b @ b.T), axis=1)[:, 1:6]
    agree = np.mean([len(set(x) & set(y)) / 5 for x, y in zip(top_a, top_b, strict=True)])
    print(
        f"bf16/fp32 speed: {found['bf16'][0] / found['fp32'][0]:.2f}x, top-5 agreement {agree:.3f}"
    )


def forward_only(folder: Path, settings: Settings) -> str:
    """The vision tower alone on ready-made pixels (no CPU preprocessing): fp32 vs bf16."""
    import torch
    from transformers import CLIPModel

    model: Any = CLIPModel.from_pretrained(folder)
    model = model.to(settings.resolved_device).eval()
    pixels = torch.randn(256, 3, 224, 224, device=settings.resolved_device)
    rates = {}
    for precision in ("fp32", "bf16"):
        with (
            torch.inference_mode(),
            torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"),
        ):
            model.get_image_features(pixel_values=pixels)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(10):
                model.get_image_features(pixel_values=pixels)
            torch.cuda.synchronize()
            rates[precision] = 2560 / (time.perf_counter() - start)
    ratio = rates["bf16"] / rates["fp32"]
    fp32, bf16 = rates["fp32"], rates["bf16"]
    return f"vision tower alone: fp32 {fp32:.0f}, bf16 {bf16:.0f} images/s ({ratio:.2f}x)"


def check_lite_passes(device: str, count: int) -> None:
    """Lite0's CNN on ``device`` in passes of :data:`CPU_PASS` images and in larger ones."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    from mmdemo.models.lite import backbone as bb

    net = EfficientNet.from_name("efficientnet-lite0").eval().to(device)
    pixels = torch.randn(count, 3, 224, 224, device=device)

    def rate(size: int) -> float:
        with torch.inference_mode():
            bb.logits_and_features(net, pixels[:size])
            if device == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            for part in pixels.split(size):
                bb.logits_and_features(net, part)
            if device == "cuda":
                torch.cuda.synchronize()
        return count / (time.perf_counter() - start)

    rates = {size: rate(size) for size in (bb.CPU_PASS, 32, count)}
    shown = ", ".join(f"passes of {size}: {value:.0f}" for size, value in rates.items())
    print(f"lite0 CNN, random weights, {count} images on {device}, images/s: {shown}")


def main() -> int:
    import argparse

    import torch

    from mmdemo.config import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cuda", help="cpu only to try the script itself")
    parser.add_argument("--images", type=int, default=256)
    checks = ("training", "encoding", "lite-passes")
    parser.add_argument("--checks", nargs="+", choices=checks, default=list(checks))
    args = parser.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        print("no CUDA here: run this on a GPU machine")
        return 2
    if args.device == "cuda":
        print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}")
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        settings = replace(Settings.from_env(data_dir=tmp / "data"), device=args.device)
        print(f"precision when none is chosen: {settings.resolved_precision}")
        if "training" in args.checks:
            check_training(settings, tmp)
        if "encoding" in args.checks:
            check_encoding(settings, tmp, args.images)
        if "lite-passes" in args.checks:
            check_lite_passes(args.device, args.images)
    return 0


if __name__ == "__main__":
    sys.exit(main())
