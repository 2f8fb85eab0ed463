"""A small Hugging Face dataset for the tests of dataset sources: three coloured squares
with a caption, a brand, a price and tags, as rows, PNG bytes or an in-memory Dataset."""

from __future__ import annotations

import datasets

from imagefactory import RED, image_bytes

COLOURS = {"red.png": RED, "green.png": (20, 200, 40), "blue.png": (30, 40, 210)}
ROWS = [
    {"file_name": name, "text": f"a {name[:-4]} square", "brand": "acme", "price": 1.5 * i}
    for i, name in enumerate(COLOURS)
]
FEATURES = datasets.Features(
    {
        "image": datasets.Image(),
        "text": datasets.Value("string"),
        "brand": datasets.Value("string"),
        "price": datasets.Value("float64"),
        "tags": datasets.List(datasets.Value("string")),
    }
)


def png(name: str) -> bytes:
    return image_bytes("PNG", size=(12, 10), color=COLOURS[name])


def in_memory(rows: list[dict[str, object]] | None = None) -> datasets.Dataset:
    """A dataset whose image column holds the PNG bytes (as the Hub's parquet files do)."""
    rows = rows or [
        {
            "image": {"bytes": png(r["file_name"]), "path": r["file_name"]},
            "text": r["text"],
            "brand": r["brand"],
            "price": r["price"],
            "tags": ["x", "y"],
        }
        for r in ROWS
    ]
    return datasets.Dataset.from_list(rows, features=FEATURES)
