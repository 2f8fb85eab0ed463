"""ImageNet-1k class names and the text prompts that stand for each class.

The names are WordNet lemmas and glosses read from ``assets/imagenet/imagenet_classes.json``
(see the SOURCE note beside it); index ``i`` of the file is logit ``i`` of the ImageNet CNNs.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmdemo.errors import ModelLoadError

ASSETS_DIR = Path(__file__).resolve().parents[3] / "assets"
CLASSES_FILE = ASSETS_DIR / "imagenet" / "imagenet_classes.json"
NUM_CLASSES = 1000
PROMPT_STYLES = ("synonyms", "synonyms+definition")


@lru_cache(maxsize=1)
def _rows() -> list[dict[str, Any]]:
    try:
        rows = json.loads(CLASSES_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"Cannot read the ImageNet class names at {CLASSES_FILE}: {exc}."
        ) from exc
    if len(rows) != NUM_CLASSES:
        raise ModelLoadError(f"{CLASSES_FILE} lists {len(rows)} classes instead of {NUM_CLASSES}.")
    return list(rows)


def class_names() -> list[str]:
    """Each class's first lemma (``tench``, ``goldfish``, ...), in logit order."""
    return [str(row["lemmas"][0]) for row in _rows()]


def class_prompts(style: str = "synonyms") -> list[str]:
    """One prompt per class naming all its synonyms, optionally followed by its gloss.

    ``synonyms``: ``a photo of a tench, Tinca tinca``; ``synonyms+definition`` appends
    ``: freshwater dace-like game fish ...`` (the WordNet gloss), which tells MiniLM what a
    rare class name means.
    """
    if style not in PROMPT_STYLES:
        raise ValueError(f"Unknown prompt style {style!r}: use one of {', '.join(PROMPT_STYLES)}.")
    prompts = []
    for row in _rows():
        prompt = "a photo of a " + ", ".join(row["lemmas"])
        prompts.append(
            f"{prompt}: {row['definition']}" if style == "synonyms+definition" else prompt
        )
    return prompts
