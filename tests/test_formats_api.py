"""Issue 26's formats through the app's /index endpoint (gradio_client against ``python
app.py``): phone photos and DICOM studies index, their dates filter /search, their fields
come back on each result (the detail panel's), broken variants are rejected with reasons,
no planted patient value comes back, and ``ocr`` makes text inside images searchable."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client, handle_file

from dicomphi import leaks, planted_dicom, scrubbed
from formatfactory import EXPECTED, dicom_path, noise, photo, text_image
from helpers import SIGNS, WebApp
from imagefactory import write

pytestmark = [pytest.mark.timeout(300), pytest.mark.filterwarnings("ignore::UserWarning")]

COLLECTION = "api-formats"


@pytest.fixture(scope="module")
def client(web_app: WebApp) -> Client:
    return Client(web_app.url, verbose=False)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("formats")
    files = {
        "IMG_0001.HEIC": photo("HEIF", orientation=6),
        "IMG_0002.avif": photo("AVIF", taken="2022:02:01 12:00:00"),
        "IM000001": dicom_path("CT_small.dcm").read_bytes(),
        "mr.dcm": dicom_path("MR_small_RLE.dcm").read_bytes(),
        "broken.heic": photo("HEIF")[:300],
        "plan.dcm": dicom_path("rtplan.dcm").read_bytes(),
        "patient.dcm": planted_dicom()[0],
    }
    paths = {name: write(folder / name, data) for name, data in files.items()}
    paths["study.zip"] = folder / "study.zip"
    with zipfile.ZipFile(paths["study.zip"], "w") as archive:
        archive.writestr("us/IM000002", dicom_path("examples_ybr_color.dcm").read_bytes())
    return paths


@pytest.fixture(scope="module")
def indexed(client: Client, uploads: dict[str, Path], web_app: WebApp) -> dict[str, Any]:
    files = [handle_file(str(path)) for path in uploads.values()]
    report: dict[str, Any] = client.predict(
        files=files, collection=COLLECTION, models=[web_app.model], api_name="/index"
    )
    return report


def _search(client: Client, web_app: WebApp, **given: Any) -> tuple[dict[str, Any], str]:
    values = {"collection": COLLECTION, "model": web_app.model, "top_k": 20, **given}
    payload, csv_file = client.predict(**values, api_name="/search")
    return payload, csv_file


def test_photos_and_studies_index_and_broken_ones_are_rejected(indexed: dict[str, Any]) -> None:
    assert indexed["added"] == 6
    reasons = {row["file"]: row["reason"] for row in indexed["rejected"]}
    assert reasons == {
        "broken.heic": "corrupt or truncated image",
        "plan.dcm": "DICOM file without pixel data (a RTPLAN object)",
    }


def test_dates_and_dicom_fields_filter_the_search(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    def names(where: str) -> set[str]:
        payload, _ = _search(client, web_app, text="a photo", where=where)
        return {row["file_name"] for row in payload["results"]}

    assert names("taken>=2021-06-01 and taken<2022") == {"IMG_0001.HEIC"}
    assert names("taken>=2021") == {"IMG_0001.HEIC", "IMG_0002.avif"}
    assert names("modality=US") == {"IM000002"}
    assert names("study_date<2005 and modality in (CT, MR)") == {
        "IM000001",
        "mr.dcm",
        "patient.dcm",
    }


def test_dicom_captions_are_searched_by_text(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    payload, _ = _search(client, web_app, text="ultrasound", caption_weight=1.0)
    assert payload["results"][0]["file_name"] == "IM000002"
    assert payload["results"][0]["caption"] == "ultrasound (US)"


def test_no_planted_patient_value_comes_back_from_the_api(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    _, planted = planted_dicom()
    payload, csv_file = _search(client, web_app, text="computed tomography")
    assert "patient.dcm" in {row["file_name"] for row in payload["results"]}
    listed = client.predict(api_name="/collections")
    texts = [json.dumps(indexed), json.dumps(payload), json.dumps(listed)]
    texts.append(Path(csv_file).read_text())
    assert leaks(scrubbed(texts), planted) == []


def test_results_carry_the_camera_and_dicom_fields_the_detail_panel_shows(
    client: Client, web_app: WebApp, indexed: dict[str, Any]
) -> None:
    payload, _ = _search(client, web_app, text="a photo")
    rows = {row["file_name"]: row for row in payload["results"]}
    heic = rows["IMG_0001.HEIC"]
    assert {key: heic[key] for key in EXPECTED} == EXPECTED
    ultrasound = rows["IM000002"]
    assert ultrasound["modality"] == "US"
    assert "taken" not in ultrasound and "modality" not in heic
    for row in rows.values():  # the item's own fields only: no date numbers, no origins
        assert not any(key.endswith("_ts") for key in row), row
        assert "origin" not in row and "source" not in row and "image_file" not in row


@pytest.fixture(scope="module")
def signs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """test_ocr's text images (each with a word no other holds) and a noise image."""
    folder = tmp_path_factory.mktemp("api-signs")
    for name, lines in SIGNS.items():
        text_image(lines).save(folder / name)
    noise(3, (320, 240)).save(folder / "noise.png")
    return sorted(folder.iterdir())


@pytest.mark.parametrize("ocr", [True, False])
def test_the_ocr_flag_finds_a_word_only_inside_one_image_first(
    client: Client, web_app: WebApp, signs: list[Path], ocr: bool
) -> None:
    collection = f"api-ocr-{'on' if ocr else 'off'}"
    files = [handle_file(str(path)) for path in signs]
    given = {"ocr": True} if ocr else {}  # off is the default
    report = client.predict(
        files=files, collection=collection, models=[web_app.model], **given, api_name="/index"
    )
    assert (report["added"], report["rejected"], report.get("warnings")) == (5, [], None)
    # "invoice" is only inside receipt.png, which the pixels alone rank below the noise.
    payload, _ = _search(client, web_app, collection=collection, text="invoice")
    first = payload["results"][0]
    if ocr:
        assert first["file_name"] == "receipt.png"
        assert first["ocr_text"] == "INVOICE 2291 Total 42.50 EUR paid"
    else:
        assert first["file_name"] != "receipt.png"
        assert not any("ocr_text" in row for row in payload["results"])
