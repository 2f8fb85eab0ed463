"""One query through two set-ups (library and ``compare`` command): sides, verdict, judgement."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.evaluate.comparison import Setup, compare_setups
from mmdemo.search.query import Query
from mmdemo.store import Store

from helpers import COLOURS, write_images


@pytest.fixture
def collection(tmp_path: Path, tiny_clip_dir: Path) -> Path:
    """A captioned colour collection indexed with the tiny CLIP only; returns the data dir."""
    folder = write_images(tmp_path / "photos", COLOURS)
    captions = tmp_path / "captions.csv"
    pd.DataFrame(
        {"file_name": list(COLOURS), "caption": [f"{n[:-4]} square" for n in COLOURS]}
    ).to_csv(captions, index=False)
    data = tmp_path / "data"
    args = ["index", str(folder), "--collection", "cmp", "--model", str(tiny_clip_dir)]
    assert main([*args, "--captions", str(captions), "--data-dir", str(data)]) == 0
    return data


def test_a_side_whose_model_is_not_indexed_says_how_to_index_it(
    tmp_path: Path, collection: Path, tiny_clip_dir: Path, tiny_siglip_dir: Path
) -> None:
    settings = Settings(data_dir=collection, device="cpu")
    found = compare_setups(
        Query(image=str(tmp_path / "photos" / "red.png")),
        collection="cmp",
        setups=(Setup(str(tiny_clip_dir)), Setup(str(tiny_siglip_dir))),
        settings=settings,
        store=Store(settings),
        expected={"red.png"},
    )
    a, b = found.sides
    assert a.ranked[0][1] == "red.png" and not b.indexed and b.ranked == []
    assert found.sentences == [
        f"B cannot answer: collection “cmp” is not indexed with {b.setup.model} yet; to "
        "compare, press “Index with this model” under B.",
        "Only A answered, so there is nothing to compare yet.",
    ]
    assert found.judgement is None and found.agreement is None
    assert not any("run both" in sentence for sentence in found.sentences)
    shape = found.to_json()
    assert shape["b"]["indexed"] is False and shape["a"]["results"][0]["file_name"] == "red.png"


def test_compare_command_indexes_the_missing_side_and_names_the_winner(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    collection: Path,
    tiny_clip_dir: Path,
    tiny_siglip_dir: Path,
) -> None:
    args = ["compare", "--collection", "cmp", "--text", "red square", "--data-dir", str(collection)]
    args += ["--a", str(tiny_clip_dir), "--b", str(tiny_siglip_dir), "--top-k", "4"]
    assert main([*args, "--expected", "red.png"]) == 0
    told = capsys.readouterr().out
    assert "with --index-missing" in told and "run both" not in told
    assert main([*args, "--expected", "red.png", "--index-missing", "--json"]) == 0
    shape = json.loads(capsys.readouterr().out)
    names = [[r["file_name"] for r in shape[side]["results"]] for side in ("a", "b")]
    ranks = [[n.index("red.png") + 1] if "red.png" in n else [] for n in names]
    judged = shape["judgement"]
    assert judged["expected_ranks"] == {"A": ranks[0], "B": ranks[1]}
    first = [r[0] if r else 99 for r in ranks]
    winner = "tie" if first[0] == first[1] else "A" if first[0] < first[1] else "B"
    assert judged["winner"] == (winner if any(ranks) else "none")
    assert shape["verdict"][0] == judged["sentence"]
    assert shape["agreement"]["k"] == 4 and shape["expected"] == ["red.png"]
    assert main([*args, "--expected", "red.png"]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == judged["sentence"]
    if ranks[0]:
        assert f"#{ranks[0][0]:<3} red.png  ✓ expected" in printed
