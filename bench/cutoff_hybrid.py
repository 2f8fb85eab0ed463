"""Relevance cutoff with hybrid (image + caption) scores: which score should it judge?

Sets ``CAPTION_RAISES`` in ``mmdemo/search/cutoff.py``.

The per-model thresholds of :mod:`mmdemo.search.cutoff` were measured on image-only text
cosines (bench/cutoff_thresholds.py, Tux Paint). With captions counting, a result's score is
the fused ``(1 - w) * image + w * caption`` score. Two ways to keep the cutoff sound:

- ``image``: judge only the image part of the score, the scale the thresholds were measured on;
- ``fused``: judge the fused score against a threshold re-measured per caption weight ``w``.

On held-out openclipart drawings with clean captions (no query word in them, as in
bench/hybrid_captions.py), every title query against every drawing of its split; a pair is
relevant when the drawing has that title. For each score the threshold is the one that 80 %
of relevant dev pairs reach (the rule the original thresholds use); it is then applied to the
test split, reporting the recall it keeps there and the share of irrelevant pairs still above
it (lower is better). Because the two splits' score levels differ, the test split's own
recall-80 cut is reported too, with the irrelevant share above it (the original criterion,
at equal recall), and ROC AUC (threshold-free) says how well each score separates at all.
``raise`` is how far the fused dev cut at ``w`` lies above the image-only one: the amount
:mod:`mmdemo.search.cutoff` adds to a model's image-only threshold.

    python -m bench.cutoff_hybrid --share-dir /work/data/root/usr/share --limit 1200
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from bench.cutoff_thresholds import RECALL_PERCENT
from bench.hybrid_captions import (
    clean_caption,
    clipart_arguments,
    clipart_splits,
    title_queries,
)
from bench.offline_data import Item
from mmdemo.models.lite import EMBEDDER_DIRS
from mmdemo.search.cutoff import RAISE_WEIGHTS
from mmdemo.search.hybrid import fuse_captions

#: The caption weights measured: the grid that mmdemo.search.cutoff interpolates on.
WEIGHTS = RAISE_WEIGHTS


def auc(relevant: np.ndarray, irrelevant: np.ndarray) -> float:
    """ROC AUC: the chance that a random relevant pair outscores a random irrelevant one."""
    scores = np.concatenate([relevant, irrelevant])
    ranks = np.argsort(np.argsort(scores, kind="stable"), kind="stable") + 1.0
    n_rel, n_irr = len(relevant), len(irrelevant)
    return float((ranks[:n_rel].sum() - n_rel * (n_rel + 1) / 2) / (n_rel * n_irr))


def split_scores(model: Any, items: list[Item], cache: Path) -> dict[str, np.ndarray]:
    """Image and caption cosines of every title query x drawing, and the relevance mask
    (kept in ``cache``, an ``.npz`` file, so a re-run skips the embedding)."""
    if cache.is_file():
        with np.load(cache) as stored:
            return {key: stored[key] for key in stored.files}
    parsed, relevant, queries, image_scores = title_queries(model, items)
    captions = [clean_caption(t, k) for t, k in parsed]
    has = [i for i, text in enumerate(captions) if text]
    caption_scores = np.full(image_scores.shape, np.nan)
    caption_scores[:, has] = (
        queries @ model.encode([captions[i] for i in has], normalize_embeddings=True).T
    )
    mask = np.zeros(caption_scores.shape, dtype=bool)
    for row, members in enumerate(relevant):
        mask[row, sorted(members)] = True
    np.savez(cache, image=image_scores, caption=caption_scores, relevant=mask)
    return {"image": image_scores, "caption": caption_scores, "relevant": mask}


def judged(scores: dict[str, np.ndarray], way: str, weight: float) -> np.ndarray:
    """The score the cutoff judges: the image part, or the fused score at ``weight``."""
    if way == "image":
        return scores["image"]
    return fuse_captions(scores["image"], scores["caption"], weight)


def recall_cut(score: np.ndarray, relevant: np.ndarray) -> float:
    """The score that RECALL_PERCENT % of relevant pairs reach."""
    return float(np.percentile(score[relevant], 100 - RECALL_PERCENT))


def compare(
    dev: dict[str, np.ndarray], test: dict[str, np.ndarray]
) -> list[dict[str, float | str]]:
    """Per weight and way: dev cut, its raise over the image-only dev cut, the test recall
    and irrelevant share at the dev cut, the test's own recall cut's irrelevant share, AUC."""
    rows = []
    image_cut = recall_cut(dev["image"], dev["relevant"])
    for weight in WEIGHTS:
        for way in ("image", "fused"):
            dev_score, test_score = judged(dev, way, weight), judged(test, way, weight)
            cut = recall_cut(dev_score, dev["relevant"])
            rel, irr = test_score[test["relevant"]], test_score[~test["relevant"]]
            own = recall_cut(test_score, test["relevant"])
            rows.append(
                {
                    "weight": weight,
                    "way": way,
                    "dev_cut": round(cut, 3),
                    "raise": round(cut - image_cut, 3),
                    "test_recall": round(float(np.mean(rel >= cut)), 3),
                    "test_irrelevant_kept": round(float(np.mean(irr >= cut)), 3),
                    "test_own_cut_irrelevant_kept": round(float(np.mean(irr >= own)), 3),
                    "test_auc": round(auc(rel, irr), 3),
                }
            )
    return rows


def main() -> None:
    """Embeds both splits with each lite embedder and prints the comparison table."""
    parser = clipart_arguments(__doc__)
    parser.add_argument("--models", nargs="+", default=list(EMBEDDER_DIRS))
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    splits = clipart_splits(args)
    dev, test = splits["dev"], splits["test"]
    print(f"dev {len(dev)} drawings, test {len(test)} drawings")
    results: dict[str, list[dict[str, float | str]]] = {}
    for preset in args.models:
        model = SentenceTransformer(
            str(EMBEDDER_DIRS[preset]), device="cpu", trust_remote_code=True
        )
        results[preset] = compare(
            split_scores(model, dev, args.cache_dir / f"cutoff-{preset}-dev.npz"),
            split_scores(model, test, args.cache_dir / f"cutoff-{preset}-test.npz"),
        )
        for row in results[preset]:
            print(preset, "  ".join(f"{key} {value}" for key, value in row.items()))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
