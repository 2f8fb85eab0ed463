"""What the Search tab says about a model the chosen collection is not indexed with."""

from types import SimpleNamespace
from typing import Any

import pytest

from mmdemo.policy.rules import Target
from mmdemo.ui.actions.search import setup_note

DEMO = Target("demo", "demo")


def _ctx(
    models: dict[str, int], *, readonly: bool = False, unavailable: tuple[str, ...] = ()
) -> Any:
    store = SimpleNamespace(models=lambda collection: models)
    status = SimpleNamespace(unavailable=unavailable)
    return SimpleNamespace(
        store=lambda: store, readonly=readonly, bootstrap=SimpleNamespace(status=lambda: status)
    )


def test_an_indexed_model_needs_no_note() -> None:
    assert setup_note(_ctx({"lite": 3}), DEMO, "lite") == ("", False)


def test_a_model_not_indexed_is_offered_for_indexing() -> None:
    note, offer = setup_note(_ctx({"lite": 3}), DEMO, "lite-b2")
    assert offer and "not indexed with `lite-b2`" in note


def test_read_only_says_why_it_cannot_index_and_what_to_do() -> None:
    note, offer = setup_note(_ctx({"lite": 3}, readonly=True), DEMO, "lite-b2")
    assert not offer and "read-only" in note and "✓ indexed" in note


@pytest.mark.parametrize("indexed", [{"lite": 3}, {"clip-b32": 3}])
def test_a_model_that_cannot_load_here_says_so(indexed: dict[str, int]) -> None:
    note, offer = setup_note(_ctx(indexed, unavailable=("clip-b32",)), DEMO, "clip-b32")
    assert not offer and "cannot load here" in note
