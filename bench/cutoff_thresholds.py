"""Score distributions of relevant vs irrelevant text->image pairs, to set relevance cutoffs.

For each lite embedder, on one Tux Paint split: every caption query against every image;
a pair is relevant when the image carries that caption. Prints percentiles of both score
distributions and the threshold that best separates them (max F1 over pairs), which is what
for reference, and the score that 80 % of relevant pairs reach (four in five true matches
stay "strong": the rule ``bench/calibrate_match.py`` keeps for the strong cut on ``match``)
with the share of irrelevant pairs that still pass it.

    python -m bench.cutoff_thresholds --split dev --share-dir /work/data/root/usr/share
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from bench.offline_data import load_image, tux_items
from bench.scoring_eval import caption_queries
from mmdemo.models.lite import EMBEDDER_DIRS

PERCENTILES = (5, 25, 50, 75, 95)
RECALL_PERCENT = 80


def best_threshold(relevant: np.ndarray, irrelevant: np.ndarray) -> tuple[float, float]:
    """The score cutoff with the highest F1 of 'above the cutoff' vs 'relevant', and that F1."""
    best = (0.0, -1.0)
    for cut in np.unique(np.round(np.concatenate([relevant, irrelevant]), 3)):
        tp = float(np.sum(relevant >= cut))
        fp = float(np.sum(irrelevant >= cut))
        f1 = 2 * tp / (2 * tp + fp + (len(relevant) - tp))
        if f1 > best[1]:
            best = (float(cut), f1)
    return best


def main() -> None:
    """Embeds one split with each lite embedder and prints its score distributions."""
    from sentence_transformers import SentenceTransformer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--share-dir", type=Path, default=Path("/usr/share"))
    args = parser.parse_args()
    items = tux_items(args.share_dir, args.split)
    images = [load_image(item) for item in items]
    queries, relevant = caption_queries(items)
    print(f"{args.split}: {len(items)} images, {len(queries)} queries")
    for preset, folder in EMBEDDER_DIRS.items():
        model = SentenceTransformer(str(folder), device="cpu", trust_remote_code=True)
        image_vecs = model.encode(images, batch_size=32, normalize_embeddings=True)
        scores = model.encode(queries, normalize_embeddings=True) @ image_vecs.T
        mask = np.zeros_like(scores, dtype=bool)
        for row, rel in enumerate(relevant):
            mask[row, sorted(rel)] = True
        rel_scores, irr_scores = scores[mask], scores[~mask]
        for name, values in (("relevant", rel_scores), ("irrelevant", irr_scores)):
            cells = " ".join(f"p{p}={np.percentile(values, p):.3f}" for p in PERCENTILES)
            print(f"{preset:8} {name:10} n={len(values):5} {cells}")
        cut, f1 = best_threshold(rel_scores, irr_scores)
        keep = float(np.percentile(rel_scores, 100 - RECALL_PERCENT))
        passing = float(np.mean(irr_scores >= keep))
        print(f"{preset:8} max-F1 cutoff {cut:.3f} (F1 {f1:.3f})")
        print(
            f"{preset:8} recall-{RECALL_PERCENT} cutoff {keep:.3f}: irrelevant kept {passing:.3f}"
        )


if __name__ == "__main__":
    main()
