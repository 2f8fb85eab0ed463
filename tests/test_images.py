"""The image decoder: formats, orientation, pixel modes, rejections, hashing, thumbnails."""

from __future__ import annotations

import hashlib
import io
import random
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mmdemo.errors import ImageRejected
from mmdemo.ingest import images

from helpers import close_to, reason_for
from imagefactory import BLUE, RED, encode, image_bytes


@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"])
def test_every_supported_format_decodes_to_rgb(image_format: str) -> None:
    decoded = images.decode_image(image_bytes(image_format, (8, 6), RED))
    assert decoded.format == image_format
    assert (decoded.width, decoded.height) == (8, 6) == decoded.image.size
    assert decoded.image.mode == "RGB"
    assert close_to(decoded.image.getpixel((4, 3)), RED)


def test_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (6, 6), RED), Image.new("RGB", (6, 6), BLUE)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2
    assert images.decode_image(data).image.getpixel((3, 3)) == RED


def test_exif_orientation_6_rotates_clockwise() -> None:
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 10, 10))  # marks the top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6
    decoded = images.decode_image(encode(image, "JPEG", quality=95, exif=exif))
    assert (decoded.width, decoded.height) == (20, 40)
    # Turned a quarter clockwise, the old top-left corner is now the top-right one.
    assert close_to(decoded.image.getpixel((15, 5)), RED)
    assert close_to(decoded.image.getpixel((5, 5)), BLUE)


def test_broken_exif_keeps_the_image() -> None:
    data = image_bytes("JPEG", exif=b"Exif\x00\x00garbage-not-tiff")
    assert images.decode_image(data).image.size == (8, 6)


def test_palette_image_keeps_its_colours() -> None:
    image = Image.new("P", (4, 4), 1)
    image.putpalette([0, 0, 0, *RED])
    assert images.decode_image(encode(image, "PNG")).image.getpixel((0, 0)) == RED


def test_cmyk_becomes_rgb() -> None:
    data = image_bytes("TIFF", color=(0, 255, 255, 0), mode="CMYK")
    decoded = images.decode_image(data)
    assert decoded.image.mode == "RGB"
    assert decoded.image.getpixel((0, 0)) == RED


@pytest.mark.parametrize("image_format", ["PNG", "TIFF"])
def test_sixteen_bit_grey_is_scaled_not_clipped(image_format: str) -> None:
    mid_grey = image_bytes(image_format, color=0x8080, mode="I;16")
    assert images.decode_image(mid_grey).image.getpixel((0, 0)) == (128, 128, 128)


def test_integer_and_float_modes_scale_to_eight_bit() -> None:
    assert images.to_rgb(Image.new("I", (2, 2), 65535)).getpixel((0, 0)) == (255, 255, 255)
    assert images.to_rgb(Image.new("F", (2, 2), 0.5)).getpixel((0, 0)) == (128, 128, 128)


@pytest.mark.parametrize(("mode", "value", "grey"), [("L", 77, 77), ("1", 1, 255)])
def test_greyscale_modes_become_grey_rgb(mode: str, value: int, grey: int) -> None:
    decoded = images.decode_image(image_bytes("PNG", color=value, mode=mode)).image
    assert decoded.getpixel((0, 0)) == (grey, grey, grey)


@pytest.mark.parametrize(
    ("mode", "transparent"), [("RGBA", (0, 0, 255, 0)), ("LA", (0, 0)), ("PA", (0, 0))]
)
def test_transparent_pixels_become_white(mode: str, transparent: tuple[int, ...]) -> None:
    image = Image.new(mode, (4, 4), transparent)
    decoded = images.to_rgb(image)
    assert decoded.getpixel((0, 0)) == (255, 255, 255)


def test_rgba_file_composites_on_white() -> None:
    image = Image.new("RGBA", (4, 2), (0, 0, 255, 0))
    image.putpixel((1, 0), (255, 0, 0, 255))
    image.putpixel((2, 0), (0, 0, 0, 128))
    decoded = images.decode_image(encode(image, "PNG")).image
    assert decoded.getpixel((0, 0)) == (255, 255, 255)
    assert decoded.getpixel((1, 0)) == RED
    assert close_to(decoded.getpixel((2, 0)), (127, 127, 127), tolerance=2)


@pytest.mark.parametrize("image_format", ["PNG", "GIF"])
def test_palette_transparency_becomes_white(image_format: str) -> None:
    image = Image.new("P", (4, 4), 0)
    image.putpalette([*BLUE, *RED])
    image.putpixel((3, 3), 1)
    decoded = images.decode_image(encode(image, image_format, transparency=0)).image
    assert decoded.getpixel((0, 0)) == (255, 255, 255)
    assert decoded.getpixel((3, 3)) == RED


def test_content_hash_is_sha256_of_the_file_bytes() -> None:
    data = image_bytes("PNG")
    assert images.content_hash(data) == hashlib.sha256(data).hexdigest()


def test_mpo_is_reported_as_jpeg() -> None:
    frames = [Image.new("RGB", (6, 6), RED), Image.new("RGB", (6, 6), BLUE)]
    data = encode(frames[0], "MPO", save_all=True, append_images=frames[1:])
    assert images.decode_image(data).format == "JPEG"


def test_empty_file_is_rejected() -> None:
    assert reason_for(b"") == "empty file"


def test_text_file_is_not_an_image() -> None:
    assert reason_for(b"hello, this is text\n", "notes.txt") == "not an image"


def test_unreadable_known_format_is_named() -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>'
    assert reason_for(svg, "logo.svg") == "unsupported image format: SVG"


def test_format_outside_the_list_is_unsupported() -> None:
    assert reason_for(image_bytes("PCX")) == "unsupported image format: PCX"


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
@pytest.mark.parametrize("kept", [0.6, 0.02])
def test_truncated_files_are_rejected(image_format: str, kept: float) -> None:
    whole = encode(Image.effect_noise((64, 64), 60).convert("RGB"), image_format)
    truncated = whole[: max(12, int(len(whole) * kept))]
    assert reason_for(truncated) == "corrupt or truncated image"


def test_too_many_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    assert reason_for(image_bytes("PNG", (20, 10))) == "too many pixels (20 x 10 > 100)"
    assert images.decode_image(image_bytes("PNG", (10, 10))).width == 10


def test_pillow_bomb_limit_is_a_rejection_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10)
    assert reason_for(image_bytes("PNG", (20, 10))).startswith("too many pixels")


def test_pillow_bomb_warning_raised_as_error_is_a_rejection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 150)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        assert reason_for(image_bytes("PNG", (20, 10))).startswith("too many pixels")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("image_format", ["JPEG", "PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_damaged_bytes_never_crash_the_decoder(image_format: str) -> None:
    original = encode(Image.effect_noise((24, 16), 40).convert("RGB"), image_format)
    rng = random.Random(image_format)
    for _ in range(60):
        damaged = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            damaged[rng.randrange(len(damaged))] = rng.randrange(256)
        try:
            decoded = images.decode_image(bytes(damaged))
        except ImageRejected:
            continue
        assert decoded.image.mode == "RGB"


def test_too_large_file(monkeypatch: pytest.MonkeyPatch) -> None:
    data = image_bytes("BMP", (40, 40))
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 1000)
    assert reason_for(data) == "file too large (4.7 KB > 1000 bytes)"


def test_too_large_message_uses_megabytes() -> None:
    with pytest.raises(ImageRejected, match=r"^file too large \(70 MB > 64 MB\)$"):
        images.check_file_size(70 * 2**20)


def test_read_file_refuses_oversized_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    path.write_bytes(image_bytes("PNG", (30, 30)))
    monkeypatch.setattr(images, "MAX_FILE_BYTES", 10)
    with pytest.raises(ImageRejected, match="file too large"):
        images.read_file(path)


def test_load_image_from_path_bytes_and_pil(tmp_path: Path) -> None:
    path = tmp_path / "q.webp"
    path.write_bytes(image_bytes("WEBP", (5, 7), lossless=True))
    from_path = images.load_image(path)
    assert from_path.mode == "RGB"
    assert from_path.size == (5, 7)
    assert images.load_image(str(path)).getpixel((0, 0)) == RED
    assert images.load_image(path.read_bytes()).size == (5, 7)
    rgba = Image.new("RGBA", (3, 3), (0, 0, 0, 0))
    assert images.load_image(rgba).getpixel((1, 1)) == (255, 255, 255)


def test_load_image_names_the_file_it_rejects(tmp_path: Path) -> None:
    text = tmp_path / "notes.png"
    text.write_text("not pixels")
    with pytest.raises(ImageRejected, match=r"notes\.png: not an image"):
        images.load_image(text)
    with pytest.raises(ImageRejected, match=r"missing\.jpg: no such file"):
        images.load_image(tmp_path / "missing.jpg")


def test_thumbnail_fits_the_box_and_never_upscales() -> None:
    wide = Image.new("RGBA", (1000, 500), (0, 0, 0, 0))
    thumb = images.make_thumbnail(wide, 100)
    assert thumb.size == (100, 50)
    assert thumb.mode == "RGB"
    small = Image.new("RGB", (30, 20), RED)
    small_thumb = images.make_thumbnail(small)
    assert small_thumb.size == (30, 20)
    assert small_thumb is not small
    assert wide.size == (1000, 500)


@pytest.mark.parametrize("torch_loaded", [True, False])
def test_thumbnails_are_bicubic_and_model_inputs_stay_lanczos(
    torch_loaded: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stored thumbnails are only shown, so they take the cheaper filter (torch's kernel after
    # Pillow's box reduction where torch is loaded, Pillow's bicubic where it is not: within
    # a level of each other); the images the models see keep Pillow's Lanczos, so stored
    # vectors do not move.
    if torch_loaded:
        import torch  # noqa: F401
    else:
        monkeypatch.delitem(sys.modules, "torch", raising=False)
    pixels = np.random.default_rng(3).integers(0, 256, size=(1500, 2000, 3), dtype=np.uint8)
    noise = Image.fromarray(pixels)

    def resized(image: Image.Image, size: int, resample: Image.Resampling) -> np.ndarray:
        copy = image.copy()
        copy.thumbnail((size, size), resample)
        return np.asarray(copy, dtype=np.int16)

    lanczos, bicubic = Image.Resampling.LANCZOS, Image.Resampling.BICUBIC
    small = noise.resize((640, 480))  # too small for the box reduction: the filter alone
    for image in (noise, small):
        thumb = np.asarray(images.make_thumbnail(image), dtype=np.int16)
        pillow_bicubic = resized(image, 384, bicubic)
        assert thumb.shape == pillow_bicubic.shape == (288, 384, 3)
        assert np.abs(thumb - pillow_bicubic).max() <= 1
        assert np.abs(thumb - pillow_bicubic).mean() < 0.01
        assert np.abs(thumb - resized(image, 384, lanczos)).mean() > 1
    model_input = np.asarray(images.fit_for_models(noise), dtype=np.int16)
    assert np.array_equal(model_input, resized(noise, images.MODEL_MAX_SIDE, lanczos))
    assert not np.array_equal(model_input, resized(noise, images.MODEL_MAX_SIDE, bicubic))


@pytest.mark.parametrize("size", [(640, 480), (480, 640), (385, 384), (5000, 1), (3, 400)])
def test_thumbnail_sizes_match_pillows(size: tuple[int, int]) -> None:
    image = Image.new("RGB", size, RED)
    expected = image.copy()
    expected.thumbnail((384, 384))
    thumb = images.make_thumbnail(image)
    assert thumb.size == expected.size
    assert thumb.getpixel((0, 0)) == RED


def test_to_rgb_returns_plain_rgb_unchanged() -> None:
    image = Image.new("RGB", (2, 2), RED)
    assert images.to_rgb(image) is image


def test_large_jpeg_decodes_at_reduced_scale_but_records_its_full_size() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(2400, 3000, 3), dtype=np.uint8)
    pixels[:, :1500] = (200, 30, 30)  # a left half the reduced image must keep
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees when displayed
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=90, exif=exif)

    decoded = images.decode_image(buffer.getvalue(), "big.jpg")

    assert (decoded.width, decoded.height) == (2400, 3000)
    assert min(decoded.image.size) >= images.MODEL_MAX_SIDE
    assert decoded.image.size == (1200, 1500)
    top = np.asarray(decoded.image)[:600].reshape(-1, 3).mean(axis=0)
    assert np.allclose(top, (200, 30, 30), atol=6)
