"""What the Collections tab and /index tell about an indexing run (ui/actions/collections.py):
warnings and rejections name files as uploaded, never the server's upload folder, and a
model that cannot load beside one that does is named with its reason while the other
indexes. In process: the same action the tab and the endpoint call."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmdemo.config import Limits, Settings
from mmdemo.ui.actions import collections
from mmdemo.ui.bootstrap import Bootstrap
from mmdemo.ui.context import AppContext, no_progress
from mmdemo.ui.requests import IndexRequest

from formatfactory import noise, text_image

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.timeout(300)]


def _context(tmp_path: Path, **limits: float) -> AppContext:
    settings = Settings(
        data_dir=tmp_path / "data", device="cpu", allow_local_models=True, limits=Limits(**limits)
    )
    return AppContext(settings, Bootstrap(settings, None, "lite"))


def _uploaded(tmp_path: Path) -> list[str]:
    """Two files where gradio keeps uploads: a folder of the server's own."""
    folder = tmp_path / "gradio-upload" / "4f0c2e"
    folder.mkdir(parents=True)
    text_image(["ZEBRAFISH aquarium supplies"]).save(folder / "label.png")
    noise(1).save(folder / "noise.png")
    return [str(folder / "label.png"), str(folder / "noise.png")]


def test_an_ocr_warning_names_the_file_as_uploaded(tmp_path: Path, tiny_clip_dir: Path) -> None:
    ctx = _context(tmp_path, ocr_seconds=0.001)
    given = {"files": _uploaded(tmp_path), "collection": "signs", "models": [str(tiny_clip_dir)]}
    asked = ctx.admit(IndexRequest, given | {"ocr": True}, None)
    done = collections.index_uploads(ctx, asked, no_progress)
    assert done.report["added"] == 2
    [warning] = done.report["warnings"]
    assert warning["file"] == "label.png"
    assert "OCR stopped at its bound of 0.001 s per image" in warning["reason"]
    assert "⚠ label\\.png: OCR stopped" in done.summary
    for told in (json.dumps(done.report), done.summary):
        assert "gradio-upload" not in told and str(tmp_path) not in told


def test_a_model_that_cannot_load_is_named_and_the_other_indexes(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    ctx = _context(tmp_path)
    models = [str(tiny_clip_dir), "no-org/no-model"]
    given = {"files": _uploaded(tmp_path), "collection": "partial", "models": models}
    done = collections.index_uploads(ctx, ctx.admit(IndexRequest, given, None), no_progress)
    assert done.report["added"] == 2
    [failed] = done.report["failed_models"]
    assert failed["model"] == "no-org/no-model" and failed["reason"]
    lead, left_out = done.summary.split("  \n")
    assert lead.endswith(f"models `{tiny_clip_dir}`")  # only the one that indexed
    assert left_out.startswith("⚠ Model `no-org/no-model` was left out: ")
    assert "ocr_text" not in json.dumps(list(ctx.store().items("partial")))  # OCR is off
