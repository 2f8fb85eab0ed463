"""The formats of issue 26 through the one decoder: HEIC/HEIF and AVIF photos with their
camera EXIF, DICOM files (pydicom's shipped test files), and their broken variants."""

from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from mmdemo.errors import ImageRejected
from mmdemo.ingest import copies, images
from mmdemo.ingest.formats import dicom

from formatfactory import EXPECTED, dicom_bytes, dicom_path, heic_bomb, photo
from helpers import close_to, reason_for
from imagefactory import BLUE, RED, encode

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _pixels(name: str, index: int | None = None) -> np.ndarray:
    """What pydicom itself decodes of a shipped file (a frame of it, with ``index``)."""
    import pydicom
    from pydicom.pixels import pixel_array

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(pixel_array(pydicom.dcmread(dicom_path(name)), index=index))


@pytest.mark.parametrize("image_format", ["HEIF", "AVIF", "JPEG"])
def test_phone_photos_decode_upright_with_their_camera_metadata(image_format: str) -> None:
    decoded = images.decode_image(photo(image_format, orientation=6), "IMG_0001")
    # Orientation 6 turns the photo a quarter clockwise: its left (red) half ends on top.
    assert (decoded.width, decoded.height) == (32, 64) == decoded.image.size
    assert close_to(decoded.image.getpixel((16, 8)), RED)
    assert close_to(decoded.image.getpixel((16, 56)), BLUE)
    assert decoded.format == image_format
    assert decoded.details == EXPECTED


def test_heic_is_stored_as_a_jpeg_rendering_and_avif_as_itself() -> None:
    heif = images.decode_image(photo("HEIF"), "IMG_0001.HEIC")
    avif = images.decode_image(photo("AVIF"), "IMG_0002.avif")
    assert (heif.stored_as, copies.copy_name("x", heif)) == ("JPEG", "x.jpg")
    assert (avif.stored_as, copies.copy_name("x", avif)) == (None, "x.avif")
    assert ".heic" in images.IMAGE_EXTENSIONS and ".avif" in images.IMAGE_EXTENSIONS


@pytest.mark.parametrize("side", [9_000, 30_000])
def test_a_heic_bomb_is_refused_like_a_png_bomb(side: int) -> None:
    png_bomb = bytearray(encode(Image.new("RGB", (64, 64), RED), "PNG"))
    png_bomb[16:24] = side.to_bytes(4, "big") + side.to_bytes(4, "big")  # IHDR width, height
    png_bomb[29:33] = zlib.crc32(png_bomb[12:29]).to_bytes(4, "big")
    heic = reason_for(heic_bomb(side, side), "bomb.heic")
    assert heic.startswith("too many pixels")
    assert heic == reason_for(bytes(png_bomb), "bomb.png")


@pytest.mark.parametrize("kept", [0.02, 0.5, 0.9])
def test_a_truncated_heic_is_rejected_as_corrupt(kept: float) -> None:
    whole = photo("HEIF")
    assert reason_for(whole[: int(len(whole) * kept)], "IMG_0003.HEIC") == (
        "corrupt or truncated image"
    )


def test_unset_or_missing_camera_fields_are_left_out() -> None:
    unset_clock = photo("JPEG", taken="0000:00:00 00:00:00", gps=False)
    details = images.decode_image(unset_clock).details
    assert "taken" not in details and "lat" not in details and "lon" not in details
    assert details["camera"] == EXPECTED["camera"]
    assert images.decode_image(encode(Image.new("RGB", (8, 8)), "HEIF")).details == {}


SHIPPED = [
    # file, modality, width x height, frames
    ("CT_small.dcm", "CT", (128, 128), 1),
    ("MR_small.dcm", "MR", (64, 64), 1),
    ("MR_small_RLE.dcm", "MR", (64, 64), 1),
    ("MR_small_jpeg_ls_lossless.dcm", "MR", (64, 64), 1),
    ("MR_small_jp2klossless.dcm", "MR", (64, 64), 1),
    ("examples_ybr_color.dcm", "US", (320, 240), 30),
    ("examples_palette.dcm", "US", (800, 350), 1),
    ("examples_rgb_color.dcm", "US", (320, 240), 1),
    ("SC_rgb_rle.dcm", "OT", (100, 100), 1),
    ("SC_rgb_jpeg_dcmtk.dcm", "OT", (100, 100), 1),
]


@pytest.mark.parametrize(("name", "modality", "size", "frames"), SHIPPED)
def test_shipped_dicom_files_decode_with_only_the_kept_attributes(
    name: str, modality: str, size: tuple[int, int], frames: int
) -> None:
    decoded = images.decode_image(dicom_path(name).read_bytes(), name)
    assert (decoded.format, decoded.stored_as, decoded.image.mode) == ("DICOM", "PNG", "RGB")
    assert decoded.image.size == size == (decoded.width, decoded.height)
    assert decoded.details["modality"] == modality
    allowed = set(dicom.KEPT.values()) | {"caption", "frames", "frame"}
    assert set(decoded.details) <= allowed
    assert np.asarray(decoded.image).std() > 10  # a picture, not a flat field
    if frames > 1:
        assert (decoded.details["frames"], decoded.details["frame"]) == (frames, frames // 2)


def test_the_extensionless_file_is_recognised_by_its_preamble() -> None:
    decoded = images.decode_image(dicom_path("CT_small.dcm").read_bytes(), "IM000001")
    assert decoded.format == "DICOM"
    assert decoded.details["study_date"] == "2004-01-19"
    assert decoded.details["caption"] == "computed tomography (CT): e+1"


def test_the_window_is_applied() -> None:
    # MR_small: WindowCenter 600, WindowWidth 1600, no rescale: linear window to 0..255.
    shown = np.asarray(images.decode_image(dicom_path("MR_small.dcm").read_bytes()).image)
    raw = _pixels("MR_small.dcm").astype(np.float64)
    expected = np.clip((raw - 599.5) / 1599 + 0.5, 0, 1) * 255
    assert np.abs(shown[:, :, 0] - np.rint(expected)).max() <= 1


def test_without_a_window_the_percentiles_are_stretched() -> None:
    shown = np.asarray(images.decode_image(dicom_path("CT_small.dcm").read_bytes()).image)
    grey = shown[:, :, 0].astype(np.float64)
    assert np.percentile(grey, 1) <= 1 and np.percentile(grey, 99) >= 254
    assert 0.005 < (grey == 0).mean() < 0.05  # about 1 % clipped at each end


def test_a_voi_lut_wins_over_the_window() -> None:
    from pydicom.dataset import Dataset

    lut = Dataset()
    lut.add_new(0x00283002, "US", [4096, 0, 12])  # LUT Descriptor: entries, first, bits
    lut.add_new(0x00283006, "US", [4095 - value for value in range(4096)])  # inverting
    data = dicom_bytes("MR_small.dcm", VOILUTSequence=[lut])
    shown = np.asarray(images.decode_image(data).image)[:, :, 0].astype(np.float64)
    raw = _pixels("MR_small.dcm").astype(np.float64)
    expected = (4095 - np.clip(raw, 0, 4095)) / 4095 * 255
    assert np.abs(shown - np.rint(expected)).max() <= 1


def test_monochrome1_is_inverted() -> None:
    normal = np.asarray(images.decode_image(dicom_bytes("CT_small.dcm")).image)
    inverted = dicom_bytes("CT_small.dcm", PhotometricInterpretation="MONOCHROME1")
    assert np.array_equal(np.asarray(images.decode_image(inverted).image), 255 - normal)


def test_colour_files_keep_their_colours() -> None:
    rgb = images.decode_image(dicom_path("SC_rgb_rle.dcm").read_bytes())
    assert np.array_equal(np.asarray(rgb.image), _pixels("SC_rgb_rle.dcm"))
    jpeg = images.decode_image(dicom_path("SC_rgb_jpeg_dcmtk.dcm").read_bytes())
    difference = np.abs(np.asarray(jpeg.image, np.int16) - np.asarray(rgb.image, np.int16))
    assert difference.mean() < 8  # the same test pattern, lossy
    palette = np.asarray(images.decode_image(dicom_path("examples_palette.dcm").read_bytes()).image)
    assert (palette[:, :, 0] != palette[:, :, 2]).mean() > 0.05  # colour, not grey


def test_a_multi_frame_file_is_indexed_as_its_middle_frame() -> None:
    decoded = images.decode_image(dicom_path("examples_ybr_color.dcm").read_bytes())
    assert np.array_equal(np.asarray(decoded.image), _pixels("examples_ybr_color.dcm", 14))
    first = _pixels("examples_ybr_color.dcm", 0)
    assert not np.array_equal(np.asarray(decoded.image), first)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            lambda: dicom_path("rtplan.dcm").read_bytes(),
            "DICOM file without pixel data (a RTPLAN object)",
        ),
        (
            lambda: dicom_bytes("CT_small.dcm", PixelData=None),
            "DICOM file without pixel data (a CT object)",
        ),
        (
            lambda: dicom_bytes(
                "SC_rgb_jpeg_dcmtk.dcm", TransferSyntaxUID="1.2.840.10008.1.2.4.100"
            ),
            "DICOM transfer syntax MPEG2 Main Profile / Main Level cannot be decoded here",
        ),
        (
            lambda: dicom_bytes("SC_rgb_jpeg_dcmtk.dcm", TransferSyntaxUID="1.2.3.4"),
            "DICOM transfer syntax 1.2.3.4 cannot be decoded here",
        ),
        (
            lambda: dicom_path("MR_truncated.dcm").read_bytes(),
            "corrupt or truncated DICOM pixel data",
        ),
        (
            lambda: dicom_bytes("CT_small.dcm", BurnedInAnnotation="YES"),
            "DICOM image with burned-in annotation (patient data in the pixels)",
        ),
    ],
    ids=["no-pixels", "pixels-removed", "mpeg2", "private-syntax", "truncated", "burned-in"],
)
def test_broken_dicom_files_are_rejected_with_the_reason(data: object, reason: str) -> None:
    assert callable(data)
    assert reason_for(data(), "scan.dcm") == reason


def test_the_pixel_limit_holds_for_dicom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(images, "MAX_PIXELS", 100 * 100)
    assert reason_for(dicom_path("CT_small.dcm").read_bytes()) == (
        "too many pixels (128 x 128 > 10,000)"
    )


def test_dicom_decoding_never_raises_anything_but_a_rejection() -> None:
    whole = dicom_path("CT_small.dcm").read_bytes()
    for cut in (140, 400, 2000, len(whole) // 2):
        with pytest.raises(ImageRejected):
            images.decode_image(whole[:cut], "cut.dcm")
