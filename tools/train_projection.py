"""Train the lite embedder's projection (CNN features -> MiniLM space) and save the models.

InfoNCE (MultipleNegativesRankingLoss in both directions) between projected pooled CNN
features and the MiniLM embeddings of the captions, on Tux Paint *train* stamps (both
views), emoji and rendered openclipart. The mixing weight between projection and ConSE is
chosen on the Tux Paint *dev* split only; the test split is never read here. Writes the
saved Sentence Transformers folders ``assets/models/lite-embedder-<backbone>/``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812

from bench.feature_cache import cached
from bench.offline_data import REPO, Item
from bench.scoring_eval import caption_queries, evaluate_scores
from mmdemo.models.lite.embedder import LiteEmbedder, build_projection
from mmdemo.models.lite.text import embed_texts

TRAIN_SETS = ("tux-train", "emoji", "clipart")
MODEL_NAMES = {"lite0": "lite-embedder-lite0", "lite2": "lite-embedder-lite2"}


def training_pairs(args: argparse.Namespace, backbone: str) -> tuple[list[Item], np.ndarray]:
    """Captioned items and their pooled features; the photo-like set enters with both views."""
    items: list[Item] = []
    pooled = []
    for name in TRAIN_SETS:
        views = ("centre", "flip") if name.startswith("tux") else ("centre",)
        for view in views:
            set_items, data = cached(
                name, backbone, view, args.share_dir, args.emoji_dir, args.cache_dir
            )
            items += set_items
            pooled.append(data["pooled"])
    return items, np.concatenate(pooled)


def train(
    features: torch.Tensor, targets: torch.Tensor, hidden: int, epochs: int, seed: int = 0
) -> torch.nn.Module:
    """A projection trained with symmetric InfoNCE (temperature 0.05, batch 256, AdamW)."""
    torch.manual_seed(seed)
    projection = build_projection(hidden)
    optimiser = torch.optim.AdamW(projection.parameters(), lr=1e-3, weight_decay=0.05)
    for _ in range(epochs):
        order = torch.randperm(len(features))
        for start in range(0, len(order), 256):
            batch = order[start : start + 256]
            logits = F.normalize(projection(features[batch]), dim=-1) @ targets[batch].T / 0.05
            labels = torch.arange(len(batch))
            loss = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    return projection.eval()


@torch.inference_mode()
def dev_score(module: LiteEmbedder, args: argparse.Namespace) -> dict[str, float]:
    """Text->image metrics of ``module`` on the Tux Paint dev split (cached CNN outputs)."""
    items, data = cached(
        "tux-dev", module.backbone, "centre", args.share_dir, args.emoji_dir, args.cache_dir
    )
    semantic = module.semantic_embedding(
        torch.from_numpy(data["logits"]), torch.from_numpy(data["pooled"])
    )
    queries, relevant = caption_queries(items)
    text = embed_texts(module.text_encoder, queries)
    return evaluate_scores((text @ semantic.T).numpy(), relevant)


def main() -> None:
    """Train, pick the mixing weight on dev, save the model folders."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backbones", nargs="+", default=["lite0", "lite2"])
    parser.add_argument("--hidden", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--share-dir", type=Path, default=Path("/usr/share"))
    parser.add_argument(
        "--emoji-dir", type=Path, default=Path("node_modules/emoji-datasource-google")
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("bench/.cache"))
    parser.add_argument("--out-dir", type=Path, default=REPO / "assets" / "models")
    args = parser.parse_args()
    from sentence_transformers import SentenceTransformer

    for backbone in args.backbones:
        module = LiteEmbedder(
            backbone=backbone, prompt_style="synonyms+definition", projection_hidden=args.hidden
        )
        items, pooled = training_pairs(args, backbone)
        features = torch.from_numpy(pooled)
        targets = embed_texts(module.text_encoder, [item.caption for item in items]).cpu()
        module.feature_mean.copy_(features.mean(dim=0))
        module.projection.load_state_dict(
            train(features, targets, args.hidden, args.epochs).state_dict()
        )
        best = (-1.0, 0.0)
        for weight in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6):
            module.projection_weight = weight
            metrics = dev_score(module, args)
            print(f"{backbone} projection_weight={weight}: dev {metrics}", flush=True)
            best = max(best, (metrics["R@10"] + metrics["nDCG@10"], weight))
        module.projection_weight = best[1]
        print(f"{backbone}: chose projection_weight={best[1]}", flush=True)
        SentenceTransformer(modules=[module], device="cpu").save(
            str(args.out_dir / MODEL_NAMES[backbone])
        )


if __name__ == "__main__":
    main()
