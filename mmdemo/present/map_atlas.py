"""One picture holding every thumbnail of a map (a sprite atlas), so that a page draws
thousands of pictures from a single download instead of thousands of requests.

Tiles are square crops of the stored thumbnails, laid out row by row in the map's point
order: point ``i`` is at column ``i % columns``, row ``i // columns``. The atlas is built
once per map version and kept under the data folder (``atlases/``), named by a digest of
the map (collection, model, version), so the page's URL names no collection or server path.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from mmdemo.config import Settings
from mmdemo.errors import ImageRejected
from mmdemo.evaluate.collection_map import CollectionMap
from mmdemo.ingest.copies import thumb_path
from mmdemo.ingest.images import load_image
from mmdemo.store.space import write_stored

#: Tile edge in pixels: sharp tiles for small collections, a lighter atlas for large ones.
TILE_LARGE, TILE_SMALL = 64, 32
#: Collections up to this many points get the large tiles (600 x 64² px ≈ a 1.6k² atlas).
LARGE_UP_TO = 600
#: A point whose thumbnail cannot be read shows this grey.
MISSING = (200, 203, 208)
JPEG_QUALITY = 80


@dataclass(frozen=True)
class Atlas:
    """A built atlas: its file, the tile edge and how many tiles make a row."""

    path: Path
    tile: int
    columns: int


def tile_size(points: int) -> int:
    """The tile edge for a map of ``points`` points."""
    return TILE_LARGE if points <= LARGE_UP_TO else TILE_SMALL


def atlas_folder(settings: Settings) -> Path:
    """Where atlases are kept (the media route serves them by name)."""
    return settings.data_dir / "atlases"


def _name(found: CollectionMap) -> str:
    key = f"{found.collection}\0{found.model}\0{found.version}"
    return hashlib.sha256(key.encode()).hexdigest()[:32] + ".jpg"


def _tile(path: Path, edge: int) -> Image.Image:
    """A square ``edge``-pixel crop of the picture at ``path`` (grey when it is unreadable)."""
    try:
        picture = load_image(path)
    except (OSError, ImageRejected):
        return Image.new("RGB", (edge, edge), MISSING)
    return ImageOps.fit(picture, (edge, edge), Image.Resampling.BICUBIC)


def build_atlas(found: CollectionMap, settings: Settings) -> Atlas:
    """The atlas of ``found``'s thumbnails, from the data folder when it was built before."""
    count = max(1, len(found.points))
    edge = tile_size(count)
    columns = math.ceil(math.sqrt(count))
    target = atlas_folder(settings) / _name(found)
    if not target.is_file():
        rows = math.ceil(count / columns)
        sheet = Image.new("RGB", (columns * edge, rows * edge), MISSING)
        for i, point in enumerate(found.points):
            tile = _tile(thumb_path(settings, point.id), edge)
            sheet.paste(tile, ((i % columns) * edge, (i // columns) * edge))
        write_stored(
            target,
            lambda path: sheet.save(path, format="JPEG", quality=JPEG_QUALITY, subsampling=0),
        )
    return Atlas(target, edge, columns)
