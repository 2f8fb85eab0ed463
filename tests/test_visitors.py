"""Multi-visitor policy (mmdemo/tenancy.py) over a real local store, without gradio.

Who sees which collection, who may write where, the per-visitor limits, and the expiry
of an idle or departed visitor's collections with their files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

from mmdemo.config import Settings
from mmdemo.errors import ImageRejected, InputError, NotFoundError, ReadOnlyError
from mmdemo.store import Store
from mmdemo.tenancy import Limits, Tenancy, Visitor, owner, private_name, token_for
from mmdemo.ui.plain import plain

from helpers import WebApp

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


def test_another_visitors_private_name_answers_as_a_missing_one(
    settings: Settings, store: Store
) -> None:
    tenancy = _tenancy()
    alice, bob = tenancy.visitor("session-a"), tenancy.visitor("session-b")
    hers = alice.create("holiday", store)
    _add(settings, store, hers, "a1")
    with pytest.raises(NotFoundError) as private:
        bob.change(hers, store)
    with pytest.raises(NotFoundError) as missing:
        bob.change(private_name(alice.token or "", "no-such"), store)
    assert str(private.value).replace(hers, "X") == str(missing.value).replace(
        private_name(alice.token or "", "no-such"), "X"
    )
    assert bob.create(hers, store) == private_name(bob.token or "", hers)  # his own, new


def test_uploads_go_with_the_collection_they_were_indexed_into(
    settings: Settings, store: Store, tmp_path: Path
) -> None:
    cache = tmp_path / "gradio-cache"
    uploads = [cache / digest / "photo.png" for digest in ("aa11", "bb22", "cc33")]
    for path in [*uploads, tmp_path / "elsewhere.png"]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"png")
    tenancy = Tenancy(_tenancy().limits, cache)
    alice = tenancy.visitor("session-a")
    kept, gone = alice.create("kept", store), alice.create("gone", store)
    with alice.reserve(store, gone, [str(uploads[0]), str(tmp_path / "elsewhere.png")]):
        _add(settings, store, gone, "g1")
    with alice.reserve(store, kept, [str(uploads[1])]):
        _add(settings, store, kept, "k1")

    alice.delete(settings, store, gone)

    assert not uploads[0].exists() and not uploads[0].parent.exists()
    assert uploads[1].exists() and (tmp_path / "elsewhere.png").exists()  # never outside
    with alice.reserve(store, kept, [str(uploads[2])]):
        pass
    assert tenancy.leave(settings, store, "session-a") == [kept]
    assert not uploads[1].exists() and not uploads[2].exists() and cache.exists()


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


def test_a_reservation_counts_what_is_held_and_refuses_past_the_caps(
    settings: Settings, store: Store
) -> None:
    visitor = _tenancy(max_images=3, max_bytes=100).visitor("session-a")
    stored = visitor.create("mine", store)
    _add(settings, store, stored, "a1")  # a 3-byte copy
    with visitor.reserve(store, stored, []) as first, visitor.reserve(store, stored, []) as second:
        first.take(50)
        with pytest.raises(ImageRejected, match="past the 0 MB of images"):
            second.take(48)  # 3 + 50 + 48 > 100: the two ingests share one account
        second.take(40)
        assert first.full() == second.full() == "past the 3 images a visitor may hold"
        with pytest.raises(ImageRejected, match="past the 3 images a visitor may hold"):
            first.take(1)
        second.give_back(40)
        assert first.full() is None
    _add(settings, store, stored, "a2")
    _add(settings, store, stored, "a3")
    refused = pytest.raises(InputError, match="You hold as many images as a visitor may")
    with refused, visitor.reserve(store, stored, []):
        pass
    with Visitor.operator().reserve(store, "any", []) as unlimited:
        unlimited.take(10**12)
        assert unlimited.full() is None


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


@pytest.mark.timeout(300)
def test_a_deleted_collections_uploads_leave_gradios_cache_and_are_no_longer_served(
    multiuser_app: WebApp, tmp_path: Path
) -> None:
    import io
    import urllib.error
    import urllib.request
    import zipfile

    archive = tmp_path / "carol-upload.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        for seed in (11, 12):
            pixels = np.random.default_rng(seed).integers(0, 256, (32, 32, 3), dtype=np.uint8)
            png = io.BytesIO()
            Image.fromarray(pixels).save(png, "PNG")
            bundle.writestr(f"{seed}.png", png.getvalue())
    carol = Client(multiuser_app.url, verbose=False)
    report = carol.predict(
        files=[handle_file(str(archive))], collection="carol", models=[multiuser_app.model],
        api_name="/index",
    )  # fmt: skip
    assert report["added"] == 2
    cache = multiuser_app.data_dir.parent / "gradio-tmp"
    copies = list(cache.rglob(archive.name))
    assert len(copies) == 1

    def status(path: Path) -> int:
        url = f"{multiuser_app.url}/gradio_api/file={path}"
        try:
            with urllib.request.urlopen(url, timeout=30) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as refused:
            return refused.code

    assert status(copies[0]) == 200  # served while the collection exists
    carol.predict(collection="carol", confirm=True, api_name="/delete")
    assert not copies[0].exists()
    assert status(copies[0]) in (403, 404)
