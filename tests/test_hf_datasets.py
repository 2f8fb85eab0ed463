"""Dataset sources: imagefolder, parquet and save_to_disk folders built with `datasets`,
Hub ids offline, and the same rejections, limits and dedup as files."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.ingest import dataset_files
from mmdemo.ingest.entries import Budget, SourceItem
from mmdemo.ingest.hf_datasets import DatasetOptions, is_dataset, iter_rows
from mmdemo.ingest.indexer import index_paths
from mmdemo.store import Store

from datasetfactory import COLOURS, FEATURES, ROWS, in_memory, png
from formatfactory import EXPECTED, dicom_bytes, photo
from imagefactory import write


def image_folder(folder: Path, metadata: str = "jsonl") -> Path:
    """An imagefolder dataset: the images and a metadata.jsonl or metadata.csv beside them."""
    for name in COLOURS:
        write(folder / name, png(name))
    if metadata == "jsonl":
        lines = "".join(json.dumps(row) + "\n" for row in ROWS)
        (folder / "metadata.jsonl").write_text(lines)
    else:
        lines = ["file_name,text,brand,price"]
        lines += [f"{r['file_name']},{r['text']},{r['brand']},{r['price']}" for r in ROWS]
        (folder / "metadata.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", device="cpu")


def index(source: Path | str, settings: Settings, model: Path, **options: object):
    seen: list[tuple[int, int]] = []
    report = index_paths(
        [source],
        collection="shop",
        models=[str(model)],
        settings=settings,
        store=Store(settings),
        dataset=DatasetOptions(**options),  # type: ignore[arg-type]
        progress=lambda done, total: seen.append((done, total)),
    )
    return report, seen


def stored(settings: Settings) -> dict[str, dict[str, object]]:
    return {meta["file_name"]: meta for _, meta in Store(settings).items("shop")}


@pytest.mark.parametrize("kind", ["jsonl", "csv", "parquet", "saved"])
def test_each_local_dataset_kind_indexes_rows_with_captions_and_metadata(
    kind: str, tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    source = tmp_path / "shop"
    if kind in ("jsonl", "csv"):
        image_folder(source, kind)
    elif kind == "parquet":
        source.mkdir()
        in_memory().to_parquet(str(source / "train.parquet"))
    else:
        datasets.DatasetDict({"train": in_memory(), "test": in_memory()}).save_to_disk(str(source))
    assert is_dataset(source)
    report, seen = index(source, settings, tiny_clip_dir)
    assert (report.added, report.present, report.rejected) == (3, 0, [])
    assert seen[-1] == (3, 3)
    metas = stored(settings)
    assert sorted(metas) == sorted(COLOURS)
    red = metas["red.png"]
    assert (red["caption"], red["brand"], red["price"], red["source"]) == (
        "a red square",
        "acme",
        0.0,
        "dataset",
    )
    assert "tags" not in red and "image" not in red
    assert red["origin"] == "shop[train] row 0"


def test_a_parquet_file_is_a_dataset_and_limit_caps_rows_and_progress(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    parquet = tmp_path / "shop.parquet"
    in_memory().to_parquet(str(parquet))
    report, seen = index(parquet, settings, tiny_clip_dir, limit=2)
    assert (report.added, seen[-1]) == (2, (2, 2))
    assert sorted(stored(settings)) == ["green.png", "red.png"]


def test_a_lone_parquet_file_cannot_point_at_files_beside_it(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    beside = write(tmp_path / "beside.png", png("blue.png"))
    rows = [{"image": {"bytes": None, "path": str(beside)}, "text": "x"}]
    full = [{"brand": None, "price": None, "tags": [], **row} for row in rows]
    parquet = tmp_path / "upload.parquet"
    datasets.Dataset.from_list(full, features=FEATURES).to_parquet(str(parquet))
    report, _ = index(parquet, settings, tiny_clip_dir)
    assert report.added == 0
    assert [(r.file, r.reason) for r in report.rejected] == [
        ("upload.parquet row 0", "image not embedded in the row (only a path to it)")
    ]


def test_the_same_images_from_another_kind_count_as_present(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    index(image_folder(tmp_path / "folder"), settings, tiny_clip_dir)
    datasets.DatasetDict({"train": in_memory()}).save_to_disk(str(tmp_path / "saved"))
    report, _ = index(tmp_path / "saved", settings, tiny_clip_dir)
    assert (report.added, report.present) == (0, 3)


def test_bad_rows_are_rejected_with_reasons_and_the_rest_indexed(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    outside = write(tmp_path / "outside.png", png("blue.png"))
    good = {"image": {"bytes": png("red.png"), "path": "red.png"}, "text": "red"}
    rows = [
        good,
        {"image": {"bytes": b"not an image at all", "path": "junk.png"}, "text": "junk"},
        {"image": None, "text": "nothing"},
        {"image": {"bytes": None, "path": str(outside)}, "text": "escape"},
    ]
    full = [{"brand": None, "price": None, "tags": [], **row} for row in rows]
    folder = tmp_path / "rows"
    folder.mkdir()
    datasets.Dataset.from_list(full, features=FEATURES).to_parquet(str(folder / "train.parquet"))
    report, _ = index(folder, settings, tiny_clip_dir)
    assert report.added == 1
    assert {r.file: r.reason for r in report.rejected} == {
        "rows[train] row 1": "not an image",
        "rows[train] row 2": "no image in this row",
        "rows[train] row 3": "image path outside the dataset folder",
    }


def test_named_caption_column_and_missing_columns_and_splits(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    saved = tmp_path / "saved"
    datasets.DatasetDict({"train": in_memory()}).save_to_disk(str(saved))
    index(saved, settings, tiny_clip_dir, caption_column="brand")
    assert stored(settings)["red.png"]["caption"] == "acme"
    with pytest.raises(InputError, match=r"no image column 'picture' \(its columns: image, text"):
        index(saved, settings, tiny_clip_dir, image_column="picture")
    with pytest.raises(InputError, match="no caption column 'title'"):
        index(saved, settings, tiny_clip_dir, caption_column="title")
    with pytest.raises(InputError, match=r"has no split 'validation' \(it has train\)"):
        index(saved, settings, tiny_clip_dir, split="validation")


def test_an_unreadable_local_dataset_fails_in_one_sentence_before_storing(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    folder = tmp_path / "broken"
    write(folder / "train.parquet", b"this is not parquet")
    with pytest.raises(InputError, match=r"^Dataset broken cannot be read: .+\.$"):
        index(folder, settings, tiny_clip_dir)
    assert Store(settings).collections() == []


def test_a_hub_dataset_offline_fails_in_one_clear_sentence(
    settings: Settings, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError) as caught:
        index("hf:someone/photos", settings, tiny_clip_dir)
    assert (
        str(caught.value) == "Dataset hf:someone/photos cannot be reached: HF_HUB_OFFLINE is set."
    )
    with pytest.raises(InputError, match="is not valid: use hf:OWNER/NAME"):
        index("hf:../etc", settings, tiny_clip_dir)


def test_rows_stream_one_at_a_time(tmp_path: Path) -> None:
    """The first item comes out before later rows are read: a consumer that stops early
    never pulls the rest of the dataset through."""
    parquet = tmp_path / "many.parquet"
    many = [
        {"image": {"bytes": png("red.png"), "path": f"{i}.png"}, "text": str(i)} for i in range(50)
    ]
    full = [{"brand": None, "price": None, "tags": [], **row} for row in many]
    datasets.Dataset.from_list(full, features=FEATURES).to_parquet(str(parquet))
    budget = Budget(10**9, "upload")
    rows = iter_rows(parquet, DatasetOptions(), Settings().limits, budget)
    first = next(rows)
    assert isinstance(first, SourceItem) and first.file_name == "0.png"
    assert budget.left == 10**9  # nothing read until the indexer asks for the bytes
    first.read()
    assert budget.left == 10**9 - len(png("red.png"))


def test_a_hub_dataset_whose_rows_give_remote_paths_fetches_them_and_never_local_files(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hub imagefolder repos stream paths, not bytes. The Hub itself is replaced by an
    in-memory filesystem and a local dataset: only the network boundary is faked."""
    import fsspec

    from mmdemo.models import loading

    for name in ("red.png", "green.png"):
        with fsspec.open(f"memory://repo/{name}", "wb") as handle:
            handle.write(png(name))
    local = write(tmp_path / "secret.png", png("blue.png"))
    rows = [
        {"image": {"bytes": None, "path": "memory://repo/red.png"}, "text": "red"},
        {"image": {"bytes": None, "path": "memory://repo/green.png"}, "text": "green"},
        {"image": {"bytes": None, "path": "memory://repo/missing.png"}, "text": "gone"},
        {"image": {"bytes": None, "path": str(local)}, "text": "local"},
        {"image": {"bytes": None, "path": f"file://{local}"}, "text": "local url"},
        {"image": {"bytes": None, "path": f"zip://a.png::file://{local}"}, "text": "zipped"},
    ]
    full = [{"brand": None, "price": None, "tags": [], **row} for row in rows]
    hub = datasets.Dataset.from_list(full, features=FEATURES)
    monkeypatch.setattr(loading, "hub_reachable", lambda: (True, ""))
    monkeypatch.setattr(datasets, "load_dataset", lambda *_, **__: hub.to_iterable_dataset())
    report, seen = index("hf:someone/photos", settings, tiny_clip_dir)
    assert (report.added, seen[-1]) == (2, (6, 6))
    reasons = {r.file: r.reason for r in report.rejected}
    assert reasons["hf:someone/photos[train] row 2"].startswith("cannot fetch the image")
    for row in (3, 4, 5):  # a server path, as it is or as a file:// URL, is never read
        assert reasons[f"hf:someone/photos[train] row {row}"] == (
            "image not embedded in the row (only a path to it)"
        )
    assert stored(settings)["green.png"]["caption"] == "green"


def test_a_photo_folder_with_some_other_metadata_csv_stays_a_photo_folder(tmp_path: Path) -> None:
    folder = image_folder(tmp_path / "photos", "csv")
    assert is_dataset(folder)
    (folder / "metadata.csv").write_text("camera,iso\nleica,200\n")
    assert not is_dataset(folder)
    (folder / "metadata.csv").unlink()
    assert not is_dataset(folder)


#: Phone photos and studies as people have them: HEIC, AVIF, DICOM with and without .dcm.
PHONE_AND_STUDIES = {
    "IMG_0001.HEIC": lambda: photo("HEIF"),
    "IMG_0002.avif": lambda: photo("AVIF"),
    "ct.dcm": lambda: dicom_bytes("CT_small.dcm"),
    "IM000001": lambda: dicom_bytes("MR_small.dcm"),
}


def test_a_local_imagefolder_of_only_phone_photos_and_studies_indexes_them(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path
) -> None:
    """No PNG or JPEG beside them: `datasets` alone reads this folder as a JSON dataset
    without an image column."""
    folder = tmp_path / "clinic"
    for name, make in PHONE_AND_STUDIES.items():
        write(folder / name, make())
    lines = [json.dumps({"file_name": name, "text": f"the {name}"}) for name in PHONE_AND_STUDIES]
    (folder / "metadata.jsonl").write_text("\n".join(lines) + "\n")
    assert is_dataset(folder)
    report, _ = index(folder, settings, tiny_clip_dir)
    assert (report.added, report.rejected) == (4, [])
    metas = stored(settings)
    assert metas["IMG_0001.HEIC"]["camera"] == EXPECTED["camera"]
    assert metas["IMG_0001.HEIC"]["caption"] == "the IMG_0001.HEIC"
    assert (metas["ct.dcm"]["modality"], metas["IM000001"]["modality"]) == ("CT", "MR")


def test_a_hub_imagefolder_in_label_folders_has_rows_for_heic_avif_and_dicom(
    tmp_path: Path, settings: Settings, tiny_clip_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The Hub's files are served by an in-memory filesystem and read by `datasets`' own
    imagefolder, which by itself lists only Pillow's extensions (here: the PNG)."""
    import fsspec

    from mmdemo.models import loading

    root = f"memory://{tmp_path.name}/repo"
    files = {"cats/red.png": lambda: png("red.png"), **PHONE_AND_STUDIES}
    for name, make in files.items():
        folder = "cats" if name.startswith(("cats", "IMG")) else "scans"
        with fsspec.open(f"{root}/{folder}/{name.removeprefix('cats/')}", "wb") as handle:
            handle.write(make())
    real_load = datasets.load_dataset

    def hub(repo: str, **options: object) -> object:
        assert repo == "someone/phone"
        return real_load("imagefolder", data_files={"train": f"{root}/**"}, **options)

    monkeypatch.setattr(loading, "hub_reachable", lambda: (True, ""))
    monkeypatch.setattr(datasets, "load_dataset", hub)
    monkeypatch.setattr(dataset_files, "hub_folder", lambda repo: root)
    with fsspec.open(f"{root}/scans/NOTES", "wb") as handle:
        handle.write(b"not an image, nor a row")
    report, seen = index("hf:someone/phone", settings, tiny_clip_dir)
    # The extension-less study, which datasets does not list, is found by its preamble.
    assert (report.added, report.rejected) == (5, [])
    assert seen[-1] == (5, 5)
    metas = stored(settings)
    assert sorted(metas) == ["IM000001", "IMG_0001.HEIC", "IMG_0002.avif", "ct.dcm", "red.png"]
    assert (metas["ct.dcm"]["modality"], metas["IM000001"]["modality"]) == ("CT", "MR")
    assert metas["IM000001"]["label"] == metas["ct.dcm"]["label"] != metas["red.png"]["label"]
