"""Calibrate ``match``: per model and query mode, a logistic of the first-stage similarity.

Sets the constants of ``mmdemo/search/cutoff.py``: ``CALIBRATION`` (slope, intercept per
embedder key and mode), ``LEXICAL_SLOPES`` (per embedder key) and the strength cuts
``STRONG_MATCH`` / ``FAIR_MATCH``; it prints them ready to paste, with what the cuts keep.

Labelled pairs, on the Tux Paint **dev** split (61 photo cut-outs, 60 caption queries;
bench/offline_data.py), with each lite embedder:

- ``text``: every caption query against every image; relevant = the image with that caption;
- ``image``: a 60 % centre crop of each image, shrunk and saved as JPEG quality 60 (another
  shot of the same thing, roughly), against every image; relevant = the image it came from;
- ``text+image``: a caption and the crop of the image it names (weight 0.5), against every
  image; relevant = that image;
- ``negative``: a caption with another image's caption as negative prompt (weight 0.5),
  against every image; relevant = the image with the caption.

Each fit weights relevant and irrelevant pairs equally (balanced logistic regression), so
``match`` 0.5 is a similarity as typical of a true match as of a false one in every mode.
The lexical slope is then fitted on the dev queries of the shop and documents demos
(bench/lexical_data.py) with the text calibration as a fixed offset: the logit the share of
query words an item holds adds. The strong cut is the match that 80 % of relevant text pairs
reach (the rule the old similarity threshold followed), the fair cut the one 95 % reach.

    python -m bench.calibrate_match --share-dir /usr/share --demos assets/demos
"""

from __future__ import annotations

import argparse
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from bench.offline_data import load_image, tux_items
from mmdemo.models.lite import EMBEDDER_DIRS
from mmdemo.search.calibration import caption_raise
from mmdemo.search.cutoff import MODES
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.query import combine

RECALL_STRONG = 0.8
RECALL_FAIR = 0.95


def crop(image: Image.Image) -> Image.Image:
    """A 60 % centre crop, shrunk by 40 % and re-encoded as JPEG quality 60."""
    w, h = image.size
    box = (int(w * 0.2), int(h * 0.2), int(w * 0.8), int(h * 0.8))
    small = image.convert("RGB").crop(box)
    small = small.resize((max(1, small.width * 3 // 5), max(1, small.height * 3 // 5)))
    buffer = io.BytesIO()
    small.save(buffer, format="JPEG", quality=60)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def pairs(model: Any, images: list[Image.Image], captions: list[str]) -> dict[str, Any]:
    """Per mode, (similarities, labels) of every query against every image."""
    vectors = model.encode(images, batch_size=32, normalize_embeddings=True)
    texts = model.encode(captions, normalize_embeddings=True)
    crops = model.encode([crop(i) for i in images], batch_size=32, normalize_embeddings=True)
    n = len(images)
    others = np.roll(np.arange(n), 1)  # each query's negative: its neighbour's caption
    queries = {
        "text": texts,
        "image": crops,
        "text+image": np.stack([combine(texts[i], crops[i], 0.5) for i in range(n)]),
        "negative": np.stack(
            [combine(texts[i], None, 0.5, texts[others[i]], 0.5) for i in range(n)]
        ),
    }
    labels = np.eye(n, dtype=bool)
    return {mode: ((q @ vectors.T).ravel(), labels.ravel()) for mode, q in queries.items()}


def fit(similarity: np.ndarray, relevant: np.ndarray) -> tuple[float, float]:
    """Balanced logistic regression of relevance on similarity: (slope, intercept)."""
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(class_weight="balanced", C=1e4)
    model.fit(similarity.reshape(-1, 1), relevant)
    return round(float(model.coef_[0, 0]), 2), round(float(model.intercept_[0]), 2)


def sigmoid(x: np.ndarray) -> np.ndarray:
    squashed: np.ndarray = 1.0 / (1.0 + np.exp(-np.clip(x, -60, 60)))
    return squashed


def fit_offset(offset: np.ndarray, feature: np.ndarray, relevant: np.ndarray) -> float:
    """The slope ``c`` of ``sigmoid(offset + c * feature)`` by balanced log-loss."""
    from scipy.optimize import minimize_scalar

    weight = np.where(relevant, 0.5 / relevant.mean(), 0.5 / (1 - relevant.mean()))

    def loss(c: float) -> float:
        p = np.clip(sigmoid(offset + c * feature), 1e-9, 1 - 1e-9)
        return float(-(weight * np.where(relevant, np.log(p), np.log(1 - p))).mean())

    return round(float(minimize_scalar(loss, bounds=(0.0, 30.0), method="bounded").x), 2)


def lexical_pairs(demos: Path, data_dir: Path, model: str) -> tuple[np.ndarray, ...]:
    """(similarity, coverage, relevant) of every dev query x item of the two demos."""
    from bench.lexical_data import document_queries, index_demos, shop_queries
    from bench.lexical_fusion import scored
    from mmdemo.config import Settings

    settings = Settings.from_env(data_dir=data_dir, device="cpu")
    store = index_demos(demos, settings, model)
    rows: list[tuple[float, float, bool]] = []
    for query in shop_queries(demos) + document_queries(demos):
        if query.split != "dev":
            continue
        dense, _, coverage = scored(store, settings, query, CAPTION_WEIGHT)
        rows += [(s, coverage.get(f, 0.0), f in query.relevant) for f, s in dense.items()]
    similarity, cover, relevant = (np.array(column) for column in zip(*rows, strict=True))
    return similarity, cover, relevant.astype(bool)


def main() -> None:
    """Fits every constant and prints them, with what the cuts keep per mode."""
    from sentence_transformers import SentenceTransformer

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--share-dir", type=Path, default=Path("/usr/share"))
    parser.add_argument("--demos", type=Path, default=Path("assets/demos"))
    parser.add_argument("--data-dir", type=Path, help="reuse the demos' index")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    items = tux_items(args.share_dir, "dev")
    images = [load_image(item) for item in items]
    captions = [item.caption for item in items]
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="calibrate-"))
    report: dict[str, Any] = {"calibration": {}, "lexical": {}}
    by_mode: dict[str, dict[str, Any]] = {}
    for key, folder in EMBEDDER_DIRS.items():
        model = SentenceTransformer(str(folder), device="cpu", trust_remote_code=True)
        by_mode[key] = pairs(model, images, captions)
        report["calibration"][key] = {m: fit(*by_mode[key][m]) for m in MODES}
        slope, intercept = report["calibration"][key]["text"]
        similarity, cover, relevant = lexical_pairs(args.demos, data_dir, key)
        offset = slope * (similarity - caption_raise(key, CAPTION_WEIGHT)) + intercept
        report["lexical"][key] = fit_offset(offset, cover, relevant)
    cuts = {}
    for name, recall in (("STRONG_MATCH", RECALL_STRONG), ("FAIR_MATCH", RECALL_FAIR)):
        values = []
        for key in EMBEDDER_DIRS:
            similarity, relevant = by_mode[key]["text"]
            slope, intercept = report["calibration"][key]["text"]
            matches = sigmoid(slope * similarity[relevant] + intercept)
            values.append(float(np.quantile(matches, 1 - recall)))
        cuts[name] = round(float(np.mean(values)), 2)
    report["cuts"] = cuts
    print(f"CALIBRATION = {json.dumps(report['calibration'], indent=4)}")
    print(f"LEXICAL_SLOPES = {json.dumps(report['lexical'])}")
    print(cuts)
    report["kept"] = {}
    for key in EMBEDDER_DIRS:
        for mode in MODES:
            similarity, relevant = by_mode[key][mode]
            slope, intercept = report["calibration"][key][mode]
            matches = sigmoid(slope * similarity + intercept)
            kept = {
                name: {
                    "relevant": round(float(np.mean(matches[relevant] >= cut)), 3),
                    "irrelevant": round(float(np.mean(matches[~relevant] >= cut)), 3),
                }
                for name, cut in cuts.items()
            }
            report["kept"][f"{key} {mode}"] = kept
            print(f"{key:8} {mode:11} {report['calibration'][key][mode]} kept at cuts: {kept}")
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
