"""The command line, run as a user runs it: output shapes, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from mmdemo.cli import main
from mmdemo.search.rows import COLUMNS

from helpers import COLOURS, write_images

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m mmdemo ARGS`` in a fresh process, as a user would type it."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "mmdemo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> object:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def upload(tmp_path: Path) -> list[str]:
    """A folder of images plus a zip holding a duplicate, a corrupt file and an unsafe path."""
    folder = write_images(tmp_path / "in", COLOURS)
    archive = tmp_path / "extra.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(folder / "red.png", "dup/red.png")
        zf.writestr("broken.jpg", b"\xff\xd8\xff\xe0 truncated")
        zf.writestr("../escape.png", (folder / "blue.png").read_bytes())
    return [str(folder), str(archive)]


def test_index_search_list_delete_json(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, upload: list[str], tiny_clip_dir: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    model = ["--model", str(tiny_clip_dir)]
    report = cli_json(capsys, "index", *upload, "--collection", "c1", *model, *data)
    assert isinstance(report, dict)
    # The zip's copy of red.png is the same image: counted once as added, once as present.
    assert (report["added"], report["present"]) == (len(COLOURS), 1)
    reasons = {r["file"].split("!")[-1]: r["reason"] for r in report["rejected"]}
    assert reasons == {
        "broken.jpg": "corrupt or truncated image",
        "../escape.png": "unsafe path in archive",
    }

    again = cli_json(capsys, "index", upload[0], "--collection", "c1", *model, *data)
    assert again == {"added": 0, "present": len(COLOURS), "rejected": []}

    found = cli_json(
        capsys,
        "search",
        "--collection",
        "c1",
        "--image",
        f"{upload[0]}/green.png",
        "--top-k",
        "2",
        *model,
        *data,
    )
    assert isinstance(found, dict)
    assert set(found["timings_ms"]) == {"embed", "search", "rerank"}
    first = found["results"][0]
    assert set(first) == set(COLUMNS)
    assert {"match", "strength", "similarity", "matched", "rerank_move"} <= set(first)
    assert (first["rank"], first["file_name"], first["rerank_score"]) == (1, "green.png", None)
    assert Path(first["path"]).exists() and len(found["results"]) == 2

    listed = cli_json(capsys, "list", *data)
    assert listed == [
        {"collection": "c1", "images": len(COLOURS), "models": {str(tiny_clip_dir): len(COLOURS)}}
    ]

    deleted = cli_json(capsys, "delete", "--collection", "c1", "--id", first["id"], *data)
    assert deleted == {"collection": "c1", "deleted": 1}
    assert cli_json(capsys, "list", *data)[0]["images"] == len(COLOURS) - 1  # type: ignore[index]
    assert main(["delete", "--collection", "c1", *data]) == 0
    assert capsys.readouterr().out.startswith("deleted collection c1")
    assert cli_json(capsys, "list", *data) == []


def test_human_output(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, upload: list[str], tiny_clip_dir: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["index", *upload, "--collection", "c2", "--model", str(tiny_clip_dir), *data]) == 0
    out = capsys.readouterr().out
    assert (
        f"added: {len(COLOURS)}" in out and "rejected: 2" in out and "unsafe path in archive" in out
    )
    assert main(["search", "--collection", "c2", "--text", "red", *data]) == 0
    out = capsys.readouterr().out
    assert "rank" in out and "embed" in out and "reranker: none" in out
    assert f"model: {tiny_clip_dir}" in out  # the collection's own model when none is named


def test_models_lists_presets(capsys: pytest.CaptureFixture[str]) -> None:
    rows = cli_json(capsys, "models")
    assert isinstance(rows, list)
    keys = {(r["kind"], r["key"]) for r in rows}
    assert {("embedder", "clip-b32"), ("embedder", "lite"), ("reranker", "lite")} <= keys


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "--collection", "nope", "--text", "x", "--model", "MODEL"], "nope"),
        (["search", "--collection", "c3"], "Empty query"),
        (
            ["index", "PHOTOS", "--collection", "c3", "--model", "no-org/no-model"],
            "no-org/no-model",
        ),
        (["delete", "--collection", "nope"], "nope"),
        (["index", "IN", "--collection", "bad/name!", "--model", "MODEL"], "bad/name!"),
    ],
)
def test_user_errors_exit_1_with_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    tiny_clip_dir: Path,
    args: list[str],
    message: str,
) -> None:
    names = {"MODEL": str(tiny_clip_dir), "IN": str(tmp_path)}
    if "PHOTOS" in args:  # a model loads only once some image needs embedding
        names["PHOTOS"] = str(write_images(tmp_path / "photos", COLOURS))
    args = [names.get(a, a) for a in args]
    assert main([*args, "--data-dir", str(tmp_path / "data")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_fresh_process_sees_same_results_and_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, upload: list[str], tiny_clip_dir: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    query = [
        "search",
        "--collection",
        "c4",
        "--text",
        "yellow",
        "--model",
        str(tiny_clip_dir),
        *data,
        "--json",
    ]
    assert (
        main(["index", upload[0], "--collection", "c4", "--model", str(tiny_clip_dir), *data]) == 0
    )
    capsys.readouterr()
    assert main(query) == 0
    in_process = json.loads(capsys.readouterr().out)["results"]

    fresh = run_cli(*query, "--device", "cpu", "--precision", "fp32")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout)["results"] == in_process

    usage = run_cli("search", "--top-k", "three")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    missing = run_cli(
        "search", "--collection", "c5", "--text", "x", "--model", str(tiny_clip_dir), *data
    )
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert missing.stderr.startswith("error: ")
