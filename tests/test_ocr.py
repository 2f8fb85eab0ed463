"""OCR (``index --ocr``): text inside images read offline, stored as ``ocr_text`` and found
by text search; PDF scans read, text layers kept; the time bound reported, not fatal."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmdemo.cli import main
from mmdemo.ingest import images, ocr

from formatfactory import dicom_path, noise, text_image
from helpers import SIGNS, cli_json, stored
from imagefactory import encode, pdf_bytes, write

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"), pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def signs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The SIGNS as PNG files, plus a photo-like image with no text at all."""
    folder = tmp_path_factory.mktemp("signs")
    for name, lines in SIGNS.items():
        text_image(lines).save(folder / name)
    noise(3, (320, 240)).save(folder / "noise.png")
    return folder


def test_clean_text_is_read_word_for_word() -> None:
    reading = ocr.read_text(text_image(SIGNS["receipt.png"]), seconds=60, max_chars=2000)
    assert reading == ocr.Reading("INVOICE 2291 Total 42.50 EUR paid")


def test_a_word_only_inside_one_image_finds_that_image_first(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, signs: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    report = cli_json(
        capsys, "index", str(signs), "--collection", "s", "--model", "lite", "--ocr", *data
    )
    assert (report["added"], report["rejected"], report.get("warnings")) == (5, [], None)
    items = stored(tmp_path / "data", "s")
    assert items["label.png"]["ocr_text"] == "ZEBRAFISH aquarium supplies keep refrigerated"
    assert "ocr_text" not in items["noise.png"]
    for word, name in [("zebrafish", "label.png"), ("invoice", "receipt.png")]:
        found = cli_json(capsys, "search", "--collection", "s", "--text", word, *data)
        assert found["results"][0]["file_name"] == name


def test_without_ocr_nothing_is_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, signs: Path, tiny_clip_dir: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    cli_json(capsys, "index", str(signs), "--collection", "s", "--model", str(tiny_clip_dir), *data)
    assert not any("ocr_text" in meta for meta in stored(tmp_path / "data", "s").values())


def test_an_image_past_the_time_bound_is_indexed_without_text_and_reported(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    signs: Path,
    tiny_clip_dir: Path,
) -> None:
    monkeypatch.setenv("MMDEMO_MAX_OCR_SECONDS", "0.001")
    data = ["--data-dir", str(tmp_path / "data")]
    given = [str(signs / "label.png"), str(signs / "noise.png")]
    options = ["--collection", "t", "--model", str(tiny_clip_dir), "--ocr", *data]
    report = cli_json(capsys, "index", *given, *options)
    assert report["added"] == 2 and report["rejected"] == []
    assert report["warnings"] == [
        {
            "file": str(signs / "label.png"),
            "reason": "OCR stopped at its bound of 0.001 s per image (MMDEMO_MAX_OCR_SECONDS); "
            "indexed without its text",
        }
    ]
    assert not any("ocr_text" in meta for meta in stored(tmp_path / "data", "t").values())
    write(tmp_path / "more" / "receipt.png", encode(text_image(SIGNS["receipt.png"]), "PNG"))
    assert main(["index", str(tmp_path / "more"), *options]) == 0
    assert "warning " in capsys.readouterr().out


def test_scanned_pdf_pages_are_read_and_text_layers_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_clip_dir: Path
) -> None:
    text_image(["Pump maintenance log", "valve replaced"]).save(
        tmp_path / "scan.pdf", resolution=72
    )
    write(tmp_path / "typed.pdf", pdf_bytes(["Quarterly sales chart"]))
    data = ["--data-dir", str(tmp_path / "data")]
    cli_json(
        capsys, "index", str(tmp_path / "scan.pdf"), str(tmp_path / "typed.pdf"), "--collection",
        "d", "--model", str(tiny_clip_dir), "--ocr", *data,
    )  # fmt: skip
    items = stored(tmp_path / "data", "d")
    assert items["scan.pdf p. 1"]["ocr_text"] == "Pump maintenance log valve replaced"
    assert items["typed.pdf p. 1"]["caption"] == "Quarterly sales chart"
    assert "ocr_text" not in items["typed.pdf p. 1"]


def test_dicom_pixels_are_never_read() -> None:
    decoded = images.decode_image(dicom_path("CT_small.dcm").read_bytes())
    assert not ocr.wants_reading(decoded, "file", {})
    assert ocr.wants_reading(images.decode_image(encode(noise(1), "PNG")), "file", {})
