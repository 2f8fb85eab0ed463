"""Reading cost per source kind: the same images as a folder, a datasets imagefolder,
parquet and save_to_disk output, plus PDF pages, through iter_sources + read + decode.

No model runs: this measures what each source kind adds before embedding. Each kind is
timed ``--repeats`` times in one process; the table gives min/median seconds per item and
the median ratio to the plain folder.

    python -m bench.source_kinds --emoji-dir /work/data/emoji/package --n 300 --pages 40
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from mmdemo.ingest.entries import SourceItem
from mmdemo.ingest.images import decode_image
from mmdemo.ingest.sources import iter_sources


def _build(emoji_dir: Path, n: int, pages: int, root: Path) -> dict[str, Path]:
    import datasets
    import pypdfium2 as pdfium

    pngs = sorted((emoji_dir / "img" / "google" / "64").glob("*.png"))[:n]
    folder = root / "folder"
    folder.mkdir()
    rows = []
    for path in pngs:
        (folder / path.name).write_bytes(path.read_bytes())
        rows.append({"file_name": path.name, "text": path.stem})
    (folder / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    plain = root / "plain"
    plain.mkdir()
    for path in pngs:
        (plain / path.name).write_bytes(path.read_bytes())
    table = datasets.Dataset.from_list(
        [{"image": {"bytes": p.read_bytes(), "path": p.name}, "text": p.stem} for p in pngs],
        features=datasets.Features({"image": datasets.Image(), "text": datasets.Value("string")}),
    )
    (root / "parquet").mkdir()
    table.to_parquet(str(root / "parquet" / "train.parquet"))
    table.save_to_disk(str(root / "saved"))
    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(612, 792)
    pdf.save(str(root / "doc.pdf"))
    return {
        "folder": plain,
        "imagefolder": folder,
        "parquet": root / "parquet",
        "save_to_disk": root / "saved",
        "pdf pages": root / "doc.pdf",
    }


def _seconds_per_item(source: Path) -> float:
    start = time.perf_counter()
    count = 0
    for entry in iter_sources([source]):
        if isinstance(entry, SourceItem):
            decode_image(entry.read(), entry.file_name)
            entry.details()
            count += 1
    return (time.perf_counter() - start) / max(count, 1)


def main() -> None:
    """Build the sources, time each kind, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--emoji-dir", type=Path, required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        kinds = _build(args.emoji_dir, args.n, args.pages, Path(tmp))
        times = {
            kind: [_seconds_per_item(path) for _ in range(args.repeats)]
            for kind, path in kinds.items()
        }
    base = statistics.median(times["folder"])
    print(f"{'kind':<14}{'min ms/item':>12}{'median ms/item':>16}{'x folder':>10}")
    for kind, values in times.items():
        median = statistics.median(values)
        print(f"{kind:<14}{min(values) * 1e3:>12.2f}{median * 1e3:>16.2f}{median / base:>10.2f}")


if __name__ == "__main__":
    main()
