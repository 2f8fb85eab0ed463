"""Backend speed: each backend against torch fp32, in one process, and the issue's targets.

Sets ``FASTEST`` in ``mmdemo/models/backends/choice.py``.

    python -m bench.backend_speed [--quick] [--out bench/results/backend_speed_DATE.json]

Sections (each prints its figures; the targets are printed last, as ratios):

- ``embed``: per model (a random full-size ViT-B/32 CLIP, lite, lite-b2), every backend and
  precision, as below.
- ``ingest``: end-to-end ``index_paths`` vs model-only images/s (bench/perf_ingest.py) with
  the backend ``auto`` picks.
- ``cli``: a cold ``python -m mmdemo search`` per backend in fresh processes (rounds
  interleaved), whether torch or sentence-transformers were imported, and how long an
  ``index`` of new images takes from the process start to its first embedded batch.
- ``app``: ``python app.py`` ready time (until /status says ready) and a warm /search's
  median latency, with ``MMDEMO_BACKEND=torch`` and ``auto``.

Graphs are exported into a temporary graph cache first (``MMDEMO_GRAPH_CACHE``), so every
timed run reads cached graphs, as every run but a model's first does.

The ``embed`` section in detail:

Every variant is loaded through the one loading path (``load_embedder`` with
``Settings(backend=..., precision=...)``; graphs are exported on first load, outside the
timings), then the variants take turns, round after round (every other round in reverse
order), so a drift of a shared host weighs on all alike. Per variant: images/s of the model
alone (``encode_prepared`` on batches of 32 prepared 640x480 photo crops, as indexing runs
the model while its producer thread prepares the next batch), milliseconds of preparing an
image (each backend's own pre-processing), the median of single text-query encodes (one
torch thread, as a search runs them), the speeds as ratios to torch fp32 (ratio of medians,
and the median of each round's own ratio), and the least per-vector cosine to torch fp32
over images and texts.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

#: (backend, precision) pairs measured; torch fp32 is the baseline.
VARIANTS = (("torch", "fp32"), ("onnx", "fp32"), ("openvino", "fp32"), ("onnx", "int8"))
QUERIES = [
    "a cup of coffee",
    "a cat sleeping on a sofa",
    "a rocket on the launch pad",
    "an astronaut in a white suit",
    "a red car parked in the street at night",
    "two dogs",
]


def photo_images(count: int) -> list[Image.Image]:
    """``count`` 640x480 crops of the real photos, decoded and bounded as indexing does."""
    from bench.ingest_scaling import make_photos
    from mmdemo.ingest.images import decode_image, fit_for_models

    with tempfile.TemporaryDirectory() as tmp:
        make_photos(Path(tmp), count, 640, 480)
        return [
            fit_for_models(decode_image(path.read_bytes()).image)
            for path in sorted(Path(tmp).iterdir())
        ]


def load_variants(model: str, data_dir: Path) -> dict[str, Any]:
    """Each variant's embedder by ``backend/precision``; a refused one is left out. int8
    graphs are measured although not offered (mmdemo/models/backends/choice.py)."""
    from mmdemo.config import Settings
    from mmdemo.errors import MMDemoError
    from mmdemo.models.backends import choice
    from mmdemo.models.loading import load_embedder

    choice.INT8 = {(family, "onnx") for family in choice.FASTEST}

    loaded = {}
    for backend, precision in VARIANTS:
        settings = Settings.from_env(data_dir=data_dir, backend=backend, precision=precision)
        try:
            embedder = load_embedder(model, settings)
        except MMDemoError as exc:
            print(f"  {model} {backend}/{precision}: not offered ({exc})", flush=True)
            continue
        if embedder.backend != backend:
            print(f"  {model} {backend}/{precision}: fell back to {embedder.backend}", flush=True)
            continue
        loaded[f"{backend}/{precision}"] = embedder
    return loaded


def _least_cosine(vectors: np.ndarray, reference: np.ndarray) -> float:
    return round(float(np.min(np.sum(vectors * reference, axis=1))), 6)


def _query_ms(embedder: Any) -> float:
    from mmdemo.runtime import default_runtime

    times = []
    with default_runtime().threads.single_query():
        for query in QUERIES:
            start = time.perf_counter()
            embedder.encode_texts([query])
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def _image_pass(embedder: Any, images: list[Image.Image]) -> tuple[float, float]:
    """Seconds of the model alone and of preparing, over ``images`` in batches of 32."""
    model_s = prep_s = 0.0
    for at in range(0, len(images), 32):
        start = time.perf_counter()
        inputs = embedder.prepare_images(images[at : at + 32])
        prepared = time.perf_counter()
        embedder.encode_prepared(inputs)
        prep_s += prepared - start
        model_s += time.perf_counter() - prepared
    return model_s, prep_s


def measure(model: str, images: list[Image.Image], rounds: int) -> dict[str, Any]:
    """Every variant of ``model`` on ``images``: speed ratios and agreement to torch fp32."""
    with tempfile.TemporaryDirectory() as tmp:
        embedders = load_variants(model, Path(tmp))
        base = embedders["torch/fp32"]
        reference = base.encode_images(images[:16]), base.encode_texts(QUERIES)
        for embedder in embedders.values():  # warm: first runs allocate and compile
            embedder.encode_images(images[:8])
            _query_ms(embedder)
        rates: dict[str, list[float]] = {name: [] for name in embedders}
        prep_ms: dict[str, list[float]] = {name: [] for name in embedders}
        query_ms: dict[str, list[float]] = {name: [] for name in embedders}
        names = list(embedders)
        for index in range(rounds):
            for name in names if index % 2 == 0 else reversed(names):
                model_s, prep_s = _image_pass(embedders[name], images)
                rates[name].append(len(images) / model_s)
                prep_ms[name].append(prep_s * 1e3 / len(images))
                query_ms[name].append(_query_ms(embedders[name]))
        rows = {}
        for name, embedder in embedders.items():
            images_cos = _least_cosine(embedder.encode_images(images[:16]), reference[0])
            texts_cos = _least_cosine(embedder.encode_texts(QUERIES), reference[1])
            rows[name] = {
                "images_per_s": round(statistics.median(rates[name]), 2),
                "image_ratio": round(
                    statistics.median(rates[name]) / statistics.median(rates["torch/fp32"]), 3
                ),
                "image_pair_ratio": round(
                    statistics.median(
                        a / b for a, b in zip(rates[name], rates["torch/fp32"], strict=True)
                    ),
                    3,
                ),
                "prep_ms_per_image": round(statistics.median(prep_ms[name]), 2),
                "query_ms": round(statistics.median(query_ms[name]), 2),
                "query_ratio": round(
                    statistics.median(query_ms["torch/fp32"]) / statistics.median(query_ms[name]),
                    3,
                ),
                "min_cos_image": images_cos,
                "min_cos_text": texts_cos,
            }
    return {"model": Path(model).name, "images": len(images), "rounds": rounds, "variants": rows}


# --- the cold CLI ---------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers")
#: Runs the CLI, then prints (stderr, last line) its exit code, the heavy packages it
#: imported and when (wall clock) the indexer embedded its first batch.
WRAPPER = f"""
import json, sys, time
from mmdemo.ingest import indexer
embed, first = indexer.embed_at_index, []
def timed(*args, **kwargs):
    first.append(first or time.time())
    return embed(*args, **kwargs)
indexer.embed_at_index = timed
import runpy
try:
    runpy.run_module("mmdemo", run_name="__main__")  # as python -m mmdemo runs
except SystemExit as exc:
    code = exc.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"code": code, "heavy": heavy, "first_embed": (first or [None])[0]}}),
      file=sys.stderr)
"""


def run_cli(*args: str) -> dict[str, Any]:
    """One CLI run in a fresh process: wall seconds, exit code, heavy imports, first embed."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    start = time.time()
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args], env=env, capture_output=True, text=True
    )
    wall = time.time() - start
    found = json.loads(done.stderr.strip().splitlines()[-1])
    first = found.pop("first_embed")
    return {**found, "wall_s": wall, "to_first_embed_s": None if first is None else first - start}


def cli_section(rounds: int) -> dict[str, Any]:
    """Cold searches per backend (interleaved), and an index's start to its first embed."""
    from bench.ingest_scaling import make_photos

    with tempfile.TemporaryDirectory() as tmp:
        data = ["--data-dir", str(Path(tmp) / "data")]
        make_photos(Path(tmp) / "a", 16, 640, 480)
        run_cli(
            "index",
            str(Path(tmp) / "a"),
            "--collection",
            "c",
            "--model",
            "lite",
            "--backend",
            "onnx",
            *data,
        )
        search = ["search", "--collection", "c", "--text", "a cup of coffee", *data]
        runs: dict[str, list[dict[str, Any]]] = {b: [] for b in ("torch", "onnx", "openvino")}
        for backend in runs:  # OpenVINO compiles a graph once, into its cache
            run_cli(*search, "--backend", backend)
        for index in range(rounds):
            for backend in runs if index % 2 == 0 else reversed(list(runs)):
                runs[backend].append(run_cli(*search, "--backend", backend))
        starts = {}
        for index, backend in enumerate(("torch", "openvino")):
            make_photos(Path(tmp) / f"new{index}", 16, 640, 480, seed=1 + index)
            folder = str(Path(tmp) / f"new{index}")
            starts[backend] = run_cli(
                "index", folder, "--collection", "c", "--model", "lite", "--backend", backend, *data
            )
    searches = {
        backend: {
            "wall_s": round(statistics.median(r["wall_s"] for r in rows), 2),
            "walls_s": [round(r["wall_s"], 2) for r in rows],
            "heavy": sorted({m for r in rows for m in r["heavy"]}),
            "codes": sorted({r["code"] for r in rows}),
        }
        for backend, rows in runs.items()
    }
    first = {
        b: r["to_first_embed_s"] and round(r["to_first_embed_s"], 2) for b, r in starts.items()
    }
    return {"search": searches, "index_to_first_embed_s": first}


# --- the app ----------------------------------------------------------------------------------


def app_run(backend: str, queries: int) -> dict[str, Any]:
    """``python app.py`` with ``MMDEMO_BACKEND=backend``: seconds until ready, and the
    median ms of ``queries`` warm /search calls."""
    import os
    import socket
    import subprocess
    import sys

    from gradio_client import Client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "MMDEMO_DATA_DIR": str(Path(tmp) / "data"),
            "HF_HUB_OFFLINE": "1",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "MMDEMO_BACKEND": backend,
            "GRADIO_TEMP_DIR": str(Path(tmp) / "gradio"),
        }
        start = time.perf_counter()
        server = subprocess.Popen(
            [sys.executable, "app.py", "--port", str(port), "--model", "lite"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            client, ready = None, None
            while ready is None and time.perf_counter() - start < 600:
                try:
                    client = client or Client(f"http://127.0.0.1:{port}", verbose=False)
                    if client.predict(api_name="/status")["phase"] == "ready":
                        ready = time.perf_counter() - start
                except Exception:  # not up yet
                    time.sleep(0.2)
            assert client is not None and ready is not None, "the app did not get ready"
            times = []
            for index in range(queries + 1):
                begin = time.perf_counter()
                client.predict(
                    collection="demo-photos", text=QUERIES[index % len(QUERIES)], api_name="/search"
                )
                times.append((time.perf_counter() - begin) * 1e3)
        finally:
            server.terminate()
            server.wait(30)
    return {"ready_s": round(ready, 1), "warm_search_ms": round(statistics.median(times[1:]), 1)}


def app_section(rounds: int) -> dict[str, Any]:
    """Ready time and warm search latency, torch vs auto, rounds interleaved."""
    runs: dict[str, list[dict[str, Any]]] = {"torch": [], "auto": []}
    for index in range(rounds):
        for backend in runs if index % 2 == 0 else reversed(list(runs)):
            runs[backend].append(app_run(backend, 10))
    return {
        backend: {key: statistics.median(r[key] for r in rows) for key in rows[0]}
        for backend, rows in runs.items()
    }


# --- the targets ------------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[str]:
    """The issue's targets, each with its measured figure."""
    embed, lines = results.get("embed", {}), []
    vit = embed.get("vit-b32", {}).get("variants", {})
    fp32 = [v for k, v in vit.items() if k.endswith("/fp32") and "torch" not in k]
    if fp32:
        best = max(fp32, key=lambda v: v["image_ratio"])
        lines.append(
            f"ViT-B/32 best fp32 backend images/s vs torch: {best['image_ratio']:.2f}x (>= 2.0)"
        )
    if "onnx/int8" in vit:
        lines.append(
            f"ViT-B/32 int8 images/s vs torch: {vit['onnx/int8']['image_ratio']:.2f}x "
            "(>= 2.8 where quality holds; int8 is not offered)"
        )
    for name, found in embed.items():
        fastest = max(
            (v for k, v in found["variants"].items() if k.endswith("/fp32") and "torch" not in k),
            key=lambda v: v["image_ratio"],
        )
        query = max(v["query_ratio"] for k, v in found["variants"].items() if k.endswith("/fp32"))
        lines.append(
            f"{name}: images {fastest['image_ratio']:.2f}x (>= 2.0), one text query "
            f"{query:.2f}x (>= 2.0) vs torch fp32"
        )
    for name, found in results.get("ingest", {}).items():
        lines.append(
            f"{name} indexing end to end / model-only on {found['backend']}: "
            f"{found['pair_ratio_median']:.3f} (>= 0.9)"
        )
    if "cli" in results:
        for backend, row in results["cli"]["search"].items():
            lines.append(
                f"cold CLI search on {backend}: {row['wall_s']:.2f} s (<= 1.5 off "
                f"torch), imports {row['heavy'] or 'neither torch nor ST'}"
            )
        for backend, seconds in results["cli"]["index_to_first_embed_s"].items():
            at = (
                "nothing embedded"
                if seconds is None
                else f"first batch embedded at {seconds:.2f} s"
            )
            lines.append(f"index on {backend}: {at} (<= 2)")
    if "app" in results:
        torch_run, auto = results["app"]["torch"], results["app"]["auto"]
        ready = f"app ready {auto['ready_s']} s auto vs {torch_run['ready_s']} s torch"
        warm = f"warm search {auto['warm_search_ms']} vs {torch_run['warm_search_ms']} ms"
        lines.append(f"{ready}; {warm}")
    return lines


SECTIONS = ("embed", "ingest", "cli", "app")
MODELS = ("vit-b32", "lite", "lite-b2")


def run(
    quick: bool,
    sections: Sequence[str] = SECTIONS,
    names: Sequence[str] = MODELS,
    out: Path | None = None,
) -> dict[str, Any]:
    """The chosen sections' figures and the targets, as bench/perf.py's ``backends``
    section, for the models ``names`` (embed and ingest). Graphs go to a temporary graph
    cache (``MMDEMO_GRAPH_CACHE``, restored after). Each figure is printed, and written to
    ``out`` with the load averages so far, as soon as it is measured, so a run stopped
    early keeps what it measured."""
    import os

    before = os.environ.get("MMDEMO_GRAPH_CACHE")
    with tempfile.TemporaryDirectory(prefix="mmdemo-bench-graphs-") as cache:
        os.environ["MMDEMO_GRAPH_CACHE"] = cache
        try:
            return _sections(quick, sections, names, out)
        finally:
            os.environ.pop("MMDEMO_GRAPH_CACHE")
            if before is not None:
                os.environ["MMDEMO_GRAPH_CACHE"] = before


def _sections(
    quick: bool, sections: Sequence[str], names: Sequence[str], out: Path | None
) -> dict[str, Any]:
    """:func:`run`'s sections, in the graph cache it set."""
    import os
    from datetime import UTC, datetime

    from bench.perf_ingest import measure as ingest_measure
    from bench.perf_ingest import vit_b32

    rounds, count = (2, 32) if quick else (3, 64)
    loads = [Path("/proc/loadavg").read_text().split()[0]]
    results: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="minutes")}
    if not {"embed", "ingest"} & set(sections):
        names = ()  # only these sections load the models; the random ViT-B/32 takes a while
    models = {name: vit_b32() if name == "vit-b32" else name for name in names}
    if "embed" in sections:
        images = photo_images(count)
        results["embed"] = {}
        for name, model in models.items():
            results["embed"][name] = measure(model, images, rounds)
            loads.append(Path("/proc/loadavg").read_text().split()[0])
            _report({name: results["embed"][name]}, results, loads, out)
    if "ingest" in sections:
        from mmdemo.config import Settings
        from mmdemo.models.backends.choice import choose
        from mmdemo.models.registry import resolve

        results["ingest"] = {}
        for name in [name for name in ("vit-b32", "lite") if name in models]:
            backend = choose(resolve(models[name], "embedder"), Settings())[0]
            os.environ["MMDEMO_BACKEND"] = backend
            found = ingest_measure(models[name], count, rounds)
            results["ingest"][name] = {**found, "backend": backend}
            _report({name: results["ingest"][name]}, results, loads, out)
        os.environ.pop("MMDEMO_BACKEND")
    if "cli" in sections:
        results["cli"] = cli_section(rounds)
        _report(results["cli"], results, loads, out)
    if "app" in sections:
        results["app"] = app_section(1 if quick else 2)
        _report(results["app"], results, loads, out)
    loads.append(Path("/proc/loadavg").read_text().split()[0])
    results["load_average"] = loads
    results["targets"] = targets(results)
    _report({}, results, loads, out)
    return results


def _report(
    figure: dict[str, Any], results: dict[str, Any], loads: list[str], out: Path | None
) -> None:
    """Print ``figure``; write every result so far to ``out``."""
    import json

    if figure:
        print(json.dumps(figure), flush=True)
    if out is not None:
        out.write_text(json.dumps({**results, "load_average": loads}, indent=2) + "\n")


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer images and rounds")
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results = run(args.quick, args.sections, args.models, args.out)
    loads = ", ".join(results["load_average"])
    print("\n".join(["", f"Targets (load average {loads}):", *results["targets"]]))


if __name__ == "__main__":
    main()
