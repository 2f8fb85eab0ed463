"""Hybrid (image + caption) vs image-only retrieval on held-out openclipart drawings.

Sets ``CAPTION_WEIGHT`` in ``mmdemo/search/hybrid.py`` (the best dev nDCG@10).

Corpus: openclipart drawings the lite models were not trained on (after the first 2998 of
the fixed hash order), rendered at 256 px. Queries: one per distinct drawing title, its
relevant items those with that title. Captions: the drawing's keywords with every keyword
that shares a word with the title removed, so a caption never contains a query word
(captions that repeat the query would leak the answer); a drawing left without keywords
has no caption and keeps its image score. The ``leaky`` rows use title + keywords as the
caption, to show how much a leaking caption inflates the figures.

Titles are split by hash (bench/offline_data.split_of): the train and dev shares form the
dev split the weight is chosen on; the test share is held out. Each split searches only its
own drawings. Scores come from :func:`mmdemo.search.hybrid.fuse_captions`.

    python -m bench.hybrid_captions --share-dir /work/data/root/usr/share --limit 1200
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from bench.offline_data import Item, clipart_items, load_image, split_of
from bench.scoring_eval import evaluate_scores
from mmdemo.models.lite import EMBEDDER_DIRS
from mmdemo.search.hybrid import fuse_captions

TRAINED_ON = 2998
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
SHOWN = ("R@10", "nDCG@10")


def title_and_keywords(item: Item) -> tuple[str, list[str]]:
    """The drawing's title (lower case) and its keywords, from the ``title, kw, ...`` caption."""
    parts = [p.strip() for p in item.caption.split(",") if p.strip()]
    return parts[0].lower(), parts[1:]


def clean_caption(title: str, keywords: list[str]) -> str:
    """The keywords that share no word with the title, joined; empty when none is left."""
    title_words = set(re.findall(r"\w+", title))
    kept = [k for k in keywords if not set(re.findall(r"\w+", k.lower())) & title_words]
    return ", ".join(kept)


def title_queries(
    model: Any, items: list[Item]
) -> tuple[list[tuple[str, list[str]]], list[set[int]], np.ndarray, np.ndarray]:
    """Each drawing's title and keywords, the drawings relevant to each distinct title (one
    query each), the query vectors, and the query x drawing image cosines."""
    parsed = [title_and_keywords(item) for item in items]
    images = model.encode([load_image(i) for i in items], batch_size=32, normalize_embeddings=True)
    groups: dict[str, set[int]] = {}
    for index, (title, _) in enumerate(parsed):
        groups.setdefault(title, set()).add(index)
    queries = model.encode(list(groups), normalize_embeddings=True)
    return parsed, list(groups.values()), queries, queries @ images.T


def split_metrics(model: Any, items: list[Item]) -> dict[str, dict[str, dict[str, float]]]:
    """Metrics per caption kind and weight over one split's title queries."""
    parsed, relevant, queries, image_scores = title_queries(model, items)
    captions = {
        "clean": [clean_caption(t, k) for t, k in parsed],
        "leaky": [", ".join([t, *k]) for t, k in parsed],
    }
    out: dict[str, dict[str, dict[str, float]]] = {}
    for kind, texts in captions.items():
        has = [i for i, text in enumerate(texts) if text]
        caption_scores = np.full(image_scores.shape, np.nan)
        vectors = model.encode([texts[i] for i in has], normalize_embeddings=True)
        caption_scores[:, has] = queries @ vectors.T
        out[kind] = {
            str(w): evaluate_scores(fuse_captions(image_scores, caption_scores, w), relevant)
            for w in WEIGHTS
        }
        out[kind]["captioned_share"] = {"share": round(len(has) / len(items), 3)}
    out["size"] = {"items": {"n": len(items)}, "queries": {"n": len(relevant)}}
    return out


def clipart_arguments(doc: str | None) -> argparse.ArgumentParser:
    """The options of a held-out clipart bench: share dir, PNG cache, item limit, --out."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--share-dir", type=Path, default=Path("/usr/share"))
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/mmdemo-bench/clipart_png"))
    parser.add_argument("--limit", type=int, default=1200)
    parser.add_argument("--out", type=Path)
    return parser


def clipart_splits(args: argparse.Namespace) -> dict[str, list[Item]]:
    """The held-out drawings split by title hash: ``dev`` (train + dev shares) and ``test``."""
    items = clipart_items(args.share_dir, args.cache_dir, args.limit, skip=TRAINED_ON)
    return {
        "dev": [i for i in items if split_of(title_and_keywords(i)[0]) != "test"],
        "test": [i for i in items if split_of(title_and_keywords(i)[0]) == "test"],
    }


def main() -> None:
    """Builds both splits, prints the table and the weight chosen on dev."""
    args = clipart_arguments(__doc__).parse_args()
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(EMBEDDER_DIRS["lite"]), device="cpu", trust_remote_code=True)
    splits = clipart_splits(args)
    results = {name: split_metrics(model, chosen) for name, chosen in splits.items()}
    for name, result in results.items():
        print(
            f"{name}: {result['size']['items']['n']} drawings, "
            f"{result['size']['queries']['n']} title queries"
        )
        for kind in ("clean", "leaky"):
            print(f"  captions {kind} (captioned {result[kind]['captioned_share']['share']:.0%})")
            for w in WEIGHTS:
                cells = "  ".join(f"{m} {result[kind][str(w)][m]:.3f}" for m in SHOWN)
                print(f"    weight {w:.1f}  {cells}")
    best = max(WEIGHTS, key=lambda w: (results["dev"]["clean"][str(w)]["nDCG@10"], -w))
    test = results["test"]["clean"]
    print(f"chosen on dev (clean captions, nDCG@10): weight {best}")
    for w in (0.0, best):
        print(f"  test weight {w}: " + "  ".join(f"{m} {test[str(w)][m]:.3f}" for m in SHOWN))
    if args.out:
        args.out.write_text(json.dumps({"chosen": best, "splits": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
