"""``map`` and ``duplicates`` on the command line: JSON shapes, files written, clear errors."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from PIL import Image

from mmdemo.cli import main

from helpers import COLOURS, write_images


@pytest.fixture
def data_dir(tmp_path: Path, tiny_clip_dir: Path) -> Path:
    """The colour images plus a resized and a JPEG copy of red.png, indexed with tiny CLIP."""
    folder = write_images(tmp_path / "photos", COLOURS)
    with Image.open(folder / "red.png") as red:
        red.resize((96, 80)).save(folder / "red-big.png")
        red.save(folder / "red-copy.jpg", quality=95)
    data = tmp_path / "data"
    args = ["index", str(folder), "--collection", "c", "--model", str(tiny_clip_dir)]
    assert main([*args, "--data-dir", str(data)]) == 0
    return data


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    assert main([*args, "--json"]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)
    return result


def test_duplicates_json_groups_the_planted_copies(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    args = ["duplicates", "--collection", "c", "--data-dir", str(data_dir), "--threshold", "0.99"]
    result = cli_json(capsys, *args)
    assert set(result) == {"collection", "model", "threshold", "groups", "deleted"}
    assert result["threshold"] == 0.99 and result["deleted"] == 0
    groups = result["groups"]
    assert isinstance(groups, list)
    red = [g for g in groups if any(i["file_name"] == "red.png" for i in g["items"])]
    assert len(red) == 1
    names = {i["file_name"] for i in red[0]["items"]}
    assert {"red.png", "red-big.png", "red-copy.jpg"} <= names
    for group in groups:
        assert group["kind"] in ("exact", "near")
        assert set(group["items"][0]) == {"id", "file_name", "similarity"}
        assert all(i["similarity"] >= 0.99 for i in group["items"])


def test_duplicates_delete_keeps_one_of_each_group(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    args = ["duplicates", "--collection", "c", "--data-dir", str(data_dir), "--threshold", "0.99"]
    before = cli_json(capsys, *args)
    groups = before["groups"]
    assert isinstance(groups, list)
    extra = sum(len(g["items"]) - 1 for g in groups)
    assert cli_json(capsys, *args, "--delete")["deleted"] == extra
    assert cli_json(capsys, *args)["groups"] == []
    listing = cli_json(capsys, "list", "--data-dir", str(data_dir))
    assert listing[0]["images"] == len(COLOURS) + 2 - extra  # type: ignore[index]


def test_map_writes_html_and_png(
    capsys: pytest.CaptureFixture[str], data_dir: Path, tmp_path: Path
) -> None:
    page = tmp_path / "map.html"
    result = cli_json(
        capsys, "map", "--collection", "c", "--data-dir", str(data_dir), "--out", str(page)
    )
    assert set(result) == {"collection", "model", "version", "points", "clusters", "out"}
    assert result["points"] == len(COLOURS) + 2
    clusters = result["clusters"]
    assert isinstance(clusters, list)
    assert sum(c["size"] for c in clusters) == result["points"]
    text = page.read_text()
    drawn_map = json.loads(html.unescape(re.search(r'data-map="([^"]*)"', text)[1]))  # type: ignore[index]
    assert drawn_map["n"] == result["points"]
    assert drawn_map["atlas"].startswith("data:image/jpeg;base64,")  # self-contained
    assert "file://" not in text and str(data_dir) not in text
    image = tmp_path / "map.png"
    assert main(["map", "--collection", "c", "--data-dir", str(data_dir), "--out", str(image)]) == 0
    with Image.open(image) as drawn:
        assert drawn.format == "PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["map", "--collection", "c", "--out", "map.svg"], "as .html or .png"),
        (["map", "--collection", "nowhere", "--out", "m.html"], "'nowhere' does not exist"),
        (["duplicates", "--collection", "c", "--threshold", "1.5"], "threshold must be"),
    ],
)
def test_bad_requests_fail_with_one_line(
    capsys: pytest.CaptureFixture[str], data_dir: Path, args: list[str], message: str
) -> None:
    capsys.readouterr()
    assert main([*args, "--data-dir", str(data_dir)]) == 1
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
