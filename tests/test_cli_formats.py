"""Issue 26 through the command line: phone photos and DICOM studies in folders and zips,
their metadata as fields ``--where`` compares, GPS for visitors, DICOM captions joined by
SOPInstanceUID, and a model that cannot load beside one that can."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PIL import Image

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.store import Store

from formatfactory import EXPECTED, dicom_bytes, dicom_path, noise, photo
from helpers import cli_json, stored
from imagefactory import encode, write

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def sources(tmp_path: Path) -> list[str]:
    """A folder of phone photos and DICOM files (one without extension), a truncated HEIC,
    a DICOM plan without pixels; a zip with one more study and one more photo."""
    folder = tmp_path / "phone"
    write(folder / "IMG_0001.HEIC", photo("HEIF", orientation=6))
    write(folder / "IMG_0002.avif", photo("AVIF", taken="2022:02:01 12:00:00"))
    write(folder / "IMG_0003.jpg", photo("JPEG", taken="2019:12:31 23:59:59", gps=False))
    write(folder / "broken.heic", photo("HEIF")[:300])
    write(folder / "study" / "IM000001", dicom_path("CT_small.dcm").read_bytes())
    write(folder / "study" / "mr.dcm", dicom_path("MR_small_RLE.dcm").read_bytes())
    write(folder / "study" / "plan.dcm", dicom_path("rtplan.dcm").read_bytes())
    archive = tmp_path / "more.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("us/IM000002", dicom_path("examples_ybr_color.dcm").read_bytes())
        zf.writestr("IMG_0004.HEIC", photo("HEIF", orientation=3, taken="2021:12:31 08:00:00"))
    return [str(folder), str(archive)]


def test_photos_and_studies_index_with_their_fields(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, sources: list[str], tiny_clip_dir: Path
) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    model = ["--model", str(tiny_clip_dir)]
    report = cli_json(capsys, "index", *sources, "--collection", "mixed", *model, *data)
    assert report["added"] == 7
    reasons = {Path(r["file"]).name: r["reason"] for r in report["rejected"]}
    assert reasons == {
        "broken.heic": "corrupt or truncated image",
        "plan.dcm": "DICOM file without pixel data (a RTPLAN object)",
    }

    items = stored(tmp_path / "data", "mixed")
    heic = items["IMG_0001.HEIC"]
    assert {key: heic[key] for key in EXPECTED} == EXPECTED
    assert (heic["width"], heic["height"]) == (32, 64)  # turned upright
    assert heic["image_file"].endswith(".jpg")
    ct = items["IM000001"]
    assert (ct["modality"], ct["study_date"], ct["manufacturer"]) == (
        "CT",
        "2004-01-19",
        "GE MEDICAL SYSTEMS",
    )
    assert ct["caption"] == "computed tomography (CT): e+1" and ct["image_file"].endswith(".png")
    assert (items["IM000002"]["frames"], items["IM000002"]["frame"]) == (30, 15)

    def where(condition: str) -> set[str]:
        found = cli_json(
            capsys, "search", "--collection", "mixed", "--text", "a photo", "--where", condition,
            "--top-k", "20", *model, *data,
        )  # fmt: skip
        return {row["file_name"] for row in found["results"]}

    assert where("taken>=2021-06-01 and taken<2022") == {"IMG_0001.HEIC", "IMG_0004.HEIC"}
    assert where("taken<2021") == {"IMG_0003.jpg"}
    assert where("taken=2022-02") == {"IMG_0002.avif"}
    assert where("taken<=2021-06-14") == {"IMG_0001.HEIC", "IMG_0003.jpg"}
    assert where("taken<2021-06-14") == {"IMG_0003.jpg"}
    assert where("study_date<2005 and modality=MR") == {"mr.dcm"}
    assert where("camera='Apple iPhone 13 mini' and lat>48") == {
        "IMG_0001.HEIC",
        "IMG_0002.avif",
        "IMG_0004.HEIC",
    }


@pytest.mark.parametrize(("allowed", "kept"), [("", False), ("1", True)])
def test_visitors_photos_lose_their_position_unless_the_operator_allows_it(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    tiny_clip_dir: Path,
    allowed: str,
    kept: bool,
) -> None:
    monkeypatch.setenv("MMDEMO_MULTIUSER", "1")
    monkeypatch.setenv("MMDEMO_ALLOW_GPS", allowed)
    photo_path = write(tmp_path / "IMG_0001.HEIC", photo("HEIF"))
    data = ["--data-dir", str(tmp_path / "data")]
    cli_json(
        capsys, "index", str(photo_path), "--collection", "v", "--model", str(tiny_clip_dir), *data
    )
    meta = stored(tmp_path / "data", "v")["IMG_0001.HEIC"]
    assert ("lat" in meta and "lon" in meta) is kept
    assert meta["camera"] == EXPECTED["camera"]
    with Image.open(tmp_path / "data" / "images" / meta["image_file"]) as copy:
        assert copy.format == "JPEG" and not copy.getexif()  # the rendering carries no EXIF


def test_a_captions_csv_joins_dicom_files_by_sop_instance_uid(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_clip_dir: Path
) -> None:
    import pydicom

    uid = str(pydicom.dcmread(dicom_path("CT_small.dcm")).SOPInstanceUID)
    write(tmp_path / "in" / "IM000001", dicom_bytes("CT_small.dcm"))
    write(tmp_path / "in" / "mr.dcm", dicom_path("MR_small.dcm").read_bytes())
    table = tmp_path / "records.csv"
    table.write_text(f"file_name,caption,finding\n{uid},chest CT with a small nodule,nodule\n")
    data = ["--data-dir", str(tmp_path / "data")]
    cli_json(
        capsys, "index", str(tmp_path / "in"), "--collection", "rad", "--captions", str(table),
        "--model", str(tiny_clip_dir), *data,
    )  # fmt: skip
    items = stored(tmp_path / "data", "rad")
    assert items["IM000001"]["caption"] == "chest CT with a small nodule"
    assert items["IM000001"]["finding"] == "nodule"
    assert items["mr.dcm"]["caption"] == "magnetic resonance (MR)"  # built from the file
    assert not any(uid in str(value) for meta in items.values() for value in meta.values())


def test_a_model_that_cannot_load_leaves_the_others_indexing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_clip_dir: Path
) -> None:
    broken = tmp_path / "not-a-model"
    broken.mkdir()
    write(tmp_path / "in" / "a.png", encode(noise(1), "PNG"))
    write(tmp_path / "in" / "b.png", encode(noise(2), "PNG"))
    data = ["--data-dir", str(tmp_path / "data")]
    args = ["index", str(tmp_path / "in"), "--collection", "p", *data]
    models = ["--model", str(tiny_clip_dir), "--model", str(broken)]
    report = cli_json(capsys, *args, *models, code=1)
    assert (report["added"], report["rejected"]) == (2, [])
    [failed] = report["failed_models"]
    assert failed["model"] == str(broken) and "Could not load embedder" in failed["reason"]
    assert Store(Settings(data_dir=tmp_path / "data")).models("p") == {str(tiny_clip_dir): 2}

    assert main([*args, *models]) == 1
    captured = capsys.readouterr()
    assert "already present: 2" in captured.out
    assert f"error: model {broken} was left out: Could not load embedder" in captured.err


def test_dataset_rows_carry_heic_avif_and_dicom_images(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_clip_dir: Path
) -> None:
    import datasets

    cells = [
        {"bytes": photo("HEIF", orientation=6), "path": "IMG_0001.HEIC"},
        {"bytes": photo("AVIF"), "path": "IMG_0002.avif"},
        {"bytes": dicom_path("MR_small.dcm").read_bytes(), "path": "mr.dcm"},
    ]
    rows = datasets.Dataset.from_dict({"image": cells, "text": ["phone", "phone", "scan"]})
    rows.cast_column("image", datasets.Image(decode=False)).save_to_disk(str(tmp_path / "ds"))
    data = ["--data-dir", str(tmp_path / "data"), "--model", str(tiny_clip_dir)]
    report = cli_json(capsys, "index", str(tmp_path / "ds"), "--collection", "ds", *data)
    assert (report["added"], report["rejected"]) == (3, [])
    items = stored(tmp_path / "data", "ds")
    assert items["IMG_0001.HEIC"]["taken"] == EXPECTED["taken"]
    assert (items["IMG_0001.HEIC"]["width"], items["IMG_0001.HEIC"]["height"]) == (32, 64)
    assert items["IMG_0002.avif"]["camera"] == EXPECTED["camera"]
    assert items["mr.dcm"]["caption"] == "scan"  # the row's caption wins over the built one
    assert items["mr.dcm"]["modality"] == "MR"
