"""Reranked vs not reranked on every offline split, and the fusion share chosen on dev.

Sets ``RERANK_SHARE``, ``CONFIDENT_MARGIN`` and ``DECISIVE_MARGIN`` in
``mmdemo/search/fusion.py``.

For each split: the ``lite`` embedder ranks all images for each caption query (the
first stage); the ``lite`` reranker rescores the top 20 from its per-image features (the
stored-feature path the app uses, captions not shown: they are the queries); the two
scores are fused with :func:`mmdemo.search.fusion.fuse` at several fixed reranker shares,
and with the confidence-adaptive share (the share shrinks to 0 as the first stage's top-1
margin reaches ``m``, and is 0 when the reranker's own top-1 margin is under ``g``;
``adaptive s/m/g``, the app's default is ``fuse``'s own), and
reciprocal-rank fusion (k=60) is shown for comparison. Prints R@1, R@10 and nDCG@10 per
split and variant, and writes them as JSON. ``--views 1|2`` sets how many views of each
image the reranker averages (the centre crop, and its mirror image).

    python -m bench.rerank_fusion --share-dir /usr/share --emoji-dir node_modules/... \
        --out bench/results/rerank_fusion.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.feature_cache import item_set
from bench.offline_data import Item, load_image
from bench.scoring_eval import caption_queries, ranking_metrics
from mmdemo.evaluate.metrics import summarise
from mmdemo.models.lite import EMBEDDER_DIRS, RERANKER_DIRS
from mmdemo.search.fusion import adaptive_share, fuse

DEPTH = 20
SHARES = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
RRF_K = 60
#: (largest share, confident first-stage margin, decisive reranker margin) triples of the
#: adaptive rule; g = 0 is the rule without the reranker's gate.
ADAPTIVE = tuple(
    (s, m, g)
    for s in (0.4, 0.6, 1.0)
    for m in (0.25, 0.5)
    for g in (0.0, 0.25, 0.35, 0.5, 0.6, 0.75)
)
SPLITS = ("tux-dev", "tux-test", "photos", "tux-train", "emoji", "clipart")
SHOWN = ("R@1", "R@10", "nDCG@10")


def rrf(first: np.ndarray, rerank: np.ndarray) -> np.ndarray:
    """Reciprocal-rank fusion of two score lists (higher is better)."""
    ranks_first = np.argsort(np.argsort(-first, kind="stable"), kind="stable")
    ranks_rerank = np.argsort(np.argsort(-rerank, kind="stable"), kind="stable")
    return 1.0 / (RRF_K + ranks_first) + 1.0 / (RRF_K + ranks_rerank)


def split_scores(items: list[Item], embedder: Any, module: Any) -> dict[str, dict[str, float]]:
    """Metrics of every variant over one split's caption queries."""
    import torch

    images = [load_image(item) for item in items]
    with torch.inference_mode():
        embeddings = embedder.encode(images, batch_size=32, normalize_embeddings=True)
        rows = torch.cat(
            [module.image_features(images[i : i + 32]) for i in range(0, len(images), 32)]
        )
        queries, relevant = caption_queries(items)
        first = embedder.encode(queries, normalize_embeddings=True) @ embeddings.T
        variants: dict[str, list[dict[str, float]]] = {}
        for query, scores, rel in zip(queries, first, relevant, strict=True):
            order = np.argsort(-scores, kind="stable")
            head, tail = order[:DEPTH], [int(i) for i in order[DEPTH:]]
            rerank = module.text_image_scores(module.encode_query_text(query), rows[head]).numpy()
            fused = {f"fuse {s:.1f}": fuse(scores[head], rerank, s) for s in SHARES}
            for share, margin, gate in ADAPTIVE:
                adapted = adaptive_share(scores[head], rerank, share, margin, gate)
                name = f"adaptive {share:.1f}/{margin:.2f}/{gate:.2f}"
                fused[name] = fuse(scores[head], rerank, adapted)
            fused["default"] = fuse(scores[head], rerank)
            fused["rrf"] = rrf(scores[head], rerank)
            variants.setdefault("no rerank", []).append(ranking_metrics(list(order), rel))
            for name, value in fused.items():
                ranked = [int(head[i]) for i in np.argsort(-value, kind="stable")] + tail
                variants.setdefault(name, []).append(ranking_metrics(ranked, rel))
    return {name: {k: round(v, 3) for k, v in summarise(r).items()} for name, r in variants.items()}


def main() -> None:
    """Runs every split and prints the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--share-dir", type=Path, default=Path("/usr/share"))
    parser.add_argument(
        "--emoji-dir", type=Path, default=Path("node_modules/emoji-datasource-google")
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("bench/.cache"))
    parser.add_argument("--drawings", type=int, default=300, help="emoji / clipart images used")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS))
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--views",
        type=int,
        choices=(1, 2),
        default=None,
        help="the reranker's views per image: 1 (centre) or 2 (and its mirror image); "
        "default: the preset's",
    )
    args = parser.parse_args()
    from sentence_transformers import CrossEncoder, SentenceTransformer

    embedder = SentenceTransformer(str(EMBEDDER_DIRS["lite"]), device="cpu", trust_remote_code=True)
    module = CrossEncoder(str(RERANKER_DIRS["lite"]), device="cpu", trust_remote_code=True)[0]
    if args.views is not None:
        module.flip = args.views == 2
    table: dict[str, Any] = {}
    for split in args.splits:
        items = item_set(split, args.share_dir, args.emoji_dir, args.cache_dir, args.drawings)
        if split == "emoji":
            items = items[:: max(1, len(items) // args.drawings)][: args.drawings]
        table[split] = {"images": len(items), "queries": len(caption_queries(items)[0])}
        table[split] |= split_scores(items, embedder, module)
        print(f"{split}: {table[split]['images']} images, {table[split]['queries']} queries")
        for name, metrics in table[split].items():
            if isinstance(metrics, dict):
                print(
                    f"  {name:16} " + " ".join(f"{m} {metrics[m]:.3f}" for m in SHOWN), flush=True
                )
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
