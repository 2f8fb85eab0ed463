"""Run as a script under a fake ZeroGPU (``SPACES_ZERO_GPU=true``, tests/fake_spaces first on
the path): index and search with a tiny embedder and reranker, and print as JSON which
functions were wrapped and how many model forwards ran inside and outside a GPU call.

Usage: ``python tests/zerogpu_probe.py EMBEDDER_DIR RERANKER_DIR DATA_DIR IMAGES_DIR``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import spaces  # the fake, first on the path: imported before torch, as on ZeroGPU

from mmdemo.config import Settings
from mmdemo.models.loading import load_embedder, load_reranker
from mmdemo.models.zerogpu import GPU_TASKS
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.store import Store


def count_forwards(model: Any, counts: dict[str, int]) -> None:
    """Count every module forward of ``model`` as inside or outside a GPU call."""

    def hook(module: Any, args: Any) -> None:
        inside = getattr(spaces.INSIDE, "depth", 0) > 0
        counts["inside" if inside else "outside"] += 1

    for module in model.modules():
        module.register_forward_pre_hook(hook)


def main(embedder_dir: str, reranker_dir: str, data_dir: str, images_dir: str) -> None:
    from mmdemo.ingest.indexer import index_paths

    settings = Settings.from_env(data_dir=data_dir, device="cpu")
    counts = {"inside": 0, "outside": 0}
    count_forwards(load_embedder(embedder_dir, settings).model, counts)
    count_forwards(load_reranker(reranker_dir, settings).model, counts)
    store = Store(settings)
    report = index_paths(
        [images_dir], collection="probe", models=[embedder_dir], settings=settings, store=store
    )
    results = search(
        Query(text="a red square", image=next(Path(images_dir).iterdir())),
        collection="probe",
        model=embedder_dir,
        settings=settings,
        store=store,
        reranker=reranker_dir,
        top_k=2,
    )
    print(
        json.dumps(
            {
                "tasks": sorted(GPU_TASKS),
                "forwards": counts,
                "added": report.added,
                "results": len(results.table),
                "reranked": results.reranker is not None,
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:5])
