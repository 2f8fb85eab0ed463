"""Offline relevance benchmark of the lite embedders and reranker on photo-like images.

Sets ``INT8`` in ``mmdemo/models/backends/choice.py`` (``--backend onnx --precision int8``).

Corpus and queries (see bench/README.md): the Tux Paint photo cut-outs of one split plus,
for the test split, the 14 scikit-image / scikit-learn photos of ``assets/demos/photos``;
one text query per distinct caption. Prints Recall@1/5/10 and nDCG@10 for ConSE alone and
for each saved embedder,
each without and with the lite reranker on its top 20, the image embedding time, and
image->image near-duplicate Recall@1 (a query is a shrunk, re-encoded copy), and the time of
a one-text query encode. ``--int8-text`` measures all of it with MiniLM's Linear layers
quantised to int8 (dynamic, per output channel), the text side only. ``--backend B
--precision P`` loads each preset through the app's one loading path
(``load_embedder``) on that backend and precision, e.g. ONNX Runtime's int8 graphs
(the reranker stays the lite one on torch, as in the app).

    python -m bench.offline_relevance --split test --share-dir /usr/share
    python -m bench.offline_relevance --split dev --backend onnx --precision int8
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.offline_data import Item, load_image, photo_items, tux_items
from bench.scoring_eval import METRICS, caption_queries, evaluate_scores, ranking_metrics
from mmdemo.evaluate.metrics import summarise
from mmdemo.ingest import images
from mmdemo.models.lite import EMBEDDER_DIRS, RERANKER_DIRS

RERANK_DEPTH = 20


def benchmark_items(share_dir: Path, split: str) -> list[Item]:
    """The corpus of a split: Tux Paint photo cut-outs, plus the real photos for ``test``."""
    items = tux_items(share_dir, split)
    return items + photo_items() if split == "test" else items


def near_duplicate(image: Image.Image) -> Image.Image:
    """A shrunk (60 %), JPEG-re-encoded (quality 60) copy of ``image``."""
    small = image.resize((max(1, image.width * 3 // 5), max(1, image.height * 3 // 5)))
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=60)
    return images.load_image(buffer.getvalue())


def reranked(reranker: Any, query: Any, images: list[Image.Image], order: np.ndarray) -> list[int]:
    """``order`` with its first ``RERANK_DEPTH`` entries reordered by the reranker."""
    head = [int(i) for i in order[:RERANK_DEPTH]]
    ranked = reranker.rank(query, [images[i] for i in head])
    return [head[hit["corpus_id"]] for hit in ranked] + [int(i) for i in order[RERANK_DEPTH:]]


def run_embedder(
    name: str, model: Any, reranker: Any, items: list[Item], images: list[Image.Image]
) -> None:
    """Prints the metric rows of one embedder, without and with the reranker."""
    start = time.perf_counter()
    image_embeddings = model.encode(images, batch_size=32, normalize_embeddings=True)
    ms_per_image = 1000 * (time.perf_counter() - start) / len(images)
    queries, relevant = caption_queries(items)
    scores = model.encode(queries, normalize_embeddings=True) @ image_embeddings.T
    note = f"{ms_per_image:.0f} ms/image, {ms_per_query(model, queries):.1f} ms/query"
    print_row(name, evaluate_scores(scores, relevant), note)
    rows = []
    for query, row, rel in zip(queries, scores, relevant, strict=True):
        rows.append(
            ranking_metrics(reranked(reranker, query, images, np.argsort(-row, kind="stable")), rel)
        )
    print_row(
        f"{name} + rerank@{RERANK_DEPTH}", {k: round(v, 3) for k, v in summarise(rows).items()}, ""
    )
    duplicates = [near_duplicate(image) for image in images]
    dup_scores = (
        model.encode(duplicates, batch_size=32, normalize_embeddings=True) @ image_embeddings.T
    )
    hits = np.mean(np.argmax(dup_scores, axis=1) == np.arange(len(images)))
    print(f"{'':38} near-duplicate image->image R@1 {hits:.3f}")


def ms_per_query(model: Any, queries: list[str], repeats: int = 30) -> float:
    """Median ms of a one-text encode (the queries in turn), as a search encodes its query."""
    timings = []
    for index in range(repeats):
        start = time.perf_counter()
        model.encode([queries[index % len(queries)]], normalize_embeddings=True)
        timings.append(time.perf_counter() - start)
    return 1000 * float(np.median(timings))


def quantise_text_encoder() -> None:
    """From now on, lite models load MiniLM with int8 weights (per output channel) in its
    Linear layers: the text side of every embedder and reranker built after this call."""
    import warnings

    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from mmdemo.models.lite import embedder, text

    def load(device: str = "cpu") -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notice
            return quantize_dynamic(
                text.load_minilm(device),
                {torch.nn.Linear: per_channel_dynamic_qconfig},
                dtype=torch.qint8,
            )

    embedder.load_minilm = load


class Loaded:
    """An embedder loaded by the app (any backend) behind the ``encode`` this bench calls."""

    def __init__(self, preset: str, backend: str, precision: str) -> None:
        from mmdemo.config import Settings
        from mmdemo.models.backends import choice
        from mmdemo.models.loading import load_embedder
        from mmdemo.models.registry import resolve

        # Measure int8 graphs also where the app does not offer them: this bench decides that.
        choice.INT8 = choice.INT8 | {(choice.family(resolve(preset, "embedder")), backend)}
        settings = Settings.from_env(backend=backend, precision=precision)
        self.embedder = load_embedder(preset, settings)
        if self.embedder.backend != backend:
            raise SystemExit(f"{preset} runs on {self.embedder.backend}, not on {backend}")

    def encode(self, inputs: list[Any], batch_size: int = 32, **_: Any) -> np.ndarray:
        """Unit vectors of texts or of images."""
        if all(isinstance(item, str) for item in inputs):
            return self.embedder.encode_texts(inputs, batch_size)
        return self.embedder.encode_images(inputs, batch_size)


def print_row(name: str, metrics: dict[str, float], note: str) -> None:
    """One aligned table row."""
    cells = " ".join(f"{metrics[m]:>7.3f}" for m in METRICS)
    print(f"{name:38} {cells}  {note}", flush=True)


def conse_baseline() -> Any:
    """ConSE alone (k=50, prompts "a photo of a <all synonyms>"), in the same joint layout."""
    from sentence_transformers import SentenceTransformer

    from mmdemo.models.lite.embedder import LiteEmbedder

    module = LiteEmbedder(
        backbone="lite0", prompt_style="synonyms", top_k=50, projection_weight=0.0
    )
    reference = SentenceTransformer(
        str(EMBEDDER_DIRS["lite"]), device="cpu", trust_remote_code=True
    )
    module.feature_mean.copy_(reference[0].feature_mean)
    return SentenceTransformer(modules=[module], device="cpu")


def main() -> None:
    """Builds the split, runs every model, prints the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", choices=("dev", "test"), default="test")
    parser.add_argument("--share-dir", type=Path, default=Path("/usr/share"))
    parser.add_argument("--presets", nargs="+", default=list(EMBEDDER_DIRS))
    parser.add_argument(
        "--int8-text",
        action="store_true",
        help="MiniLM with int8 Linear weights for every text it encodes (the saved presets keep "
        "their stored class embeddings; the ConSE row recomputes its own)",
    )
    parser.add_argument("--backend", help="load presets on this backend (see the docstring)")
    parser.add_argument("--precision", default="fp32", help="with --backend: fp32 or int8")
    args = parser.parse_args()
    if args.int8_text:
        quantise_text_encoder()
    from sentence_transformers import CrossEncoder, SentenceTransformer

    items = benchmark_items(args.share_dir, args.split)
    images = [load_image(item) for item in items]
    print(f"{args.split}: {len(items)} images, {len(caption_queries(items)[0])} text queries")
    print(f"{'model':38} " + " ".join(f"{m:>7}" for m in METRICS))
    reranker = CrossEncoder(str(RERANKER_DIRS["lite"]), device="cpu", trust_remote_code=True)
    if args.backend is None:
        run_embedder("ConSE (lite0, k=50)", conse_baseline(), reranker, items, images)
    for preset in args.presets:
        if args.backend is not None:
            loaded = Loaded(preset, args.backend, args.precision)
            run_embedder(
                f"{preset} {args.backend}/{args.precision}", loaded, reranker, items, images
            )
            continue
        model = SentenceTransformer(
            str(EMBEDDER_DIRS[preset]), device="cpu", trust_remote_code=True
        )
        run_embedder(f"{preset}", model, reranker, items, images)


if __name__ == "__main__":
    main()
