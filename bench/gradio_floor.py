"""A bare gradio app with a ``search`` endpoint that does a fixed amount of work: the floor.

bench/concurrent_search.py ``--floor-ms W`` serves this beside the real app and measures it
with the same clients, so the app's p95 / single can be read against what gradio itself
gives on the same machine: the same queue settings, a typed ``gr.api`` endpoint in a
concurrency group of the app's search size, the parameters the clients send, outputs
shaped like the app's (a payload of results and their CSV file), and ``W`` ms of CPU work
that releases the GIL (single-threaded numpy matrix products, as torch's kernels release
it) instead of a search.

    python -m bench.gradio_floor --port 7861 --work-ms 10

No ``from __future__ import annotations`` here: ``gr.api`` reads the endpoint's type hints
as objects to choose its components (a ``gr.FileData`` return becomes a served file).
"""

import argparse
import csv
import os
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core per request, like a query encode
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", str(2**62))  # as the app's launch()

import gradio as gr
import numpy as np

from mmdemo.ui.context import SEARCH_POOLED

_BLOCK = np.random.default_rng(0).random((256, 256), dtype=np.float32)


def busy(work_ms: float) -> None:
    """Spend about ``work_ms`` ms of CPU in numpy kernels, which run without the GIL."""
    end = time.perf_counter() + work_ms / 1000
    while time.perf_counter() < end:
        _BLOCK @ _BLOCK


def build(work_ms: float) -> gr.Blocks:
    """The floor app: ``search`` and ``status`` endpoints, nothing else."""
    downloads = tempfile.mkdtemp(prefix="mmdemo-floor-")

    def search(
        collection: str,
        text: str = "",
        image: dict[str, Any] | None = None,
        model: str = "",
        reranker: str = "none",
        top_k: int = 10,
        weight: float = 0.5,
        negative: str = "",
        negative_weight: float = 0.5,
        caption_contains: str = "",
        where: str = "",
        caption_weight: float = 0.0,
    ) -> tuple[dict[str, Any], gr.FileData]:
        """``work_ms`` of work, then ``top_k`` made-up results and their CSV, shaped like the
        app's; takes the app's parameters, so that both clients call it unchanged."""
        busy(work_ms)
        results = [
            {"rank": i + 1, "id": f"{i:064x}", "file_name": f"{i}.jpg", "caption": text,
             "score": 1.0 - i / 100, "rerank_score": None, "rank_before_rerank": None}
            for i in range(top_k)
        ]  # fmt: skip
        path = Path(tempfile.mkdtemp(dir=downloads)) / "search-results.csv"
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(results[0]))
            writer.writeheader()
            writer.writerows(results)
        payload = {"model": model, "reranker": reranker, "timings_ms": {}, "results": results}
        return payload, gr.FileData(path=str(path), orig_name=path.name)

    def status() -> dict[str, str]:
        """Always ready: the clients wait for this as they wait for the app's start-up."""
        return {"phase": "ready"}

    with gr.Blocks() as app:
        gr.api(search, api_name="search", **SEARCH_POOLED)
        gr.api(status, api_name="status")
    app.queue(default_concurrency_limit=2)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--work-ms", type=float, default=0.0)
    args = parser.parse_args()
    build(args.work_ms).launch(server_name="127.0.0.1", server_port=args.port)


if __name__ == "__main__":
    main()
