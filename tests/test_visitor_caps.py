"""A visitor's caps count what is stored: images (zip members, dataset rows, PDF pages, not
uploaded files) and their decompressed bytes, reserved atomically over parallel ingests.

Hostile inputs are generated here; each test indexes through the Collections tab's own
function (what the page and ``/index`` call) with a tiny local model.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.tenancy import Visitor
from mmdemo.ui.actions.collections import delete, index_uploads
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import DeleteRequest, IndexRequest

from imagefactory import encode, image_bytes, pdf_bytes, write, write_zip

MB = 1024 * 1024


def context(tmp_path: Path, **settings: Any) -> AppContext:
    """A multi-visitor app over a fresh data dir that takes tiny models by folder."""
    chosen = Settings(
        data_dir=tmp_path / "data", device="cpu", multiuser=True, allow_local_models=True,
        **settings,
    )  # fmt: skip
    status = SimpleNamespace(finished=True, done=0, total=0, demo_ready=lambda _: True)
    startup = SimpleNamespace(demo=lambda _: None, status=lambda: status)
    return AppContext(chosen, startup)  # type: ignore[arg-type]


def no_progress(*_: object, **__: object) -> None:
    """Progress reports are not looked at here."""


def distinct_png(i: int, size: tuple[int, int] = (8, 6)) -> bytes:
    """A small PNG whose colour (and so content hash) is its own."""
    return image_bytes("PNG", size, (i % 256, (i // 256) % 256, 77))


def index(
    ctx: AppContext, visitor: Visitor, files: list[Path], model: Path, name: str = "mine"
) -> dict[str, Any]:
    """Index ``files`` into ``name`` as the page does: the request through the policy."""
    named = {"files": [str(f) for f in files], "collection": name, "models": [str(model)]}
    request = ctx.policy.admit(IndexRequest, named, visitor)
    return index_uploads(ctx, request, no_progress).report


def held(ctx: AppContext, visitor: Visitor) -> int:
    return sum(info.images for info in visitor.visible(ctx.store().collections()))


def test_a_zip_of_50_images_under_a_cap_of_10_stores_10_and_says_why(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    ctx = context(tmp_path, visitor_max_images=10)
    visitor = ctx.visitor("session-a")
    archive = write_zip(tmp_path / "fifty.zip", {f"{i:02}.png": distinct_png(i) for i in range(50)})

    report = index(ctx, visitor, [archive], tiny_clip_dir)

    assert report["added"] == 10
    assert held(ctx, visitor) == 10
    reasons = {r["reason"] for r in report["rejected"]}
    assert reasons and all("past the 10 images a visitor may hold" in r for r in reasons)
    with pytest.raises(InputError, match="You hold as many images as a visitor may"):
        index(ctx, visitor, [write(tmp_path / "one.png", distinct_png(99))], tiny_clip_dir)


def test_the_megabyte_cap_counts_decompressed_bytes(tmp_path: Path, tiny_clip_dir: Path) -> None:
    ctx = context(tmp_path, visitor_max_mb=1)
    visitor = ctx.visitor("session-a")
    bmp = [encode(_solid(i, (1600, 1400)), "BMP") for i in range(5)]  # about 6.4 MB each
    archive = write_zip(tmp_path / "bombs.zip", {f"b{i}.bmp": data for i, data in enumerate(bmp)})
    assert archive.stat().st_size < 200 * 1024

    report = index(ctx, visitor, [archive], tiny_clip_dir)

    assert report["added"] == 0 and held(ctx, visitor) == 0
    assert len(report["rejected"]) >= 1
    assert all("1 MB" in r["reason"] for r in report["rejected"])
    stored = sum(p.stat().st_size for p in ctx.settings.images_dir.glob("*")) if (
        ctx.settings.images_dir.exists()
    ) else 0  # fmt: skip
    assert stored <= MB


def test_stored_bytes_stop_at_the_cap_and_deleting_frees_them(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    ctx = context(tmp_path, visitor_max_mb=1)
    visitor = ctx.visitor("session-a")
    big = [write(tmp_path / f"p{i}.bmp", encode(_solid(i, (300, 300)), "BMP")) for i in range(5)]

    report = index(ctx, visitor, big, tiny_clip_dir)  # 270 KB each: three fit under 1 MB

    assert report["added"] == 3
    assert len(report["rejected"]) == 2
    assert all("1 MB" in r["reason"] for r in report["rejected"])
    again = index(ctx, visitor, big[3:], tiny_clip_dir, name="more")
    assert again["added"] == 0
    assert {r["reason"] for r in again["rejected"]} == {
        "past the 1 MB of images a visitor may hold"
    }
    delete(ctx, ctx.policy.admit(DeleteRequest, {"collection": "mine", "confirm": True}, visitor))
    assert index(ctx, visitor, big[3:], tiny_clip_dir)["added"] == 2


def test_pdf_pages_count_as_images(tmp_path: Path, tiny_clip_dir: Path) -> None:
    ctx = context(tmp_path, visitor_max_images=3)
    visitor = ctx.visitor("session-a")
    document = write(tmp_path / "five.pdf", pdf_bytes([f"page {i}" for i in range(5)]))

    report = index(ctx, visitor, [document], tiny_clip_dir)

    assert report["added"] == 3 and held(ctx, visitor) == 3
    assert any("past the 3 images" in r["reason"] for r in report["rejected"])


def test_parallel_uploads_reserve_the_cap_atomically(tmp_path: Path, tiny_clip_dir: Path) -> None:
    ctx = context(tmp_path, visitor_max_images=10)
    visitor = ctx.visitor("session-a")
    batches = [
        [write(tmp_path / f"u{n}" / f"{i}.png", distinct_png(n * 8 + i)) for i in range(8)]
        for n in range(5)
    ]
    start = threading.Barrier(len(batches))
    errors: list[BaseException] = []

    def upload(n: int) -> None:
        start.wait()
        try:
            index(ctx, visitor, batches[n], tiny_clip_dir, name=f"c{n}")
        except InputError:
            pass  # the cap was reached before this call started: refused as a whole
        except BaseException as exc:  # any other failure fails the test
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(n,)) for n in range(len(batches))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert held(ctx, visitor) == 10


def _solid(i: int, size: tuple[int, int]) -> Any:
    from PIL import Image

    return Image.new("RGB", size, (i * 40 % 256, 90, 200))
