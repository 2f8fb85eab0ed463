"""Hostile input, generated here: every file is refused with its own reason or stored as text.

The corpus is built by each test (bad images, lying zips, zip bombs of zeros, symlinks out
of the folder, oversized and malformed captions, a huge PNG text chunk, HTML and formula
captions); each test asserts the outcome and the reason a user sees.
"""

from __future__ import annotations

import io
import struct
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from mmdemo.cli import main
from mmdemo.config import Limits, Settings
from mmdemo.errors import ImageRejected, InputError
from mmdemo.ingest.captions import read_captions
from mmdemo.ingest.images import decode_image
from mmdemo.ingest.indexer import IndexReport, index_paths
from mmdemo.ingest.sources import Rejection, SourceItem, iter_sources
from mmdemo.models.registry import resolve
from mmdemo.store import Store

from imagefactory import image_bytes, write, write_image, write_zip

MB = 1024 * 1024
ZEROS = bytes(4 * MB)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu")


def reasons(entries: list[SourceItem | Rejection]) -> dict[str, str]:
    """Origin -> reason for each entry, reading every item as the indexer does."""
    found: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, Rejection):
            found[entry.file] = entry.reason
            continue
        try:
            entry.read()
            found[entry.origin] = "read"
        except ImageRejected as exc:
            found[entry.origin] = exc.reason
    return found


def lie_about_size(path: Path, declared: int) -> None:
    """Rewrite every member's uncompressed size in the local and central zip headers."""
    data = bytearray(path.read_bytes())
    for signature, size_offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
        start = data.find(signature)
        while start != -1:
            struct.pack_into("<I", data, start + size_offset, declared)
            start = data.find(signature, start + 4)
    path.write_bytes(bytes(data))


def png_with_text(text: str, *, compressed: bool) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", text, zip=compressed)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def test_a_member_that_lies_about_its_size_is_stopped_at_its_declared_size(
    tmp_path: Path,
) -> None:
    archive = write_zip(tmp_path / "liar.zip", {"small.png": bytes(64 * MB)})
    lie_about_size(archive, 1024)
    [entry] = list(iter_sources([archive]))
    assert isinstance(entry, SourceItem)
    with pytest.raises(ImageRejected, match="corrupt zip archive member"):
        entry.read()


def test_a_zip_bomb_of_zeros_stops_at_the_archive_budget(tmp_path: Path) -> None:
    members = {f"zeros-{i:02}.png": ZEROS for i in range(10)}
    archive = write_zip(tmp_path / "bomb.zip", members)
    assert archive.stat().st_size < MB  # a small upload ...
    limits = Limits(archive_bytes=10 * MB)
    found = reasons(list(iter_sources([archive], limits)))
    read = [origin for origin, reason in found.items() if reason == "read"]
    refused = {reason for reason in found.values() if reason != "read"}
    assert len(read) == 2  # ... decompressed only up to its budget
    assert refused == {"archive too large when decompressed (more than 10 MB in all)"}


def test_the_upload_budget_spans_archives_and_files(tmp_path: Path) -> None:
    first = write_zip(tmp_path / "a.zip", {"z1.png": ZEROS, "z2.png": ZEROS})
    second = write(tmp_path / "loose.png", ZEROS)
    limits = Limits(upload_bytes=10 * MB)
    found = reasons(list(iter_sources([first, second], limits)))
    assert list(found.values()) == [
        "read",
        "read",
        "upload too large when decompressed (more than 10 MB in all)",
    ]


def test_too_many_members_refuses_the_archive(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "many.zip", {f"{i}.png": b"x" for i in range(6)})
    entries = list(iter_sources([archive], Limits(archive_members=5)))
    assert entries == [Rejection(str(archive), "too many archive members (6 > 5)")]


def test_a_symlink_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    secret = write_image(tmp_path / "outside" / "secret.png")
    folder = tmp_path / "upload"
    inside = write_image(folder / "real.png")
    (folder / "escape.png").symlink_to(secret)
    (folder / "inside-link.png").symlink_to(inside)
    (folder / "dir-link").symlink_to(secret.parent, target_is_directory=True)
    (folder / "dangling.png").symlink_to(tmp_path / "nowhere.png")
    found = reasons(list(iter_sources([folder])))
    assert found == {
        str(folder / "dangling.png"): "symbolic link to outside the folder",
        str(folder / "dir-link"): "symbolic link to outside the folder",
        str(folder / "escape.png"): "symbolic link to outside the folder",
        str(folder / "inside-link.png"): "read",
        str(folder / "real.png"): "read",
    }


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty file"),
        (image_bytes("PNG")[:40], "corrupt or truncated image"),
        (b"<html><script>alert(1)</script></html>", "not an image"),
        (png_with_text("x" * (20 * MB), compressed=True), "too large metadata"),
    ],
)
def test_bad_images_get_their_own_reason(data: bytes, reason: str) -> None:
    with pytest.raises(ImageRejected, match=reason):
        decode_image(data, "bad.png")


def test_a_large_but_legal_text_chunk_is_accepted() -> None:
    assert decode_image(png_with_text("caption " * 1000, compressed=True), "ok.png").width == 8


def test_malformed_and_oversized_caption_rows_are_reported(tmp_path: Path) -> None:
    csv = write(
        tmp_path / "caps.csv",
        (
            "file_name,caption\n"
            "a.png,fine\n"
            "b.png,too,many,fields\n"
            f"c.png,{'y' * 50}\n"
            'd.png,=HYPERLINK("http://x"),\n'
            'e.png,"<img src=x onerror=alert(1)>"\n'
        ).encode(),
    )
    captions = read_captions(csv, Limits(caption_chars=40))
    assert captions.by_name == {
        "a.png": {"caption": "fine"},
        "e.png": {"caption": "<img src=x onerror=alert(1)>"},
    }
    assert [(p.file, p.reason) for p in captions.problems] == [
        ("caps.csv line 3", "malformed captions row (4 fields, expected 2)"),
        ("caps.csv line 5", "malformed captions row (3 fields, expected 2)"),
        ("caps.csv row for c.png", "caption too long (50 characters > 40)"),
    ]


def test_captions_errors_name_the_file_not_the_server_folder(tmp_path: Path) -> None:
    folder = tmp_path / "gradio-tmp" / "0123abcd"
    csv = write(folder / "caps.csv", b'file_name,caption\n"unclosed,quote\n')
    with pytest.raises(InputError) as caught:
        read_captions(csv)
    assert "caps.csv" in str(caught.value)
    assert str(tmp_path) not in str(caught.value)


def test_one_ingest_reports_every_input(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    folder = tmp_path / "in"
    write_image(folder / "a.png", (200, 0, 0))
    write_image(folder / "a-copy.png", (200, 0, 0))
    write_image(folder / "b.png", (0, 200, 0))
    write(folder / "broken.png", image_bytes("PNG")[:40])
    write(folder / "c.png", image_bytes("PNG", color=(0, 0, 200)))
    csv = write(
        tmp_path / "caps.csv",
        b"file_name,caption\na-copy.png,<b>bold</b> =1+1\nb.png,x,y\n",
    )
    report = index_paths(
        [folder],
        collection="hostile",
        models=[str(tiny_clip_dir)],
        settings=replace(settings, limits=Limits(upload_images=4)),
        store=Store(settings),
        captions=csv,
    )
    assert (report.added, report.present) == (2, 1)
    # Decoding runs ahead in a thread, so rejections arrive in no fixed order.
    assert sorted((r.file.split("/")[-1], r.reason) for r in report.rejected) == [
        ("broken.png", "corrupt or truncated image"),
        ("c.png", "too many images in one upload (more than 4)"),
        ("caps.csv line 3", "malformed captions row (3 fields, expected 2)"),
    ]
    stored = dict(Store(settings).items("hostile"))
    assert {meta["caption"] for meta in stored.values()} == {"<b>bold</b> =1+1", ""}


def test_a_copy_of_a_refused_file_is_refused_too_not_counted_present(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    folder = tmp_path / "in"
    broken = image_bytes("PNG")[:40]
    write(folder / "broken.png", broken)
    write(folder / "broken-copy.png", broken)
    write_image(folder / "good.png", (200, 0, 0))
    report = index_paths(
        [folder], collection="copies", models=[str(tiny_clip_dir)], settings=settings,
        store=Store(settings),
    )  # fmt: skip
    assert (report.added, report.present) == (1, 0)
    assert sorted((r.file.split("/")[-1], r.reason) for r in report.rejected) == [
        ("broken-copy.png", "corrupt or truncated image"),
        ("broken.png", "corrupt or truncated image"),
    ]


def test_index_fails_when_nothing_could_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tiny_clip_dir: Path
) -> None:
    bad = write(tmp_path / "bad.png", b"not an image")
    args = ["index", str(bad), str(tmp_path / "missing"), "--collection", "c"]
    code = main([*args, "--model", str(tiny_clip_dir), "--data-dir", str(tmp_path / "d")])
    captured = capsys.readouterr()
    assert code == 1
    assert "no image could be read" in captured.err
    assert "rejected: 2" in captured.out


@pytest.mark.parametrize("name", ["/etc", "~/models", "../x", "./m", "a/b/c", "C:\\models"])
def test_the_web_app_refuses_model_names_that_are_paths(name: str) -> None:
    with pytest.raises(InputError, match="accepted only from the command line"):
        resolve(name, "embedder", allow_paths=False)


def test_the_web_app_refuses_an_existing_folder_even_in_hub_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "org" / "model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="accepted only from the command line"):
        resolve("org/model", "reranker", allow_paths=False)
    assert resolve("org/model", "reranker").location == str(tmp_path / "org" / "model")


def test_presets_and_hub_ids_stay_accepted_and_read_only_takes_presets_only() -> None:
    assert resolve("lite", "embedder", allow_paths=False, allow_hub=False).key == "lite"
    assert resolve("owner/some-model", "embedder", allow_paths=False).key == "owner/some-model"
    with pytest.raises(InputError, match="only runs its presets"):
        resolve("owner/some-model", "embedder", allow_paths=False, allow_hub=False)


def test_report_json_keeps_its_shape() -> None:
    assert IndexReport().to_json() == {"added": 0, "present": 0, "rejected": []}


def test_the_app_checks_visitor_model_names_but_keeps_the_operators(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext

    operator_folder = str(tmp_path / "operator-model")
    ctx = AppContext(settings, Bootstrap(settings, None, operator_folder))
    ctx.policy.model(operator_folder, "embedder")  # the app's own --model
    ctx.policy.model("lite", "reranker")
    with pytest.raises(InputError, match="accepted only from the command line"):
        ctx.policy.model(str(tiny_clip_dir), "embedder")
    allowed = replace(settings, allow_local_models=True)
    AppContext(allowed, Bootstrap(allowed, None, None)).policy.model(str(tiny_clip_dir), "embedder")
    readonly = replace(settings, readonly=True)
    with pytest.raises(InputError, match="only runs its presets"):
        AppContext(readonly, Bootstrap(readonly, None, None)).policy.model("org/m", "embedder")


def test_gradio_upload_route_refuses_files_over_the_limit_even_read_only(
    tmp_path: Path, settings: Settings
) -> None:
    import httpx

    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.layout import build_app, launch

    from helpers import _free_port

    limited = replace(settings, readonly=True, limits=Limits(upload_file_bytes=MB))
    ctx = AppContext(limited, Bootstrap(limited, None, "lite"))
    app = build_app(ctx)
    port = _free_port()
    launch(app, ctx, "127.0.0.1", port, block=False)
    try:
        url = f"http://127.0.0.1:{port}/gradio_api/upload"
        small = httpx.post(url, files={"files": ("a.png", b"x" * 1000)}, timeout=120)
        big = httpx.post(url, files={"files": ("b.png", b"x" * (2 * MB))}, timeout=120)
    finally:
        app.close()
    assert small.status_code == 200
    assert big.status_code == 413


def test_huge_filters_get_a_clear_limit_error_in_the_library_and_the_cli(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import numpy as np

    from mmdemo.filters import MAX_FILTER_VALUES, MAX_KEYWORD_CHARS, FilterError, ItemFilter
    from mmdemo.filters import parse_where as where

    many = "n in (" + ", ".join(str(i) for i in range(20_000)) + ")"
    with pytest.raises(FilterError, match="20,000 values; a filter may have at most 1,000"):
        where(many)
    with pytest.raises(FilterError, match="100,000 characters; it may have at most 1,000"):
        ItemFilter("k" * 100_000)
    # Right at the limits, the store answers (no "too many SQL variables", no "pattern
    # too complex"), on both its exact and its Chroma path.
    store = Store(Settings(data_dir=tmp_path / "data"))
    vectors = np.eye(3, 4, dtype=np.float32) + 0.1
    store.add("c", "m", ["a", "b", "c"], vectors, [{"n": i, "caption": "x"} for i in range(3)])
    largest = "n in (" + ", ".join(str(i) for i in range(MAX_FILTER_VALUES)) + ")"
    assert len(store.query("c", "m", vectors[0], 3, ItemFilter("", where(largest)))) == 3
    assert store.query("c", "m", vectors[0], 3, ItemFilter("é" * MAX_KEYWORD_CHARS)) == []

    data = str(tmp_path / "data")
    code = main(["search", "--collection", "c", "--text", "x", "--where", many, "--data-dir", data])
    assert code == 1
    assert "a filter may have at most 1,000" in capsys.readouterr().err
    code = main(
        ["search", "--collection", "c", "--text", "x", "--contains", "k" * 100_000,
         "--data-dir", data]
    )  # fmt: skip
    assert code == 1
    assert "it may have at most 1,000" in capsys.readouterr().err


def test_names_with_bidi_or_zero_width_characters_cannot_disguise_themselves(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    from mmdemo.names import validate_collection_name
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query
    from mmdemo.ui.search_view import results_html
    from mmdemo.ui.shared import short_origin

    hidden = ("\u202e", "\u200b", "\u2066", "\ufeff", "\u200d")
    for char in hidden:  # a collection name never holds one: refused
        with pytest.raises(InputError, match="is not valid"):
            validate_collection_name(f"mine{char}x")
    disguised = "photo\u202egnp.exe.png"
    folder = tmp_path / "in"
    write_image(folder / disguised, (200, 0, 0))
    write_image(folder / "zero\u200bwidth.png", (0, 200, 0))
    write(folder / "bad\u202efdp.png", b"not an image")
    store = Store(settings)
    report = index_paths(
        [folder], collection="names", models=[str(tiny_clip_dir)], settings=settings,
        store=store,
    )  # fmt: skip

    names = sorted(meta["file_name"] for _, meta in store.items("names"))
    assert names == ["photo[U+202E]gnp.exe.png", "zero[U+200B]width.png"]
    assert [short_origin(r.file) for r in report.rejected] == ["bad[U+202E]fdp.png"]
    model = resolve(str(tiny_clip_dir), settings).key
    query = Query(text="red")
    found = search(query, collection="names", model=model, settings=settings, store=store)
    page = results_html(found, query, settings)
    assert "photo[U+202E]gnp.exe.png" in page
    assert not any(char in page for char in hidden)
