"""Stored images reach the page only through URLs the app signed (mmdemo/ui/media.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from mmdemo.config import Settings
from mmdemo.ui import media


def _parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    _, _, kind, name = split.path.split("/")
    return kind, name, parse_qs(split.query)["s"][0]


def test_signed_urls_serve_their_file_and_nothing_else(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    item = "ab" * 32
    settings.images_dir.mkdir(parents=True)
    settings.thumbs_dir.mkdir(parents=True)
    (settings.images_dir / f"{item}.png").write_bytes(b"image")
    (settings.thumbs_dir / f"{item}.jpg").write_bytes(b"thumb")
    row = {"id": item, "path": str(settings.images_dir / f"{item}.png")}

    thumb, image = media.pictures(settings, row)

    assert str(tmp_path) not in thumb + image
    for url, body in ((thumb, b"thumb"), (image, b"image")):
        kind, name, signature = _parts(url)
        answer = media.serve(settings, kind, name, signature)
        assert answer.status_code == 200 and Path(answer.path).read_bytes() == body  # type: ignore[attr-defined]
    kind, name, signature = _parts(image)
    assert media.serve(settings, "thumb", name, signature).status_code == 403  # other kind
    assert media.serve(settings, kind, name, "0" * 32).status_code == 403
    assert media.serve(settings, kind, "../chroma/x.png", signature).status_code == 403
    (settings.images_dir / f"{item}.png").unlink()
    assert media.serve(settings, kind, name, signature).status_code == 404
    (settings.thumbs_dir / f"{item}.jpg").unlink()
    assert media.pictures(settings, row)[0] == image  # no thumbnail: the image itself
