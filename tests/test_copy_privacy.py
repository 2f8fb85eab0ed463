"""Issue 26: a visitor's photo, as the page serves it, does not say where it was taken.

Where GPS is dropped (multi-visitor mode, ``MMDEMO_ALLOW_GPS`` unset) the stored copy that
the media route serves has no GPS, no XMP, no owner or serial numbers, no comments; JPEG,
PNG and WebP keep their pixels byte for byte (and their camera and orientation), the
others are re-encoded without metadata. The item id stays the hash of the original. The
operator's own photos (single-user mode) and an app that allows GPS keep the file as is.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin
from starlette.applications import Starlette
from starlette.testclient import TestClient

from mmdemo.config import Settings
from mmdemo.ingest.formats import scrub
from mmdemo.ingest.indexer import index_paths
from mmdemo.store import Store
from mmdemo.ui import media

from formatfactory import LENS, MODEL, camera_exif, noise
from imagefactory import write

SERIAL, OWNER, NOTE = "SN-4471-PRIVATE", "Ada Lovelace", b"home sweet home"
XMP = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:li>GPSLatitude 48,51.498N</rdf:li></x:xmpmeta>'
#: What the served copy of a private photo must not contain, in any encoding.
SECRETS = (SERIAL.encode(), OWNER.encode(), NOTE, b"GPSLatitude", b"xmpmeta")
#: Formats whose copy is the original rewritten, pixels kept byte for byte.
REWRITTEN = ("JPEG", "PNG", "WEBP", "MPO")
SUFFIX = {"JPEG": ".jpg", "MPO": ".jpg", "PNG": ".png", "WEBP": ".webp", "AVIF": ".avif"}
SUFFIX["TIFF"] = ".tif"


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
    if image_format == "JPEG":
        options["comment"] = NOTE
    if image_format == "MPO":
        options.update(save_all=True, append_images=[noise(8, (96, 64))])
    out = io.BytesIO()
    noise(7, (96, 64)).save(out, format=image_format, **options)
    return out.getvalue()


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


@pytest.mark.parametrize("image_format", [*REWRITTEN, "AVIF", "TIFF"])
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
    if image_format in REWRITTEN:
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
