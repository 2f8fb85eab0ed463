"""The shared demo collections: the bundled ones and those an operator adds or replaces.

Three demos ship in ``assets/demos`` (photos, shop, documents; tools/build_demos.py
rebuilds them). ``MMDEMO_DEMO_SOURCES`` adds or replaces demos for a Space that can reach
the Hub, as ``;``-separated entries::

    NAME=SOURCE[,SOURCE...][?rows=N&split=S&image=COLUMN&caption=COLUMN&captions=CSV]

A SOURCE is a folder, a zip archive, a PDF or an ``hf:OWNER/NAME`` dataset; ``rows`` caps
a dataset's rows. ``photos``, ``shop`` or ``documents`` as NAME replace that bundled demo;
an empty SOURCE (``shop=``) drops it; any other NAME adds a demo. A folder's own
``captions.csv`` is used when no ``captions=`` is given. A malformed entry is reported and
skipped, and a replacement that cannot be read falls back to the bundled demo at start-up,
so the bundled demos always work offline.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from mmdemo.errors import InputError
from mmdemo.ingest.hf_datasets import DEFAULT_DATASET, DatasetOptions, is_hub_id

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "demos"
#: Files of a demo folder that describe it rather than being items of it.
NOT_ITEMS = frozenset({"captions.csv", "SOURCES", "README.md"})
#: The photos demo's folder, and in it the 14 scikit-image / scikit-learn photos that were
#: the whole demo before: tests and benches that measure on a small fixed set use these.
PHOTOS_DIR = ASSETS / "photos"
SAMPLE_PHOTOS = (
    "astronaut.jpg", "coffee.jpg", "chelsea.jpg", "rocket.jpg", "camera.jpg", "coins.jpg",
    "clock.jpg", "hubble_deep_field.jpg", "retina.jpg", "brick.jpg", "grass.jpg",
    "gravel.jpg", "china.jpg", "flower.jpg",
)  # fmt: skip
#: A stored demo collection's name: this prefix and the demo's key.
PREFIX = "demo-"
_KEY = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_OPTIONS = {"rows", "split", "image", "caption", "captions"}


@dataclass(frozen=True)
class Demo:
    """One demo collection: its key, what it is indexed from and how the page names it."""

    key: str
    #: Folders, files, zips, PDFs or ``hf:`` dataset ids, indexed in this order.
    sources: tuple[str, ...]
    captions: Path | None = None
    dataset: DatasetOptions = DEFAULT_DATASET
    bundled: bool = False

    @property
    def collection(self) -> str:
        """The stored collection name, e.g. ``demo-photos``."""
        return PREFIX + self.key

    @property
    def label(self) -> str:
        """How the page names it: "Demo: photos"."""
        return f"Demo: {self.key}"

    def items(self) -> list[str]:
        """What to index: each source, a folder's top-level entries one by one except its
        captions CSV and SOURCES file, so the progress count is the count of items."""
        items: list[str] = []
        for source in self.sources:
            folder = Path(source)
            if is_hub_id(source) or not folder.is_dir():
                items.append(source)
                continue
            entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
            items.extend(str(p) for p in entries if p.name not in NOT_ITEMS)
        return items

    def fingerprint(self) -> str:
        """A digest of what the demo is indexed from (local file bytes, dataset ids and
        options), so a changed source is indexed anew and an unchanged one is not."""
        digest = hashlib.sha256(repr((self.sources, self.dataset)).encode())
        paths = [Path(i) for i in self.items() if not is_hub_id(i)]
        if self.captions is not None:
            paths.append(self.captions)
        for path in paths:
            files = sorted(path.rglob("*")) if path.is_dir() else [path]
            for file in (f for f in files if f.is_file()):
                digest.update(f"{file.name}\0{file.stat().st_size}\0".encode())
                digest.update(hashlib.sha256(file.read_bytes()).digest())
        return digest.hexdigest()


def _bundled(key: str) -> Demo:
    folder = ASSETS / key
    return Demo(key, (str(folder),), folder / "captions.csv", bundled=True)


#: The demos that ship with the app, photos first: it is the one the first screen searches.
BUNDLED: tuple[Demo, ...] = tuple(_bundled(key) for key in ("photos", "shop", "documents"))


@dataclass(frozen=True)
class DemoPlan:
    """The demos to set up at start-up, the bundled demos to fall back on when a
    replacement fails, and the configuration problems to report."""

    demos: tuple[Demo, ...]
    fallbacks: dict[str, Demo] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    def find(self, collection: str) -> Demo | None:
        """The demo stored as ``collection``, if it is one."""
        return next((d for d in self.demos if d.collection == collection), None)


def _options(query: str, key: str) -> tuple[DatasetOptions, Path | None]:
    given = {name: values[-1] for name, values in parse_qs(query).items()}
    unknown = sorted(set(given) - _OPTIONS)
    if unknown:
        raise InputError(
            f"demo {key!r}: unknown option {', '.join(unknown)} "
            f"(use {', '.join(sorted(_OPTIONS))})."
        )
    rows = given.get("rows")
    if rows is not None and (not rows.isdigit() or int(rows) < 1):
        raise InputError(f"demo {key!r}: rows must be a whole number of at least 1.")
    dataset = DatasetOptions(
        split=given.get("split", DEFAULT_DATASET.split),
        image_column=given.get("image", DEFAULT_DATASET.image_column),
        caption_column=given.get("caption"),
        limit=int(rows) if rows else None,
    )
    captions = Path(given["captions"]) if "captions" in given else None
    return dataset, captions


def parse_entry(entry: str) -> tuple[str, Demo | None]:
    """One ``NAME=SOURCE...`` entry as (key, demo); the demo is None for ``NAME=``."""
    key, sep, rest = entry.partition("=")
    key = key.strip().lower()
    if not sep or not _KEY.fullmatch(key):
        raise InputError(
            f"{entry.strip()!r} is not NAME=SOURCE: NAME is 1 to 40 lower-case letters, "
            "digits, '-' or '_'."
        )
    spec, _, query = rest.strip().partition("?")
    sources = tuple(s.strip() for s in spec.split(",") if s.strip())
    if not sources:
        return key, None
    dataset, captions = _options(query, key)
    folders = [Path(s) for s in sources if not is_hub_id(s) and Path(s).is_dir()]
    if captions is None and len(folders) == 1 and (folders[0] / "captions.csv").is_file():
        captions = folders[0] / "captions.csv"
    return key, Demo(key, sources, captions, dataset)


def plan_demos(configured: str, demo_dir: Path | None = None) -> DemoPlan:
    """The bundled demos with ``MMDEMO_DEMO_SOURCES`` (``configured``) applied; ``demo_dir``
    (the app's ``--demo-dir``) replaces the photos demo."""
    demos = {demo.key: demo for demo in BUNDLED}
    if demo_dir is not None:
        demos["photos"] = parse_entry(f"photos={demo_dir}")[1] or demos["photos"]
    fallbacks: dict[str, Demo] = {}
    problems: list[str] = []
    for entry in (e for e in configured.split(";") if e.strip()):
        try:
            key, demo = parse_entry(entry)
        except InputError as exc:
            problems.append(f"MMDEMO_DEMO_SOURCES: {exc}")
            continue
        bundled = next((d for d in BUNDLED if d.key == key), None)
        if demo is None:
            demos.pop(key, None)
            continue
        if bundled is not None:
            fallbacks[key] = bundled
        demos[key] = demo
    return DemoPlan(tuple(demos.values()), fallbacks, tuple(problems))
