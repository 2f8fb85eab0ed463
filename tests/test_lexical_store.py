"""The lexical index in the data dir: built once, trusted while the store is unchanged,
rebuilt when items come or go (in this process or another), removed with its collection,
swept by gc, never written by a read-only store."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmdemo.config import Settings
from mmdemo.manage import delete_collection, delete_items, sweep_orphans
from mmdemo.runtime import Runtime
from mmdemo.store import Store
from mmdemo.text import persist
from mmdemo.text.index import LexicalIndex

MODEL = "m"
ROOT = Path(__file__).resolve().parents[1]


def _add(store: Store, collection: str, items: dict[str, str]) -> None:
    ids = list(items)
    vectors = np.eye(len(ids), 4, dtype=np.float32) + 0.01
    metas = [
        {"caption": caption, "file_name": f"{i}.png", "image_file": f"{i}.png"}
        for i, caption in items.items()
    ]
    store.add(collection, MODEL, ids, vectors, metas)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu")


@pytest.fixture
def store(settings: Settings) -> Store:
    built = Store(settings)
    _add(built, "shop", {"a": "red shoe", "b": "blue mug", "c": ""})
    return built


def _index_files(settings: Settings) -> list[str]:
    folder = persist.lexical_dir(settings)
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_built_once_saved_and_read_back_without_the_store(
    store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = persist.lexical_index(store, "shop")
    assert index.ids == ["a", "b"]  # "c" has no text
    assert persist.lexical_index(store, "shop") is index  # nothing written since
    assert len(_index_files(settings)) == 2  # the index and its "seen" marker

    def no_reading(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the store's items were read although nothing changed")

    monkeypatch.setattr(Store, "items", no_reading)
    again = persist.lexical_index(Store(settings, Runtime()), "shop")  # another process
    assert (again.ids, again.sequences) == (index.ids, index.sequences)


def test_a_write_elsewhere_checks_the_version_but_does_not_rebuild(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    persist.lexical_index(store, "shop")
    _add(store, "other", {"z": "green hat"})
    built: list[int] = []
    original = LexicalIndex.build.__func__  # type: ignore[attr-defined]

    def counting(cls: type[LexicalIndex], items: Any) -> LexicalIndex:
        built.append(1)
        return original(cls, items)

    monkeypatch.setattr(LexicalIndex, "build", classmethod(counting))
    assert persist.lexical_index(store, "shop").ids == ["a", "b"]
    assert built == []


def test_new_and_deleted_items_make_a_new_version(store: Store, settings: Settings) -> None:
    first = persist.lexical_index(store, "shop")
    _add(store, "shop", {"d": "red hat"})
    assert persist.lexical_index(store, "shop").ids == ["a", "b", "d"]
    delete_items(settings, store, "shop", ["a"])
    assert persist.lexical_index(store, "shop").ids == ["b", "d"]
    assert len(_index_files(settings)) == 2  # older versions were removed
    assert first.ids == ["a", "b"]


def test_another_processes_write_is_seen(store: Store, settings: Settings) -> None:
    assert persist.lexical_index(store, "shop").ids == ["a", "b"]
    script = textwrap.dedent(
        f"""
        import numpy as np
        from pathlib import Path
        from mmdemo.config import Settings
        from mmdemo.store import Store
        store = Store(Settings(data_dir=Path({str(settings.data_dir)!r}), device="cpu"))
        store.add("shop", "m", ["e"], np.ones((1, 4), np.float32), [{{"caption": "pink sock"}}])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert persist.lexical_index(store, "shop").ids == ["a", "b", "e"]


def test_a_corrupt_file_is_rebuilt(store: Store, settings: Settings) -> None:
    persist.lexical_index(store, "shop")
    for path in persist.lexical_dir(settings).glob("*.json"):
        path.write_text("{not json", encoding="utf-8")
    other_process = Store(settings, Runtime())
    assert persist.lexical_index(other_process, "shop").ids == ["a", "b"]


def test_deleting_the_collection_removes_its_index_and_gc_sweeps_left_overs(
    store: Store, settings: Settings
) -> None:
    persist.lexical_index(store, "shop")
    _add(store, "other", {"z": "green hat"})
    persist.lexical_index(store, "other")
    delete_collection(settings, store, "shop")
    names = _index_files(settings)
    assert names and all(name.startswith(persist.base_name("other")) for name in names)
    store.delete_collection("other")  # behind the lexical index's back
    orphans = sweep_orphans(settings, store, apply=True)
    assert {p.name for p in orphans} >= set(names)
    assert _index_files(settings) == []


def test_a_read_only_store_builds_in_memory_and_writes_nothing(
    store: Store, settings: Settings
) -> None:
    from dataclasses import replace

    readonly = replace(settings, readonly=True)
    assert persist.lexical_index(Store(readonly), "shop").ids == ["a", "b"]
    assert _index_files(settings) == []
