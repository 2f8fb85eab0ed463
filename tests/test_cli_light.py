"""The command line stays light: no torch, transformers or gradio unless a model must run.

Each command runs in a fresh process through a small wrapper that calls ``mmdemo.cli.main``
and then prints which heavy packages ended up in ``sys.modules``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from mmdemo.cli import main

from helpers import COLOURS, write_images

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "sentence_transformers", "transformers", "gradio")
WRAPPER = f"""
import json, sys
from mmdemo.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
heavy = sorted({{m.split(".")[0] for m in sys.modules}} & set({HEAVY!r}))
print(json.dumps({{"code": code, "heavy": heavy}}), file=sys.stderr)
"""


def run_light(*args: str, **extra_env: str) -> tuple[int, list[str], str]:
    """Run the CLI in a fresh process; return its exit code, heavy imports and stderr."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(ROOT), **extra_env}
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    *messages, last = done.stderr.strip().splitlines()
    result = json.loads(last)
    return int(result["code"] or 0), result["heavy"], "\n".join(messages)


@pytest.fixture
def indexed_dir(tmp_path: Path, tiny_clip_dir: Path) -> tuple[Path, list[str]]:
    """A data dir whose collection ``c`` holds every image of a folder; the CLI args to add it."""
    folder = write_images(tmp_path / "in", COLOURS)
    args = ["index", str(folder), "--collection", "c", "--model", str(tiny_clip_dir)]
    args += ["--data-dir", str(tmp_path / "data")]
    assert main([*args, "--json"]) == 0
    return tmp_path / "data", args


def test_reindexing_what_is_stored_loads_no_model(
    indexed_dir: tuple[Path, list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code, heavy, _ = run_light(*indexed_dir[1])
    assert (code, heavy) == (0, [])


def test_reindexing_beside_other_files_and_a_missing_source_loads_no_model(
    tmp_path: Path, tiny_clip_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder that also holds a captions CSV and a SOURCES file, plus a missing path: the
    non-image is refused from its headers, and the captions CSV is not an input at all."""
    folder = write_images(tmp_path / "in", COLOURS)
    (folder / "SOURCES").write_text("red.png: drawn here\n")
    captions = folder / "captions.csv"
    captions.write_text("file_name,caption\nred.png,a red square\n")
    args = ["index", str(folder), str(tmp_path / "gone.png"), "--collection", "c"]
    args += ["--model", str(tiny_clip_dir), "--captions", str(captions)]
    args += ["--data-dir", str(tmp_path / "data"), "--json"]
    assert main(args) == 0
    first = json.loads(capsys.readouterr().out)
    code, heavy, _ = run_light(*args)
    assert (code, heavy) == (0, [])
    assert first["added"] == len(COLOURS)
    assert sorted(Path(r["file"]).name for r in first["rejected"]) == ["SOURCES", "gone.png"]


def test_reindexing_with_the_default_model_loads_no_model(tmp_path: Path) -> None:
    """No ``--model``, the Hub out of reach: the default (lite, CLIP not cached) is chosen
    without trying CLIP, and a folder already stored beside a non-image loads nothing."""
    folder = write_images(tmp_path / "in", COLOURS)
    (folder / "notes.txt").write_text("not an image\n")
    args = ["index", str(folder), "--collection", "c", "--data-dir", str(tmp_path / "data")]
    assert run_light(*args, "--model", "lite")[0] == 0
    code, heavy, told = run_light(*args, "--json", HF_HOME=str(tmp_path / "hf"))
    assert (code, heavy) == (0, [])
    assert "Using the offline model 'lite'" in told


@pytest.mark.parametrize(
    "command",
    [
        ["list"],
        ["models"],
        ["delete", "--collection", "c", "--id", "0" * 64],
        ["index", "missing-folder", "--collection", "c", "--model", "lite"],
        ["search", "--collection", "nope", "--text", "a dog", "--model", "lite"],
    ],
)
def test_commands_that_need_no_model_stay_light(
    indexed_dir: tuple[Path, list[str]], command: list[str]
) -> None:
    code, heavy, _ = run_light(*command, "--data-dir", str(indexed_dir[0]))
    assert code in (0, 1)
    assert heavy == []


def test_help_is_light() -> None:
    code, heavy, _ = run_light("--help")
    assert (code, heavy) == (0, [])


def test_missing_captions_fail_before_any_model_loads(tmp_path: Path) -> None:
    folder = write_images(tmp_path / "in", COLOURS)
    bad = tmp_path / "missing-captions.csv"
    args = ["index", str(folder), "--collection", "c", "--model", "lite", "--captions", str(bad)]
    code, heavy, stderr = run_light(*args, "--data-dir", str(tmp_path / "data"))
    assert (code, heavy) == (1, [])
    assert stderr.startswith("error:")


def test_an_unreachable_hub_dataset_fails_in_one_line_without_loading_a_model(
    tmp_path: Path,
) -> None:
    code, heavy, stderr = run_light(
        "index", "hf:someone/photos", "--split", "train", "--image-column", "image",
        "--caption-column", "text", "--limit", "5", "--collection", "c", "--model", "lite",
        "--data-dir", str(tmp_path / "data"),
    )  # fmt: skip
    assert (code, heavy) == (1, [])
    assert stderr.strip().splitlines()[-1] == (
        "error: Dataset hf:someone/photos cannot be reached: HF_HUB_OFFLINE is set."
    )


@pytest.fixture(scope="module")
def graphs_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A data dir whose collection ``g`` is indexed with lite on ONNX Runtime (its graphs
    exported and cached on the way), and a folder of images it does not hold yet."""
    root = tmp_path_factory.mktemp("graphs")
    names = list(COLOURS)
    folder = write_images(root / "in", {n: COLOURS[n] for n in names[:3]})
    args = ["index", str(folder), "--collection", "g", "--model", "lite", "--backend", "onnx"]
    assert main([*args, "--data-dir", str(root / "data"), "--json"]) == 0
    more = write_images(root / "more", {n: COLOURS[n] for n in names[3:]})
    # a photo-sized image: its thumbnail is a real shrink (small ones are kept as they are)
    Image.radial_gradient("L").resize((900, 600)).convert("RGB").save(more / "photo.jpg")
    return root / "data", more


@pytest.mark.parametrize("backend", ["onnx", "openvino"])
def test_a_search_on_cached_graphs_imports_neither_torch_nor_sentence_transformers(
    graphs_dir: tuple[Path, Path], backend: str
) -> None:
    data, _ = graphs_dir
    args = ["search", "--collection", "g", "--text", "a red square", "--backend", backend]
    code, heavy, stderr = run_light(*args, "--data-dir", str(data))
    assert (code, heavy) == (0, []), stderr


def test_indexing_new_images_on_cached_graphs_stays_light(graphs_dir: tuple[Path, Path]) -> None:
    data, more = graphs_dir
    args = ["index", str(more), "--collection", "g", "--model", "lite", "--backend", "onnx"]
    code, heavy, stderr = run_light(*args, "--data-dir", str(data))
    assert (code, heavy) == (0, []), stderr


def test_a_rerank_over_the_budget_is_refused_until_the_user_says_yes(
    graphs_dir: tuple[Path, Path],
) -> None:
    """The estimate comes before any model loads; with --yes the search goes on (and here
    fails to load the reranker, which needs the Hub: the budget let it through)."""
    data, _ = graphs_dir
    args = ["search", "--collection", "g", "--text", "a red square", "--model", "lite"]
    args += ["--rerank", "qwen3-vl-reranker-2b", "--data-dir", str(data)]
    code, heavy, stderr = run_light(*args)
    assert (code, heavy) == (1, [])
    assert "min on this CPU" in stderr and "use a GPU Space, or rerank" in stderr
    assert "--yes" in stderr
    code, _, stderr = run_light(*args, "--yes")
    assert code == 1 and "Could not load reranker 'qwen3-vl-reranker-2b'" in stderr


def test_a_hub_that_does_not_answer_fails_in_one_line_before_the_store_opens(
    tmp_path: Path,
) -> None:
    """Not offline by setting, just no Hub (a closed local port): the connection probe says
    so at once, before the store, ``datasets`` or the default model is touched."""
    data = tmp_path / "data"
    code, heavy, stderr = run_light(
        "index", "hf:someone/photos", "--collection", "c", "--data-dir", str(data),
        HF_HUB_OFFLINE="0", HF_ENDPOINT="http://127.0.0.1:9",
    )  # fmt: skip
    assert (code, heavy) == (1, [])
    assert stderr.splitlines() == [
        "error: Dataset hf:someone/photos cannot be reached: the Hugging Face Hub "
        "(127.0.0.1) is unreachable: Connection refused."
    ]
    assert not data.exists()


def test_deleting_the_demo_collection_needs_a_yes(
    tmp_path: Path,
    tiny_clip_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = write_images(tmp_path / "in", COLOURS)
    data = ["--data-dir", str(tmp_path / "data")]
    assert (
        main(
            [
                "index",
                str(folder),
                "--collection",
                "demo-photos",
                "--model",
                str(tiny_clip_dir),
                *data,
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["delete", "--collection", "demo-photos", *data]) == 1
    assert capsys.readouterr().err.strip().endswith("pass --yes to confirm.")
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True)
    monkeypatch.setattr("builtins.input", lambda question: "n")
    assert main(["delete", "--collection", "demo-photos", *data]) == 1
    assert main(["list", *data]) == 0
    assert capsys.readouterr().out.startswith("demo-photos: 6 images")
    assert main(["delete", "--collection", "demo-photos", "--yes", *data]) == 0
    assert "deleted collection demo-photos (6 images)" in capsys.readouterr().out
