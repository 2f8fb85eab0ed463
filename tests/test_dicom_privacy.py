"""Patient data never leaves a DICOM file: identifying values planted in every such
attribute are found nowhere the app writes or answers (store, copies, CLI JSON, CSV)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.export import results_table, write_csv
from mmdemo.ingest.formats.dicom import KEPT
from mmdemo.search.engine import search
from mmdemo.search.query import Query
from mmdemo.store import Store

from dicomphi import ALLOWED, leaks, planted_dicom, raw_leaks, scrubbed
from imagefactory import write

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_planted_file_is_the_test_it_claims_to_be() -> None:
    import pydicom

    data, planted = planted_dicom()
    ds = pydicom.dcmread(io.BytesIO(data))
    assert len(planted) >= 60
    assert str(ds.PatientName).startswith("PHIMARK") and ds.PatientBirthDate.startswith("1901")
    assert not set(planted) & ALLOWED
    assert set(KEPT) == ALLOWED  # widening the allow-list is a decision this test must see
    assert leaks(str(ds), planted)  # the detector sees what it must not find elsewhere


def test_no_planted_value_reaches_the_store_the_copies_the_json_or_the_csv(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_clip_dir: Path
) -> None:
    data, planted = planted_dicom()
    write(tmp_path / "in" / "IM000001", data)
    with zipfile.ZipFile(tmp_path / "in.zip", "w") as archive:
        archive.writestr("study/scan.dcm", data[:-1] + bytes([data[-1] ^ 1]))  # one pixel off
    given = [str(tmp_path / "in"), str(tmp_path / "in.zip")]
    common = ["--data-dir", str(tmp_path / "data"), "--model", str(tiny_clip_dir)]
    report = _json(capsys, "index", *given, "--collection", "rad", *common)
    assert (report["added"], report["rejected"]) == (2, [])
    found = _json(capsys, "search", "--collection", "rad", "--text", "computed tomography", *common)
    listed = _json(capsys, "list", "--data-dir", str(tmp_path / "data"))

    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings)
    metadata = [meta for _, meta in store.items("rad")]
    assert {meta["modality"] for meta in metadata} == {"CT"}  # kept fields are there
    query = Query(text="computed tomography")
    results = search(
        query, collection="rad", model=str(tiny_clip_dir), settings=settings, store=store
    )
    csv_file = write_csv(results_table(results, query), tmp_path / "results.csv")

    outputs = [json.dumps(report), json.dumps(found), json.dumps(listed), json.dumps(metadata)]
    outputs.append(Path(csv_file).read_text())
    assert leaks(scrubbed(outputs), planted) == []
    assert raw_leaks(tmp_path / "data") == []
