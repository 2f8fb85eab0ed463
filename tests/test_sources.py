"""Input sources: files, folders, zip archives and captions CSVs."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from mmdemo.errors import ImageRejected, InputError
from mmdemo.ingest import images
from mmdemo.ingest.captions import read_captions
from mmdemo.ingest.sources import (
    Rejection,
    SourceItem,
    count_sources,
    iter_sources,
)

from imagefactory import image_bytes, mark_encrypted, write, write_image, write_zip


def items_of(entries: list[SourceItem | Rejection]) -> list[SourceItem]:
    return [entry for entry in entries if isinstance(entry, SourceItem)]


def rejections_of(entries: list[SourceItem | Rejection]) -> dict[str, str]:
    return {entry.file: entry.reason for entry in entries if isinstance(entry, Rejection)}


def test_single_file_is_one_lazy_item(tmp_path: Path) -> None:
    path = write_image(tmp_path / "a.png")
    [item] = list(iter_sources([path]))
    assert isinstance(item, SourceItem)
    assert (item.file_name, item.origin, item.source) == ("a.png", str(path), "file")
    path.write_bytes(b"changed after listing")
    assert item.read() == b"changed after listing"


def test_folder_is_recursive_sorted_and_skips_hidden_and_junk(tmp_path: Path) -> None:
    root = tmp_path / "photos"
    write_image(root / "b.jpg")
    write_image(root / "a.png")
    write_image(root / "sub" / "deeper" / "c.gif")
    write(root / "notes.txt", b"not an image, decoder decides")
    write_image(root / ".hidden.png")
    write_image(root / ".cache" / "d.png")
    write_image(root / "__MACOSX" / "._a.png")
    write(root / "Thumbs.db", b"junk")
    write(root / "sub" / ".DS_Store", b"junk")
    entries = list(iter_sources([root]))
    relative = [str(Path(item.origin).relative_to(root)) for item in items_of(entries)]
    assert relative == ["a.png", "b.jpg", "notes.txt", "sub/deeper/c.gif"]
    assert {item.source for item in items_of(entries)} == {"folder"}
    assert count_sources([root]) == 4


def test_missing_path_is_rejected(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    assert list(iter_sources([missing])) == [Rejection(str(missing), "no such file or folder")]


def test_zip_with_nested_folders(tmp_path: Path) -> None:
    archive = write_zip(
        tmp_path / "set.zip",
        {
            "top.png": image_bytes("PNG"),
            "album/2024/deep.jpg": image_bytes("JPEG"),
            "album/.hidden.png": image_bytes("PNG"),
            "__MACOSX/album/._deep.jpg": b"resource fork",
        },
    )
    entries = list(iter_sources([archive]))
    assert [(i.file_name, i.origin, i.source) for i in items_of(entries)] == [
        ("deep.jpg", f"{archive}!album/2024/deep.jpg", "zip"),
        ("top.png", f"{archive}!top.png", "zip"),
    ]
    assert not rejections_of(entries)
    assert items_of(entries)[0].read() == image_bytes("JPEG")


def test_zip_members_stay_readable_after_the_stream_moves_on(tmp_path: Path) -> None:
    first = write_zip(tmp_path / "one.zip", {"a.png": image_bytes("PNG")})
    second = write_zip(tmp_path / "two.zip", {"b.png": image_bytes("BMP")})
    entries = items_of(list(iter_sources([first, second])))
    assert [item.read() for item in entries] == [image_bytes("PNG"), image_bytes("BMP")]


def test_zip_is_recognised_by_content_inside_folders(tmp_path: Path) -> None:
    write_zip(tmp_path / "in" / "archive.bin", {"x.png": image_bytes("PNG")})
    write_zip(tmp_path / "in" / "report.docx", {"word/media/y.png": image_bytes("PNG")})
    entries = items_of(list(iter_sources([tmp_path / "in"])))
    assert [(item.file_name, item.source) for item in entries] == [
        ("x.png", "zip"),
        ("report.docx", "folder"),
    ]


@pytest.mark.parametrize("member", ["../evil.png", "/abs.png", "C:/win.png", "a/../../b.png"])
def test_unsafe_member_paths_are_rejected(tmp_path: Path, member: str) -> None:
    archive = write_zip(tmp_path / "bad.zip", {member: image_bytes("PNG")})
    assert list(iter_sources([archive])) == [
        Rejection(f"{archive}!{member}", "unsafe path in archive")
    ]


def test_encrypted_member_is_rejected(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "secret.zip", {"a.png": image_bytes("PNG")})
    mark_encrypted(archive)
    with zipfile.ZipFile(archive) as check:
        assert check.infolist()[0].flag_bits & 0x1
    assert list(iter_sources([archive])) == [
        Rejection(f"{archive}!a.png", "encrypted archive member")
    ]


def test_oversized_member_and_file_are_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = image_bytes("BMP", (20, 20))
    archive = write_zip(tmp_path / "big.zip", {"big.bmp": data, "small.txt": b"ok"})
    loose = write(tmp_path / "loose.bmp", data)
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 100)
    entries = list(iter_sources([archive, loose]))
    assert rejections_of(entries) == {
        f"{archive}!big.bmp": "file too large (1.2 KB > 100 bytes)",
        str(loose): "file too large (1.2 KB > 100 bytes)",
    }
    assert [item.file_name for item in items_of(entries)] == ["small.txt"]


def test_nested_zip_is_rejected(tmp_path: Path) -> None:
    inner = write_zip(tmp_path / "inner.zip", {"a.png": image_bytes("PNG")}).read_bytes()
    outer = write_zip(tmp_path / "outer.zip", {"inner.zip": inner})
    [entry] = list(iter_sources([outer]))
    assert isinstance(entry, Rejection)
    assert entry.reason == "nested zip archives are not supported"


@pytest.mark.parametrize("content", [b"PK\x03\x04 but nothing else", b"plain text"])
def test_corrupt_zip_is_rejected(tmp_path: Path, content: bytes) -> None:
    path = write(tmp_path / "broken.zip", content)
    assert list(iter_sources([path])) == [Rejection(str(path), "corrupt zip archive")]


def test_truncated_zip_is_rejected(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "cut.zip", {"a.png": image_bytes("PNG", (30, 30))})
    archive.write_bytes(archive.read_bytes()[:-30])
    assert list(iter_sources([archive])) == [Rejection(str(archive), "corrupt zip archive")]


def test_damaged_member_fails_on_read_not_on_listing(tmp_path: Path) -> None:
    archive = tmp_path / "crc.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as writer:
        writer.writestr("a.txt", b"A" * 200)
    archive.write_bytes(archive.read_bytes().replace(b"A" * 200, b"B" * 200))  # CRC mismatch
    [item] = list(iter_sources([archive]))
    assert isinstance(item, SourceItem)
    with pytest.raises(ImageRejected, match="corrupt zip archive member"):
        item.read()


def test_count_matches_the_stream(tmp_path: Path) -> None:
    write_image(tmp_path / "f" / "a.png")
    archive = write_zip(tmp_path / "z.zip", {"x/b.png": b"1", "../c.png": b"2"})
    paths = [tmp_path / "f", archive, tmp_path / "missing"]
    assert count_sources(paths) == len(list(iter_sources(paths))) == 4


def write_csv(tmp_path: Path, text: str) -> Path:
    return write(tmp_path / "captions.csv", text.encode("utf-8"))


def test_captions_join_by_base_name_with_typed_metadata(tmp_path: Path) -> None:
    csv = write_csv(
        tmp_path,
        "\ufeffFileName,Caption,score,count,nsfw,tag,Unnamed: 0\n"
        "imgs/a.jpg,a red square,0.5,3,False,shapes,0\n"
        "C:\\data\\007.png,,,,True,,1\n",
    )
    captions = read_captions(csv).by_name
    assert captions == {
        "a.jpg": {
            "caption": "a red square",
            "score": 0.5,
            "count": 3,
            "nsfw": False,
            "tag": "shapes",
        },
        "007.png": {"nsfw": True},
    }
    value_types = {type(value) for value in captions["a.jpg"].values()}
    assert value_types <= {str, int, float, bool}


@pytest.mark.parametrize("column", ["file_name", "filename", "FILE", "Image", "path"])
def test_file_name_column_names(tmp_path: Path, column: str) -> None:
    csv = write_csv(tmp_path, f"{column},Description\nx.png,hello\n")
    assert read_captions(csv).by_name == {"x.png": {"caption": "hello"}}


def test_text_column_becomes_caption(tmp_path: Path) -> None:
    csv = write_csv(tmp_path, "image,text,description\nx.png,first,second\n")
    assert read_captions(csv).by_name == {"x.png": {"caption": "first", "description": "second"}}


def test_numeric_looking_file_names_stay_text(tmp_path: Path) -> None:
    csv = write_csv(tmp_path, "file,caption\n007,zeros kept\n")
    assert list(read_captions(csv).by_name) == ["007"]


def test_csv_without_file_column_is_an_input_error(tmp_path: Path) -> None:
    csv = write_csv(tmp_path, "name,caption\nx.png,hello\n")
    with pytest.raises(InputError, match=r"no file-name column.*found name, caption"):
        read_captions(csv)


def test_csv_with_a_reserved_column_is_an_input_error(tmp_path: Path) -> None:
    csv = write_csv(tmp_path, "file_name,caption,chroma:document\nx.png,hello,boom\n")
    with pytest.raises(InputError, match=r"reserved names \(chroma:document\)"):
        read_captions(csv)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"file_name,caption\n\xff\xfe\x00bad,\x81\n", "not UTF-8"),
        (b'file_name,caption\n"unclosed,quote\n', "cannot be read as CSV"),
    ],
)
def test_unreadable_csv_is_an_input_error(tmp_path: Path, content: bytes, message: str) -> None:
    csv = write(tmp_path / "bad.csv", content)
    with pytest.raises(InputError, match=message):
        read_captions(csv)


def test_missing_csv_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        read_captions(tmp_path / "none.csv")
