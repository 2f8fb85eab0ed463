"""The Collections tab's dataset source, without a browser: who may name what, and a
visitor's rows capped at the images the visitor may still hold."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import datasets
import pytest

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.ui.actions.collections import Indexed, index_uploads
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import IndexRequest

from datasetfactory import in_memory


def context(tmp_path: Path, **settings: Any) -> AppContext:
    """An app context over a fresh data dir; start-up work is not needed here."""
    chosen = Settings(data_dir=tmp_path / "data", device="cpu", **settings)
    return AppContext(chosen, SimpleNamespace())  # type: ignore[arg-type]


def no_progress(*_: object, **__: object) -> None:
    """Progress reports are not looked at here."""


def index(ctx: AppContext, session: str | None, **named: Any) -> Indexed:
    """An index request of the visitor of ``session``, through the app's policy."""
    return index_uploads(ctx, ctx.admit(IndexRequest, named, session), no_progress)


def test_visitors_name_hub_datasets_and_local_folders_only_when_the_operator_allows(
    tmp_path: Path,
) -> None:
    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": in_memory()}).save_to_disk(str(saved))
    closed = context(tmp_path)
    assert closed.policy.dataset("  ") is None
    assert closed.policy.dataset(" hf:owner/name ") == "hf:owner/name"
    for path in (str(saved), "/etc", "relative/folder"):
        with pytest.raises(InputError, match="accepted only from the command line"):
            closed.policy.dataset(path)
    opened = context(tmp_path, allow_local_models=True)
    assert opened.policy.dataset(str(saved)) == str(saved)
    with pytest.raises(InputError, match="is not a dataset"):
        opened.policy.dataset(str(tmp_path))


def test_a_visitors_dataset_rows_stop_at_the_images_they_may_hold(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": in_memory()}).save_to_disk(str(saved))
    ctx = context(tmp_path, multiuser=True, allow_local_models=True, visitor_max_images=2)
    visitor = ctx.visitor("session-a")
    model = str(tiny_clip_dir)
    done = index(ctx, "session-a", collection="shop", models=[model], dataset=str(saved), limit=3)
    assert done.report["added"] == 2
    reasons = [r["reason"] for r in done.report["rejected"]]
    assert reasons == ["past the 2 images a visitor may hold"]
    assert "**2 added**" in done.summary
    assert [info.images for info in visitor.visible(ctx.store().collections())] == [2]
    with pytest.raises(InputError, match="You hold as many images as a visitor may"):
        index(ctx, "session-a", collection="more", models=[model], dataset=str(saved))


def test_nothing_to_index_names_the_dataset_as_an_option(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="a folder or a dataset to index"):
        index(context(tmp_path), None, collection="x", models=["lite"])
