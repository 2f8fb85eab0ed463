"""Issue 26: a visitor's photo, as the page serves it, does not say where it was taken.

Where GPS is dropped (multi-visitor mode, ``MMDEMO_ALLOW_GPS`` unset) the stored copy that
the media route serves has no GPS, no XMP, no owner or serial numbers, no comments; JPEG,
PNG, WebP and AVIF keep their pixels byte for byte (and their camera and orientation),
GIF its frames and timing, TIFF is re-encoded without metadata. The item id stays the
hash of the original. The operator's own photos (single-user mode) and an app that allows
GPS keep the file as is; copies stored that way are scrubbed once the app serves visitors.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mmdemo import cli
from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.filters import parse_where
from mmdemo.ingest.formats import avif, scrub
from mmdemo.ingest.indexer import index_paths
from mmdemo.ingest.rescrub import scrub_stored_copies
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.store import Store
from mmdemo.ui import media
from mmdemo.ui.bootstrap import Bootstrap

from formatfactory import LENS, MODEL, camera_exif, noise
from imagefactory import write

SERIAL, OWNER, NOTE = "SN-4471-PRIVATE", "Ada Lovelace", b"home sweet home"
XMP = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:li>GPSLatitude 48,51.498N</rdf:li></x:xmpmeta>'
#: What the served copy of a private photo must not contain, in any encoding.
SECRETS = (SERIAL.encode(), OWNER.encode(), NOTE, b"GPSLatitude", b"xmpmeta")
#: Formats whose copy is the original with its EXIF rewritten, pixels kept byte for byte.
REWRITTEN = ("JPEG", "PNG", "WEBP", "MPO", "AVIF")
SUFFIX = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "AVIF": ".avif"}
SUFFIX.update(GIF=".gif", TIFF=".tif")


def with_gif_xmp(data: bytes) -> bytes:
    """A GIF with an XMP application extension (as Photoshop writes it) after its header:
    the packet, then the 258-byte trailer that makes its bytes read as sub-blocks."""
    at = 13 + (3 << ((data[10] & 0x07) + 1) if data[10] & 0x80 else 0)
    trailer = bytes([1, *range(255, -1, -1), 0])
    return data[:at] + b"\x21\xff\x0bXMP DataXMP" + XMP.encode() + trailer + data[at:]


def private_photo(image_format: str) -> bytes:
    """A photo with a position, the owner's name, serial numbers, XMP and a comment."""
    exif = camera_exif(orientation=6)
    exif[0x9C9D] = OWNER.encode("utf-16-le")  # XPAuthor
    sub = exif.get_ifd(0x8769)
    sub[0xA430], sub[0xA431] = OWNER, SERIAL  # CameraOwnerName, BodySerialNumber
    options: dict[str, object] = {"exif": exif.tobytes(), "quality": 95}
    if image_format == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", XMP)
        info.add_text("Comment", NOTE.decode())
        options["pnginfo"] = info
    elif image_format != "MPO":
        options["xmp"] = XMP.encode()
    if image_format in ("JPEG", "GIF"):
        options["comment"] = NOTE
    if image_format == "MPO":
        options.update(save_all=True, append_images=[noise(8, (96, 64))])
    out = io.BytesIO()
    noise(7, (96, 64)).save(out, format=image_format, **options)
    return with_gif_xmp(out.getvalue()) if image_format == "GIF" else out.getvalue()


def served_copy(
    tmp_path: Path, image_format: str, settings: Settings, model: Path
) -> tuple[bytes, bytes, str]:
    """Index one private photo; its original bytes, the bytes the media route serves for
    it, and its item id."""
    original = private_photo(image_format)
    path = write(tmp_path / f"IMG_0001{SUFFIX[image_format]}", original)
    store = Store(settings)
    models = [str(model)]
    report = index_paths([path], collection="mine", models=models, settings=settings, store=store)
    assert report.added == 1, report.rejected
    [(item_id, meta)] = store.items("mine")
    row = {"id": item_id, "path": str(settings.images_dir / meta["image_file"])}
    _, url = media.pictures(settings, row)
    client = TestClient(Starlette(routes=media.routes(settings)))
    answer = client.get(url)
    assert answer.status_code == 200
    return original, answer.content, item_id


def pixels(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize("image_format", [*REWRITTEN, "GIF", "TIFF"])
def test_a_visitors_served_copy_carries_no_position_and_nothing_private(
    tmp_path: Path, tiny_clip_dir: Path, image_format: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data", device="cpu", multiuser=True)
    original, served, item_id = served_copy(tmp_path, image_format, settings, tiny_clip_dir)
    assert item_id == hashlib.sha256(original).hexdigest()
    assert not any(secret in served for secret in SECRETS)
    with Image.open(io.BytesIO(served)) as copy:
        exif = copy.getexif()
        assert not exif.get_ifd(0x8825) and 0x8825 not in exif
        assert "xmp" not in copy.info and "comment" not in copy.info
        assert getattr(copy, "n_frames", 1) == 1  # an MPO's other picture is not kept
        if image_format in REWRITTEN:
            assert (exif[0x0110], exif[0x0112]) == (MODEL, 6)  # camera, orientation kept
            assert exif.get_ifd(0x8769)[0xA434] == LENS
    if image_format in (*REWRITTEN, "GIF"):
        assert np.array_equal(pixels(served), pixels(original))


@pytest.mark.parametrize(("multiuser", "allow_gps"), [(False, False), (True, True)])
def test_the_operators_own_photos_and_an_app_allowing_gps_keep_the_file_as_it_is(
    tmp_path: Path, tiny_clip_dir: Path, multiuser: bool, allow_gps: bool
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data", device="cpu", multiuser=multiuser, allow_gps=allow_gps
    )
    original, served, _ = served_copy(tmp_path, "JPEG", settings, tiny_clip_dir)
    assert served == original


def test_what_follows_a_jpegs_end_is_cut_and_a_broken_one_is_re_encoded(tmp_path: Path) -> None:
    """A phone's motion photo appends a video (with its own metadata) after the picture;
    a JPEG whose segments cannot be followed gets no scrubbing but a re-encoding."""
    photo = private_photo("JPEG")
    assert scrub.jpeg(photo + b"....ftypmp4 video " + SERIAL.encode()).endswith(b"\xff\xd9")
    with pytest.raises(ValueError, match="JPEG"):
        scrub.jpeg(photo[:200])
    broken = bytearray(photo)
    broken[2:4] = b"\x00\x00"  # no marker where the first segment should start
    with pytest.raises(ValueError, match="marker"):
        scrub.jpeg(bytes(broken))


def test_an_animated_gif_keeps_its_frames_timing_and_loop_without_comments_or_xmp() -> None:
    frames = [noise(seed, (40, 30)).quantize(64) for seed in (1, 2, 3)]
    out = io.BytesIO()
    frames[0].save(
        out, "GIF", save_all=True, append_images=frames[1:], duration=[80, 160, 240], loop=3
    )
    out.write(b"appended after the trailer " + SERIAL.encode())
    original = with_gif_xmp(
        out.getvalue().replace(b"\x00;", b"\x00\x21\xfe\x0f" + NOTE + b"\x00;", 1)
    )
    copy = scrub.gif(original)
    assert NOTE in original and b"xmpmeta" in original
    assert not any(secret in copy for secret in SECRETS)
    with Image.open(io.BytesIO(original)) as before, Image.open(io.BytesIO(copy)) as after:
        assert (after.n_frames, after.info["loop"]) == (3, 3)
        for index in range(3):
            before.seek(index)
            after.seek(index)
            assert after.info["duration"] == before.info["duration"] == 80 * (index + 1)
            assert np.array_equal(
                np.asarray(after.convert("RGB")), np.asarray(before.convert("RGB"))
            )
    assert scrub.gif(copy) == copy
    with pytest.raises(ValueError, match="GIF"):
        scrub.gif(original[:60])


def test_an_avif_the_scrubber_cannot_follow_is_refused_not_half_scrubbed() -> None:
    photo = private_photo("AVIF")
    assert avif.scrub(avif.scrub(photo)) == avif.scrub(photo)
    with pytest.raises(ValueError, match="AVIF"):
        avif.scrub(photo[:40])  # the meta box runs past the end
    with pytest.raises(ValueError, match="AVIF"):
        avif.scrub(private_photo("PNG"))


def stored_copies(settings: Settings) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(settings.images_dir.iterdir())}


def test_copies_stored_before_scrubbing_are_rewritten_once_keeping_ids_vectors_and_thumbs(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    """A data dir indexed by the operator (or an older release) keeps the files as they
    are; once visitors are served, one pass rewrites every copy that carries GPS and
    later passes read only copies written since."""
    operator = Settings(data_dir=tmp_path / "data", device="cpu")
    names = ("JPEG", "MPO", "PNG", "WEBP", "GIF", "AVIF", "TIFF")
    paths = [
        write(tmp_path / "in" / f"IMG_{i}{SUFFIX[name]}", private_photo(name))
        for i, name in enumerate(names)
    ]
    store = Store(operator)
    models = [str(tiny_clip_dir)]
    index_paths(paths, collection="mine", models=models, settings=operator, store=store)
    items, vectors = store.items("mine"), store.embeddings("mine", models[0])
    thumbs = {path.name: path.read_bytes() for path in operator.thumbs_dir.iterdir()}
    before = stored_copies(operator)
    assert all(any(secret in data for secret in SECRETS) for data in before.values())

    visitors = Settings(data_dir=tmp_path / "data", device="cpu", multiuser=True)
    assert scrub_stored_copies(operator) == 0  # the operator's own app keeps them
    assert scrub_stored_copies(visitors, apply=False) == len(names)
    assert stored_copies(operator) == before  # counting writes nothing
    assert scrub_stored_copies(visitors) == len(names)
    after = stored_copies(operator)
    assert sorted(after) == sorted(before)  # same names: the item ids
    assert not any(secret in data for data in after.values() for secret in SECRETS)
    for name, data in after.items():
        with Image.open(io.BytesIO(data)) as copy:
            assert 0x8825 not in copy.getexif() and "xmp" not in copy.info
        if not name.endswith(".tif"):
            assert np.array_equal(pixels(data), pixels(before[name]))
    again = Store(visitors)
    assert again.items("mine") == items
    ids, matrix = again.embeddings("mine", models[0])
    assert ids == vectors[0] and np.array_equal(matrix, vectors[1])
    assert {path.name: path.read_bytes() for path in operator.thumbs_dir.iterdir()} == thumbs
    assert scrub_stored_copies(visitors) == 0  # done once

    late = write(tmp_path / "in" / "IMG_late.jpg", private_photo("JPEG") + b"\x00")
    index_paths([late], collection="mine", models=models, settings=operator, store=store)
    assert scrub_stored_copies(visitors) == 1  # a copy the operator stored since


def test_gc_scrub_counts_then_rewrites_and_a_visitor_app_scrubs_at_start_up(
    tmp_path: Path, tiny_clip_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    operator = Settings(data_dir=tmp_path / "data", device="cpu")
    photo = write(tmp_path / "IMG_0001.jpg", private_photo("JPEG"))
    models = [str(tiny_clip_dir)]
    store = Store(operator)
    index_paths([photo], collection="mine", models=models, settings=operator, store=store)
    common = ["gc", "--scrub", "--json", "--data-dir", str(operator.data_dir)]
    assert cli.main(common) == 0
    assert json.loads(capsys.readouterr().out)["scrubbed"] == 1
    assert cli.main([*common, "--apply"]) == 0
    assert json.loads(capsys.readouterr().out)["scrubbed"] == 1
    assert not any(
        secret in data for data in stored_copies(operator).values() for secret in SECRETS
    )

    fresh = write(tmp_path / "IMG_0002.jpg", private_photo("JPEG") + b"\x00")
    index_paths([fresh], collection="mine", models=models, settings=operator, store=store)
    visitors = Settings(data_dir=tmp_path / "data", device="cpu", multiuser=True)
    boot = Bootstrap(visitors, None, models[0])
    boot.start()
    boot.join(timeout=120)
    assert boot.status().phase == "ready", boot.status().message
    assert not any(
        secret in data for data in stored_copies(operator).values() for secret in SECRETS
    )


def test_a_position_the_operator_stored_is_never_shown_to_visitors_nor_filtered_on(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    """The operator's own photo keeps its position in the item's metadata; an app serving
    visitors from the same data dir returns no lat/lon in any result and refuses a filter
    that would locate the photo one search at a time."""
    operator = Settings(data_dir=tmp_path / "data", device="cpu")
    path = write(tmp_path / "in" / "IMG_0001.jpg", private_photo("JPEG"))
    model = str(tiny_clip_dir)
    index_paths([path], collection="mine", models=[model], settings=operator, store=Store(operator))

    def found(settings: Settings, where: str = "") -> dict[str, object]:
        query = Query(text="a photo", where=parse_where(where))
        results = search(
            query, collection="mine", model=model, settings=settings, store=Store(settings)
        )
        [row] = results.rows
        return row

    own = found(operator, "lat>0 and lon>0")
    assert own["lat"] and own["lon"] and own["camera"]
    visitors = Settings(data_dir=tmp_path / "data", device="cpu", multiuser=True)
    shown = found(visitors)
    assert "lat" not in shown and "lon" not in shown
    assert shown["camera"] == own["camera"]  # the rest of the photo's fields stay
    for where in ("lat>0", "lon<180 and camera!=x", "lat in (1, 2)"):
        with pytest.raises(InputError, match=r"^Photo positions \((lat|lon)\) are not shared"):
            found(visitors, where)
    with pytest.raises(InputError) as unknown:  # the keys it lists keep positions out too
        found(visitors, "colour=red")
    assert "camera" in str(unknown.value)
    assert not {"lat", "lon"} & set(re.findall(r"\w+", str(unknown.value)))
    allowing = Settings(data_dir=tmp_path / "data", device="cpu", multiuser=True, allow_gps=True)
    assert found(allowing, "lat>0")["lat"] == own["lat"]
    with pytest.raises(InputError) as listed:
        found(allowing, "colour=red")
    assert {"lat", "lon"} <= set(re.findall(r"\w+", str(listed.value)))
