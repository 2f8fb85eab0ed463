"""Issue 23's complaints, on the bundled demos with the offline lite model: "space" puts
the brick wall below every space photo, "line chart" ranks a page whose text says "line
chart" first, and "red shoe" ranks a red shoe first, above any mug."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmdemo.config import Settings
from mmdemo.demos import plan_demos
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.store import Store
from mmdemo.ui.bootstrap import Bootstrap

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The three bundled demos, indexed with lite as at the app's first start."""
    folder: Path = tmp_path_factory.mktemp("demo-relevance")
    settings = Settings(data_dir=folder / "data", device="cpu")
    boot = Bootstrap(settings, plan_demos(""), "lite")
    boot.start()
    boot.join(600)
    assert boot.status().phase == "ready", boot.status()
    return settings


def _top(settings: Settings, collection: str, text: str) -> list[dict[str, object]]:
    found = search(
        Query(text=text), collection=collection, model="lite", settings=settings,
        store=Store(settings), top_k=10,
    )  # fmt: skip
    return found.rows


def test_space_ranks_the_brick_wall_below_every_space_photo(settings: Settings) -> None:
    names = [row["file_name"] for row in _top(settings, "demo-photos", "space")]
    space = ["hubble_deep_field.jpg", "astronaut.jpg", "rocket.jpg"]
    assert set(names[:3]) == set(space), names
    assert "brick.jpg" not in names[:4], names


def test_line_chart_ranks_a_page_saying_line_chart_first(settings: Settings) -> None:
    rows = _top(settings, "demo-documents", "line chart")
    assert "line chart" in str(rows[0]["caption"]).lower(), rows[0]


def test_red_shoe_ranks_a_red_shoe_above_any_mug(settings: Settings) -> None:
    names = [str(row["file_name"]) for row in _top(settings, "demo-shop", "red shoe")]
    assert names[0].startswith("shoes-") and "red" in names[0], names
    red_shoes = [i for i, name in enumerate(names) if name.startswith("shoes-") and "red" in name]
    mugs = [i for i, name in enumerate(names) if "mug" in name]
    assert max(red_shoes) < min(mugs, default=len(names)), names
