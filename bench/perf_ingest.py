"""Ingest: end-to-end indexing throughput as a ratio of model-only ``encode`` throughput.

Model-only encodes images decoded beforehand (what the model alone costs); end-to-end runs
``index_paths`` on the files (read, hash, decode, copies, thumbnails, encode, store) into a
fresh data dir. The two alternate, ``repeats`` times each (every other repeat in reverse
order), in one process with the model and the store's client warm; the figures are the
ratio of their medians (and of their best runs), the median of each repeat's own ratio,
and the ratio per CPU-second of the process. Two sets of distinct 640x480
JPEGs (nothing deduplicates): crops of the 14 sample photos in assets/demos/photos, and noise, the
worst case (twice a photo's decode time, four times its size).
"""

from __future__ import annotations

import atexit
import functools
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ingest_scaling import make_images, make_photos

WIDTH, HEIGHT = 640, 480


def build_vit_b32(folder: Path) -> Path:
    """A full-size ViT-B/32 CLIP with random weights (speed only), saved for loading by path."""
    import torch
    from transformers import CLIPConfig, CLIPImageProcessorPil, CLIPModel, CLIPProcessor

    from tests.tiny_models import clip_tokenizer

    tokenizer = clip_tokenizer()
    config = CLIPConfig(
        text_config={"vocab_size": len(tokenizer), "max_position_embeddings": 77},
        vision_config={"image_size": 224, "patch_size": 32},
        projection_dim=512,
    )
    torch.manual_seed(0)
    processor = CLIPProcessor(
        image_processor=CLIPImageProcessorPil(
            size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224}
        ),
        tokenizer=tokenizer,
    )
    CLIPModel(config).save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


@functools.cache
def vit_b32() -> str:
    """Folder of a random ViT-B/32 built once per process (removed when the process exits),
    so every bench section that measures it shares one build."""
    folder = Path(tempfile.mkdtemp(prefix="mmdemo-vit-b32-"))
    atexit.register(shutil.rmtree, folder, True)
    return str(build_vit_b32(folder / "vit-b32"))


def _rate(count: int, seconds: float) -> float:
    return count / max(seconds, 1e-9)


#: The image sets: how each is written.
IMAGE_SETS = {"photos": make_photos, "noise": make_images}


def measure(model: str, count: int, repeats: int, images: str = "photos") -> dict[str, Any]:
    """Model-only vs end-to-end images/s for ``model`` on ``count`` images of the set
    ``images`` (a key of :data:`IMAGE_SETS`)."""
    from mmdemo.config import Settings
    from mmdemo.ingest.embedding import embed_at_index
    from mmdemo.ingest.images import decode_image, fit_for_models
    from mmdemo.ingest.indexer import BATCH_SIZE, index_paths
    from mmdemo.models.loading import load_embedder
    from mmdemo.models.registry import rerankers_building_on
    from mmdemo.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        IMAGE_SETS[images](folder, count, WIDTH, HEIGHT)
        settings = Settings.from_env(data_dir=Path(tmp) / "warm")
        embedder = load_embedder(model, settings)
        files = sorted(folder.iterdir())
        decoded = [fit_for_models(decode_image(f.read_bytes()).image) for f in files]
        embedder.encode_images(decoded[:4])
        # Chroma's first open in a process costs seconds of lazy imports: warm it like the model.
        Store(settings).existing_ids("bench", embedder.key, ["warm-up"])
        ids = [f"{i:064x}" for i in range(count)]
        embed_at_index(settings, embedder, ids[:4], embedder.prepare_images(decoded[:4]))
        runs: dict[str, list[tuple[float, float]]] = {"model": [], "work": [], "e2e": []}

        def model_only(_: int) -> int:
            embedder.encode_images(decoded)
            return count

        def model_work(i: int) -> int:
            work_settings = Settings.from_env(data_dir=Path(tmp) / f"work{i}")
            for at in range(0, count, BATCH_SIZE):  # in the indexer's batches
                inputs = embedder.prepare_images(decoded[at : at + BATCH_SIZE])
                embed_at_index(work_settings, embedder, ids[at : at + BATCH_SIZE], inputs)
            return count

        def end_to_end(i: int) -> int:
            run_settings = Settings.from_env(data_dir=Path(tmp) / f"run{i}")
            report = index_paths(
                [folder], collection="bench", models=[model], settings=run_settings,
                store=Store(run_settings),
            )  # fmt: skip
            return report.added

        steps = {"model": model_only, "e2e": end_to_end}
        # All the model work indexing does: with lite, the reranker's stored features too;
        # for a model no reranker builds on, that is the model-only run.
        if rerankers_building_on(embedder.key):
            steps["work"] = model_work
        for i in range(repeats):
            # Every other repeat in reverse order, so a drift of the shared host's speed
            # weighs on both sides of a pair alike.
            for name in steps if i % 2 == 0 else reversed(steps):
                start, cpu = time.perf_counter(), time.process_time()
                done = steps[name](i)
                wall, used = time.perf_counter() - start, time.process_time() - cpu
                runs[name].append((_rate(done, wall), _rate(done, used)))
        runs["work"] = runs["work"] or runs["model"]
    rates = {name: [wall for wall, _ in values] for name, values in runs.items()}
    per_cpu = {name: [used for _, used in values] for name, values in runs.items()}
    return {
        "model": Path(model).name,
        "images": count,
        "image_set": images,
        **{f"{key}_per_s": _spread(rates[name]) for key, name in _NAMES.items()},
        "ratio_median": _ratio(rates["e2e"], rates["model"]),
        "ratio_to_model_work": _ratio(rates["e2e"], rates["work"]),
        "ratio_best": round(max(rates["e2e"]) / max(rates["model"]), 3),
        # The median of each repeat's own ratio: the two runs of a repeat are back to back,
        # so they share the host's state; steadier than the ratio of medians on a busy host.
        "pair_ratio_median": _pair_ratio(rates["e2e"], rates["model"]),
        "pair_ratio_to_model_work": _pair_ratio(rates["e2e"], rates["work"]),
        # Images per CPU-second of this process (all threads): steadier than wall time on a
        # shared machine, but blind to overlap, so it bounds what overlap can reach.
        "cpu_ratio_median": _ratio(per_cpu["e2e"], per_cpu["model"]),
    }


#: Result keys of the three runs a repeat makes.
_NAMES = {"model_only": "model", "model_work": "work", "e2e": "e2e"}


def _spread(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": statistics.median(values)}


def _ratio(top: list[float], bottom: list[float]) -> float:
    return round(statistics.median(top) / statistics.median(bottom), 3)


def _pair_ratio(top: list[float], bottom: list[float]) -> float:
    return round(statistics.median(a / b for a, b in zip(top, bottom, strict=True)), 3)


def draft_decode(repeats: int) -> dict[str, Any]:
    """Decode + model input of a 12 MP JPEG: full decode vs draft mode (as decode_image does)."""
    import io

    import numpy as np
    from PIL import Image

    from mmdemo.ingest.images import MODEL_MAX_SIDE, decode_image, fit_for_models

    pixels = np.random.default_rng(0).integers(0, 256, (3000, 4000, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=85)
    data = buffer.getvalue()

    def full() -> None:
        with Image.open(io.BytesIO(data)) as image:
            fit_for_models(image.convert("RGB"))

    times: dict[str, list[float]] = {"full": [], "draft": []}
    for _ in range(repeats):
        for name, decode in (
            ("full", full),
            ("draft", lambda: fit_for_models(decode_image(data).image)),
        ):
            start = time.perf_counter()
            decode()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(values) for name, values in times.items()}
    return {
        "max_side": MODEL_MAX_SIDE,
        "full_ms": round(medians["full"] * 1e3),
        "draft_ms": round(medians["draft"] * 1e3),
        "speed_up": round(medians["full"] / medians["draft"], 2),
    }


def run(quick: bool) -> dict[str, Any]:
    """The ingest section of bench/perf.py: lite and a random ViT-B/32, on each image set."""
    decode = draft_decode(3 if quick else 5)
    print(decode, flush=True)
    rows = [
        measure(model, count, 2 if quick else 4, images)
        for model, count in (("lite", 48 if quick else 192), (vit_b32(), 64 if quick else 96))
        for images in IMAGE_SETS
    ]
    for row in rows:
        print(row, flush=True)
    return {"rows": rows, "jpeg_12mp_decode": decode}
