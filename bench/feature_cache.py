"""CNN outputs (logits and pooled features) of captioned image sets, cached as .npz.

Training the projection and tuning mixing weights reuse the same CNN outputs many times;
computing them once per (set, backbone, view) keeps those runs to seconds.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from bench.offline_data import Item, clipart_items, emoji_items, load_image, photo_items, tux_items
from mmdemo.models.lite import backbone as bb

VIEWS = ("centre", "flip")


def item_set(
    name: str, share_dir: Path, emoji_dir: Path, cache_dir: Path, clipart_limit: int
) -> list[Item]:
    """The items of a named set: ``tux-train|dev|test``, ``photos``, ``emoji``, ``clipart``."""
    if name.startswith("tux-"):
        return tux_items(share_dir, name.removeprefix("tux-"))
    if name == "photos":
        return photo_items()
    if name == "emoji":
        return emoji_items(emoji_dir)
    if name == "clipart":
        return clipart_items(share_dir, cache_dir / "clipart_png", clipart_limit)
    raise ValueError(f"unknown set {name}")


@torch.inference_mode()
def cnn_outputs(
    items: list[Item], backbone: str, view: str, batch_size: int = 32
) -> dict[str, np.ndarray]:
    """``logits (N, 1000)`` and ``pooled (N, 1280)`` of ``items`` seen through ``view``."""
    model = bb.load_backbone(backbone)
    size = bb.BACKBONES[backbone].image_size
    logits, pooled = [], []
    for start in range(0, len(items), batch_size):
        images = [load_image(item) for item in items[start : start + batch_size]]
        out_logits, out_pooled = bb.logits_and_features(
            model, bb.pixel_batch(images, size, flip=view == "flip")
        )
        logits.append(out_logits.numpy())
        pooled.append(out_pooled.numpy())
    return {"logits": np.concatenate(logits), "pooled": np.concatenate(pooled)}


def cached(
    name: str,
    backbone: str,
    view: str,
    share_dir: Path,
    emoji_dir: Path,
    cache_dir: Path,
    clipart_limit: int = 3000,
) -> tuple[list[Item], dict[str, np.ndarray]]:
    """Items of set ``name`` and their CNN outputs, computed once and kept in ``cache_dir``."""
    items = item_set(name, share_dir, emoji_dir, cache_dir, clipart_limit)
    path = cache_dir / f"{name}-{backbone}-{view}.npz"
    if path.is_file():
        data = dict(np.load(path))
        if [str(i) for i in data["ids"]] == [item.item_id for item in items]:
            return items, data
    data = cnn_outputs(items, backbone, view) | {"ids": np.array([item.item_id for item in items])}
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.savez(path, **data)
    return items, data


def main() -> None:
    """Fill the cache for the given sets, backbones and views."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sets", nargs="+", required=True)
    parser.add_argument("--backbones", nargs="+", default=["lite0"])
    parser.add_argument("--views", nargs="+", default=["centre"], choices=VIEWS)
    parser.add_argument("--share-dir", type=Path, default=Path("/usr/share"))
    parser.add_argument(
        "--emoji-dir", type=Path, default=Path("node_modules/emoji-datasource-google")
    )
    parser.add_argument("--cache-dir", type=Path, default=Path("bench/.cache"))
    args = parser.parse_args()
    for backbone in args.backbones:
        for view in args.views:
            for name in args.sets:
                items, _ = cached(
                    name, backbone, view, args.share_dir, args.emoji_dir, args.cache_dir
                )
                print(f"{name} {backbone} {view}: {len(items)} images", flush=True)


if __name__ == "__main__":
    main()
