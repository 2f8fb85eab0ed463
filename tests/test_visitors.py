"""Multi-visitor policy (mmdemo/tenancy.py) over a real local store, without gradio.

Who sees which collection, who may write where, the per-visitor limits, and the expiry
of an idle or departed visitor's collections with their files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import WebApp
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from mmdemo.config import Settings
from mmdemo.errors import InputError, NotFoundError, ReadOnlyError
from mmdemo.store import Store
from mmdemo.tenancy import Limits, Tenancy, Visitor, owner, private_name, token_for
from mmdemo.ui.plain import plain

MODEL = "tiny"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", multiuser=True)


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings)


def _add(settings: Settings, store: Store, stored: str, item: str) -> Path:
    """One item in ``stored`` with a copy on disk; returns the copy's path."""
    settings.images_dir.mkdir(parents=True, exist_ok=True)
    copy = settings.images_dir / f"{item}.png"
    copy.write_bytes(b"png")
    vector = np.ones((1, 4), np.float32) / 2
    store.add(stored, MODEL, [item], vector, [{"image_file": copy.name, "file_name": "x.png"}])
    return copy


def _tenancy(**limits: float) -> Tenancy:
    values = {"max_images": 10, "max_bytes": 1000, "idle_s": 60.0, **limits}
    return Tenancy(Limits(int(values["max_images"]), int(values["max_bytes"]), values["idle_s"]))


def test_each_visitor_sees_the_shared_collections_and_only_their_own(
    settings: Settings, store: Store
) -> None:
    tenancy = _tenancy()
    alice, bob = tenancy.visitor("session-a"), tenancy.visitor("session-b")
    _add(settings, store, "demo", "d1")
    _add(settings, store, alice.create("holiday", store), "a1")
    _add(settings, store, bob.create("holiday", store), "b1")
    _add(settings, store, bob.create("cats", store), "b2")

    assert [i.name for i in alice.visible(store.collections())] == ["demo", "holiday"]
    assert [i.name for i in bob.visible(store.collections())] == ["cats", "demo", "holiday"]
    assert alice.read("holiday", store) != bob.read("holiday", store)
    assert alice.read("demo", store) == "demo"
    with pytest.raises(NotFoundError):
        alice.read(private_name(token_for("session-b"), "cats"), store)


def test_shared_collections_are_read_only_to_visitors(settings: Settings, store: Store) -> None:
    visitor = _tenancy().visitor("session-a")
    _add(settings, store, "demo", "d1")
    with pytest.raises(ReadOnlyError, match="shared and read-only"):
        visitor.create("demo", store)
    with pytest.raises(ReadOnlyError, match="shared and read-only"):
        visitor.change("demo", store)
    with pytest.raises(NotFoundError):
        visitor.change("nothing-here", store)


def test_a_caller_without_session_only_reads(settings: Settings, store: Store) -> None:
    anonymous = _tenancy().visitor(None)
    _add(settings, store, "demo", "d1")
    assert [i.name for i in anonymous.visible(store.collections())] == ["demo"]
    with pytest.raises(ReadOnlyError, match="session"):
        anonymous.create("mine", store)


def test_the_operator_sees_and_changes_everything(settings: Settings, store: Store) -> None:
    visitor = _tenancy().visitor("session-a")
    stored = visitor.create("holiday", store)
    _add(settings, store, stored, "a1")
    operator = Visitor.operator()
    assert operator.create("demo", store) == "demo"
    assert operator.change(stored, store) == stored
    assert [i.name for i in operator.visible(store.collections())] == [stored]


def test_limits_refuse_too_many_images_and_bytes(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    visitor = _tenancy(max_images=2, max_bytes=100).visitor("session-a")
    _add(settings, store, visitor.create("mine", store), "a1")
    small, big = tmp_path / "small.png", tmp_path / "big.png"
    small.write_bytes(b"x" * 60)
    big.write_bytes(b"x" * 200)
    with pytest.raises(InputError, match="up to 2 images: you hold 1"):
        visitor.check_upload([str(small), str(small)], store)
    with pytest.raises(InputError, match="up to 0 MB"):
        visitor.check_upload([str(big)], store)
    visitor.uploaded(visitor.check_upload([str(small)], store))
    with pytest.raises(InputError, match="bring you to"):
        visitor.check_upload([str(small)], store)


def test_long_names_are_refused_with_the_limit(store: Store) -> None:
    with pytest.raises(InputError, match="limited to 48 characters"):
        _tenancy().visitor("session-a").create("n" * 60, store)


def test_idle_and_unknown_visitors_expire_with_their_files(
    settings: Settings, store: Store
) -> None:
    tenancy = _tenancy(idle_s=0.0)
    idle = tenancy.visitor("idle")
    copy = _add(settings, store, idle.create("old", store), "i1")
    orphan = private_name(token_for("before-a-restart"), "left")
    _add(settings, store, orphan, "o1")
    shared = _add(settings, store, "demo", "d1")

    removed = tenancy.sweep(settings, store)

    assert sorted(removed) == sorted([private_name(idle.token or "", "old"), orphan])
    assert store.names() == ["demo"]
    assert not copy.exists() and shared.exists()


def test_active_visitors_are_kept_and_leaving_removes_at_once(
    settings: Settings, store: Store
) -> None:
    tenancy = _tenancy(idle_s=3600.0)
    stay, leave = tenancy.visitor("stay"), tenancy.visitor("leave")
    _add(settings, store, stay.create("kept", store), "s1")
    _add(settings, store, leave.create("gone", store), "l1")
    assert tenancy.sweep(settings, store) == []
    assert tenancy.leave(settings, store, "leave") == [private_name(leave.token or "", "gone")]
    assert [owner(name) for name in store.names()] == [stay.token]


def test_settings_turn_multiuser_on_on_spaces_and_by_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPACE_ID", "MMDEMO_MULTIUSER"):
        monkeypatch.delenv(name, raising=False)
    assert not Settings.from_env().multiuser
    monkeypatch.setenv("SPACE_ID", "someone/mmdemo")
    assert Settings.from_env().multiuser
    monkeypatch.setenv("MMDEMO_MULTIUSER", "0")
    assert not Settings.from_env().multiuser
    monkeypatch.delenv("SPACE_ID")
    monkeypatch.setenv("MMDEMO_MULTIUSER", "1")
    monkeypatch.setenv("MMDEMO_VISITOR_IDLE_MIN", "5")
    settings = Settings.from_env()
    assert settings.multiuser and Limits.from_settings(settings).idle_s == 300.0


def test_plain_escapes_markup() -> None:
    text = '<img src="http://x/y"><script>1</script> & [a](b)'
    assert plain(text) == (
        "&lt;img src=&quot;http://x/y&quot;&gt;&lt;script&gt;1&lt;/script&gt; &amp; [a](b)"
    )


# --- through the API: two gradio_client sessions against a multi-visitor app ---------------


def _names(client: Client) -> list[str]:
    listing = client.predict(api_name="/collections")
    return sorted(entry["name"] for entry in listing)


def _index(client: Client, app: WebApp, image: Path, collection: str) -> dict[str, Any]:
    files = [handle_file(str(image))]
    report = client.predict(
        files=files, collection=collection, models=[app.model], api_name="/index"
    )
    return dict(report)


def _search(client: Client, app: WebApp, collection: str) -> list[dict[str, Any]]:
    payload, _ = client.predict(
        collection=collection, text="a photo", model=app.model, top_k=5, api_name="/search"
    )
    return list(payload["results"])


@pytest.mark.timeout(300)
def test_two_api_clients_see_only_their_own_and_the_shared_collections(
    multiuser_app: WebApp, tmp_path: Path
) -> None:
    image = tmp_path / "noise.png"
    pixels = np.random.default_rng(3).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(image)
    alice = Client(multiuser_app.url, verbose=False)
    bob = Client(multiuser_app.url, verbose=False)

    assert _index(alice, multiuser_app, image, "alice-only")["added"] == 1
    assert _names(alice) == ["alice-only", "demo-photos"]
    assert _names(bob) == ["demo-photos"]
    assert len(_search(alice, multiuser_app, "alice-only")) == 1
    with pytest.raises(AppError, match="does not exist"):
        _search(bob, multiuser_app, "alice-only")
    with pytest.raises(AppError, match="does not exist"):
        bob.predict(collection="alice-only", confirm=True, api_name="/delete")
    with pytest.raises(AppError, match="shared and read-only"):
        _index(bob, multiuser_app, image, "demo-photos")
    with pytest.raises(AppError, match="shared and read-only"):
        bob.predict(collection="demo-photos", model=multiuser_app.model, api_name="/index_existing")

    assert _index(bob, multiuser_app, image, "alice-only")["added"] == 1
    bob.predict(collection="alice-only", confirm=True, api_name="/delete")
    assert _names(bob) == ["demo-photos"]
    assert _names(alice) == ["alice-only", "demo-photos"]
    assert len(_search(alice, multiuser_app, "demo-photos")) > 0
