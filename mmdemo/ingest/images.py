"""The one image decoder: validate, orient, convert to RGB, thumbnail and hash.

Every image the project opens (files to index, query images, stored copies) passes through
:func:`decode_image` or :func:`load_image`, so every input gets the same limits and the same
normalisation: EXIF orientation applied, alpha composited on white, any pixel mode turned
into 8-bit RGB. Which formats exist (JPEG ... HEIF, AVIF, DICOM) and how each is read is
the registry's (:mod:`mmdemo.ingest.formats`); the camera metadata a photo carries comes
out in ``DecodedImage.details`` (:mod:`mmdemo.ingest.formats.exif`). A bad file is refused
with :class:`~mmdemo.errors.ImageRejected` whose reason is a short lowercase phrase
("corrupt or truncated image"); it never crashes the caller.
"""

from __future__ import annotations

import hashlib
import io
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import ExifTags, Image, UnidentifiedImageError

from mmdemo.errors import ImageRejected
from mmdemo.ingest import formats
from mmdemo.ingest.formats.exif import exif_details

MAX_PIXELS: int = 64_000_000
MAX_FILE_BYTES: int = 64 * 1024 * 1024
#: The longest side of an image handed to a model (see :func:`fit_for_models`).
MODEL_MAX_SIDE: int = 1024
IMAGE_EXTENSIONS: frozenset[str] = formats.extensions()

# Pillow format names we accept; MPO is the multi-picture JPEG that many cameras write.
_SUPPORTED_FORMATS = formats.pillow_names()
_FORMAT_ALIASES = {"MPO": "JPEG"}

# Common image formats nothing here reads: name them instead of saying "not an image".
_UNREADABLE_EXTENSIONS = {".svg": "SVG", ".jxl": "JPEG XL"}

# Pillow's limits on PNG text chunks, named in the ValueError it raises past them.
_METADATA_LIMITS = ("MAX_TEXT_CHUNK", "MAX_TEXT_MEMORY")

_ALPHA_MODES = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_KEYED_TRANSPARENCY_MODES = frozenset({"1", "L", "P", "RGB"})
_INTEGER_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})
_WHITE = (255, 255, 255, 255)

_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


#: EXIF orientations that turn the image a quarter, swapping width and height.
_SWAPS_SIDES = frozenset({5, 6, 7, 8})


@dataclass(frozen=True)
class DecodedImage:
    """A validated image ready to embed, with the facts the store records about it.

    ``image`` is RGB with EXIF orientation applied; a large JPEG is decoded at a reduced
    scale that keeps both sides at least :data:`MODEL_MAX_SIDE` (enough for models and
    thumbnails). ``width``/``height`` are the file's full size, after orientation;
    ``format`` is the file format ("JPEG", "PNG", ...). The item id is not decoded: it is
    :func:`content_hash` of the bytes, which indexing computes once, before deciding whether
    to decode at all. ``details`` is the metadata the file carries that items keep (camera
    EXIF, DICOM's allow-list); ``aliases`` are other names a captions CSV may give the file
    (a DICOM SOPInstanceUID), never stored; ``stored_as`` is the format the stored copy is
    rendered in when the original bytes are not kept (HEIF, DICOM), else None.
    """

    image: Image.Image
    width: int
    height: int
    format: str
    details: dict[str, Any] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    stored_as: str | None = None


def content_hash(data: bytes) -> str:
    """The item id of a file: the hex sha256 of its bytes, so re-adding a file is a no-op."""
    return hashlib.sha256(data).hexdigest()


def format_size(n_bytes: int) -> str:
    """A byte count as a short human string: "512 bytes", "3.5 KB", "70 MB"."""
    if n_bytes < 1024:
        return f"{n_bytes} bytes"
    value, unit = (n_bytes / 1024, "KB") if n_bytes < 1024 * 1024 else (n_bytes / 2**20, "MB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"


def check_file_size(n_bytes: int) -> None:
    """Refuse a file of ``n_bytes`` when it exceeds :data:`MAX_FILE_BYTES`."""
    if n_bytes > MAX_FILE_BYTES:
        raise ImageRejected(
            f"file too large ({format_size(n_bytes)} > {format_size(MAX_FILE_BYTES)})"
        )


def read_file(path: str | Path) -> bytes:
    """Read an image file's bytes, refusing oversized files without reading them whole."""
    path = Path(path)
    try:
        check_file_size(path.stat().st_size)
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise ImageRejected("no such file") from exc
    except IsADirectoryError as exc:
        raise ImageRejected("is a folder, not a file") from exc
    except OSError as exc:
        raise ImageRejected(f"cannot read file ({exc.strerror or exc})") from exc
    check_file_size(len(data))
    return data


def _check_pixels(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageRejected(f"too many pixels ({width} x {height} > {MAX_PIXELS:,})")


def _unidentified_reason(data: bytes, name: str) -> str:
    """Why Pillow could not identify ``data``: a broken known format, or not an image."""
    if formats.sniff(data) is not None:
        return "corrupt or truncated image"
    unreadable = _UNREADABLE_EXTENSIONS.get(Path(name).suffix.lower())
    return f"unsupported image format: {unreadable}" if unreadable else "not an image"


def _failure_reason(exc: Exception) -> str:
    """Why Pillow failed: metadata over its safety limits, or damaged data."""
    if isinstance(exc, ValueError) and any(limit in str(exc) for limit in _METADATA_LIMITS):
        return "too large metadata (a text chunk over Pillow's safety limit)"
    return "corrupt or truncated image"


def _open(data: bytes, name: str) -> Image.Image:
    """Open (headers only) and check format and size before any pixel is decoded."""
    try:
        image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRejected(f"too many pixels (more than {MAX_PIXELS:,})") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected(_unidentified_reason(data, name)) from exc
    except Exception as exc:  # any Pillow failure on a bad header is a bad file
        raise ImageRejected(_failure_reason(exc)) from exc
    if image.format not in _SUPPORTED_FORMATS:
        raise ImageRejected(f"unsupported image format: {image.format or 'unknown'}")
    _check_pixels(*image.size)
    return image


def _load(image: Image.Image) -> None:
    """Decode every pixel of the current (first) frame, so truncated files fail here."""
    try:
        image.load()
    except Exception as exc:  # Pillow raises many types for damaged pixel data
        raise ImageRejected(_failure_reason(exc)) from exc


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1..8); broken EXIF counts as upright rather than losing the photo."""
    try:
        return int(image.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:  # a damaged EXIF block must not reject otherwise good pixels
        return 1


def _apply_orientation(image: Image.Image) -> Image.Image:
    """Rotate/flip the pixels so the image displays upright without its EXIF tag."""
    method = _ORIENTATION_TRANSPOSE.get(_orientation(image))
    return image if method is None else image.transpose(method)


def _identify(data: bytes, name: str) -> formats.ImageFormat | None:
    """Refuse an empty or oversized file; the format it is in, its Pillow plugin enabled."""
    if not data:
        raise ImageRejected("empty file")
    check_file_size(len(data))
    found = formats.identify(data, name)
    if found is not None and found.decode is None:
        found.enable()
    return found


def screen_image(data: bytes, name: str = "image") -> None:
    """Refuse what :func:`decode_image` would refuse from the file's headers alone.

    No pixel is decoded, so indexing can turn away a file that is not an image (a captions
    CSV, a README beside the photos) before it loads any model for it.
    """
    found = _identify(data, name)
    if found is None or found.decode is None:
        _open(data, name).close()


def open_headers(data: bytes, name: str = "image") -> Image.Image:
    """The file opened by Pillow with no pixel decoded, to read its metadata (a context
    manager: close it). Raises :class:`ImageRejected` as :func:`screen_image` would."""
    _identify(data, name)
    return _open(data, name)


def decode_image(data: bytes, name: str = "image") -> DecodedImage:
    """Validate and decode one image file's bytes into an upright RGB image.

    ``name`` (a file name) only sharpens the rejection reason for formats Pillow cannot
    read. Raises :class:`ImageRejected` for empty, oversized, unreadable, truncated or
    unsupported files.
    """
    found = _identify(data, name)
    if found is not None and found.decode is not None:
        own = found.decode(data, MAX_PIXELS)
        return DecodedImage(
            own.image, own.width, own.height, found.name, own.details, own.aliases, found.stored_as
        )
    with _open(data, name) as opened:
        width, height = opened.size
        # JPEG draft mode: libjpeg scales by 1/2, 1/4 or 1/8 while decoding, never below
        # MODEL_MAX_SIDE on either side, so big photos decode several times faster and
        # everything made from them (model input, thumbnail) looks the same.
        opened.draft(None, (MODEL_MAX_SIDE, MODEL_MAX_SIDE))
        _load(opened)
        if _orientation(opened) in _SWAPS_SIDES:
            width, height = height, width
        upright = _apply_orientation(opened)
        file_format = str(opened.format)
        details = exif_details(opened)
        try:
            rgb = to_rgb(upright)
        except ValueError as exc:  # Pillow has no conversion for an exotic pixel mode
            raise ImageRejected(f"unsupported pixel format: {upright.mode}") from exc
    file_format = _FORMAT_ALIASES.get(file_format, file_format)
    opened_as = formats.named(file_format)
    stored_as = opened_as.stored_as if opened_as is not None else None
    return DecodedImage(rgb, width, height, file_format, details, stored_as=stored_as)


def load_image(source: str | Path | bytes | Image.Image) -> Image.Image:
    """An RGB image from a path, file bytes or a PIL image, normalised like indexed images.

    Used for query images and stored copies. Paths and bytes are validated by
    :func:`decode_image`; a failure for a path names the file. A PIL image is only
    converted with :func:`to_rgb`.
    """
    if isinstance(source, Image.Image):
        return to_rgb(source)
    if isinstance(source, bytes):
        return decode_image(source).image
    path = Path(source)
    try:
        return decode_image(read_file(path), path.name).image
    except ImageRejected as exc:
        raise ImageRejected(f"Cannot use image {path}: {exc.reason}.") from exc


def _flatten_on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    background = Image.new("RGBA", rgba.size, _WHITE)
    return Image.alpha_composite(background, rgba).convert("RGB")


def _grey_array_to_rgb(values: np.ndarray) -> Image.Image:
    grey = np.clip(np.rint(values), 0, 255).astype(np.uint8)
    return Image.fromarray(grey).convert("RGB")


def _integer_to_rgb(image: Image.Image) -> Image.Image:
    """16-bit (and 32-bit integer) greyscale, read as a 0..65535 range, scaled to 8 bit."""
    return _grey_array_to_rgb(np.asarray(image, dtype=np.float64) / 257.0)


def _float_to_rgb(image: Image.Image) -> Image.Image:
    """Float greyscale: 0..1 data scaled by 255, any other range stretched to 0..255."""
    values = np.nan_to_num(np.asarray(image, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    if low >= 0.0 and high <= 1.0:
        return _grey_array_to_rgb(values * 255.0)
    span = high - low
    return _grey_array_to_rgb((values - low) * (255.0 / span) if span else values * 0.0)


def _has_alpha(image: Image.Image) -> bool:
    keyed = image.mode in _KEYED_TRANSPARENCY_MODES and "transparency" in image.info
    return image.mode in _ALPHA_MODES or keyed


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow pixel mode as 8-bit RGB: alpha composited on white, 16-bit scaled, not clipped.

    Models and thumbnails expect RGB; compositing on white keeps transparent logos and
    icons readable instead of turning their background black. Returns ``image`` itself
    when it already is plain RGB.
    """
    if _has_alpha(image):
        return _flatten_on_white(image)
    if image.mode == "RGB":
        return image
    if image.mode in _INTEGER_MODES:
        return _integer_to_rgb(image)
    if image.mode == "F":
        return _float_to_rgb(image)
    return image.convert("RGB")


#: The filter that bounds images for the models (:func:`fit_for_models`): Lanczos, kept so
#: that stored vectors do not move.
MODEL_RESAMPLE = Image.Resampling.LANCZOS


def _fitted_size(width: int, height: int, size: int) -> tuple[int, int]:
    """The size of a ``width`` x ``height`` image shrunk to fit ``size`` x ``size``, aspect
    ratio kept (each side at least 1 pixel); the size itself when it already fits."""
    scale = size / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink_bicubic(image: Image.Image, width: int, height: int) -> Image.Image:
    """An antialiased bicubic shrink of an RGB image.

    Where torch is already loaded (a torch model is indexing beside it), torch's vectorised
    8-bit kernel makes it in a third of Pillow's CPU, pixels within one level of Pillow's
    (bench/README.md, "Thumbnails on torch's resize"); elsewhere (a model on exported
    graphs, a light command) Pillow's ``resize``, since importing torch for it would cost
    more than every thumbnail of an upload.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return image.resize((width, height), Image.Resampling.BICUBIC)
    pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1).unsqueeze(0)
    with torch.inference_mode():
        shrunk = torch.nn.functional.interpolate(
            pixels, size=(height, width), mode="bicubic", antialias=True
        )
    return Image.fromarray(np.ascontiguousarray(shrunk[0].permute(1, 2, 0).numpy()))


def make_thumbnail(image: Image.Image, size: int = 384) -> Image.Image:
    """An RGB copy that fits in ``size`` x ``size`` with the aspect ratio kept; never upscaled.

    Bicubic: thumbnails are only shown, and at their size it cannot be told from Lanczos
    (bench/README.md, "Thumbnail filter").
    """
    if size < 1:
        raise ValueError(f"thumbnail size must be positive, got {size}")
    rgb = to_rgb(image)
    width, height = _fitted_size(*rgb.size, size)
    if (width, height) == rgb.size:
        return rgb.copy() if rgb is image else rgb
    # As Pillow's thumbnail does: first a box reduction by whole factors that keeps the image
    # at least twice the target, so the filter's cost does not grow with the input's size.
    factors = (max(1, rgb.width // (2 * width)), max(1, rgb.height // (2 * height)))
    reduced = rgb.reduce(factors) if max(factors) > 1 else rgb
    return _shrink_bicubic(reduced, width, height)


def fit_for_models(image: Image.Image) -> Image.Image:
    """A copy whose long side is at most :data:`MODEL_MAX_SIDE`, for embedding and reranking.

    Models resize to a few hundred pixels anyway; bounding what is held in memory keeps a
    batch of phone photos (24 MP each) from taking gigabytes. Indexed and query images get
    the same treatment, so an image still finds itself. An RGB image that already fits is
    returned as it is, not copied.
    """
    rgb = to_rgb(image)
    if max(rgb.size) <= MODEL_MAX_SIDE:
        return rgb
    bounded = rgb.copy() if rgb is image else rgb
    bounded.thumbnail((MODEL_MAX_SIDE, MODEL_MAX_SIDE), MODEL_RESAMPLE)
    return bounded
