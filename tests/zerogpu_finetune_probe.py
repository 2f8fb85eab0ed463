"""Run as a script under a fake ZeroGPU (``SPACES_ZERO_GPU=true``, tests/fake_spaces first on
the path): fine-tune a tiny embedder on a captioned collection, and print as JSON how many
training forwards (modules in training mode) and other forwards ran inside and outside a
GPU call, the training progress that came back, and the fine-tune's report.

Usage: ``python tests/zerogpu_finetune_probe.py EMBEDDER_DIR DATA_DIR IMAGES_DIR CAPTIONS_CSV
OUT_DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import spaces  # the fake, first on the path: imported before torch, as on ZeroGPU
import torch

from mmdemo.config import Settings
from mmdemo.finetune.run import FinetuneRequest, finetune
from mmdemo.ingest.indexer import index_paths
from mmdemo.store import Store


def main(embedder_dir: str, data_dir: str, images: str, captions: str, out: str) -> None:
    forwards = {"train inside": 0, "train outside": 0, "other inside": 0, "other outside": 0}

    def count(module: Any, args: Any) -> None:
        kind = "train" if module.training and torch.is_grad_enabled() else "other"
        place = "inside" if spaces.INSIDE.depth > 0 else "outside"
        forwards[f"{kind} {place}"] += 1

    torch.nn.modules.module.register_module_forward_pre_hook(count)
    settings = Settings.from_env(data_dir=data_dir, device="cpu")
    store = Store(settings)
    index_paths(
        [images], collection="pets", models=[embedder_dir], settings=settings, store=store,
        captions=captions,
    )  # fmt: skip
    steps: list[list[Any]] = []

    def progress(stage: str, done: int, total: int, loss: float | None) -> None:
        if stage == "train":
            steps.append([done, total, loss])

    request = FinetuneRequest("pets", embedder_dir, Path(out), epochs=2, batch_size=8)
    report = finetune(request, settings=settings, store=store, progress=progress)
    print(json.dumps({"forwards": forwards, "steps": steps, "report": report.to_json()}))


if __name__ == "__main__":
    main(*sys.argv[1:6])
