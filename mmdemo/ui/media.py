"""Stored images on the page: unforgeable URLs, served by a route of the app's own.

The data dir is none of gradio's allowed paths: through ``/gradio_api/file=`` anyone could
fetch any stored copy by its content hash, and so learn whether an image is stored here,
and the page would carry the data dir's absolute path. Instead, each image copy or
thumbnail the page shows gets a URL signed with a secret of this process
(``/mmdemo-media/<kind>/<name>?s=<signature>``). A URL is issued only in the answer to a
session that may see the item, and the route serves a file only for a valid signature:
a forged or guessed URL gets 403, whether or not the file exists, and a URL names no
server path.
"""

from __future__ import annotations

import hashlib
import hmac
import mimetypes
import re
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mmdemo.config import Settings
from mmdemo.ingest.copies import thumb_path

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

#: Where the route serves stored images.
ROUTE = "/mmdemo-media"
#: Signs this process's URLs; a restart makes old pages reload their images' URLs.
_SECRET = secrets.token_bytes(32)
#: Stored file names are a content hash and an extension (mmdemo/ingest/copies.py).
_NAME = re.compile(r"[0-9a-f]{16,128}\.[a-z0-9]{2,5}")
#: A copy is named by its content: what a URL serves never changes.
_CACHE = "private, max-age=86400, immutable"


def _folders(settings: Settings) -> dict[str, Path]:
    from mmdemo.present.map_atlas import atlas_folder

    return {
        "image": settings.images_dir,
        "thumb": settings.thumbs_dir,
        "atlas": atlas_folder(settings),
    }


def _signature(kind: str, name: str) -> str:
    message = f"{kind}/{name}".encode()
    return hmac.new(_SECRET, message, hashlib.sha256).hexdigest()[:32]


def _url(kind: str, name: str) -> str:
    return f"{ROUTE}/{kind}/{name}?s={_signature(kind, name)}"


def thumb_url(settings: Settings, item_id: str) -> str:
    """The page's URL of an item's thumbnail."""
    return _url("thumb", thumb_path(settings, item_id).name)


def atlas_url(path: Path) -> str:
    """The page's URL of a map's thumbnail atlas (:mod:`mmdemo.present.map_atlas`)."""
    return _url("atlas", path.name)


def pictures(settings: Settings, row: dict[str, Any]) -> tuple[str, str]:
    """The URLs of a result row's pictures: its thumbnail (else its image), and its image."""
    image = _url("image", Path(row["path"]).name)
    thumb = thumb_path(settings, str(row["id"]))
    return (_url("thumb", thumb.name) if thumb.exists() else image), image


def with_urls(settings: Settings, row: dict[str, Any]) -> dict[str, Any]:
    """A result row for an API caller: its pictures' signed URLs (``thumb_url`` and
    ``image_url``, relative to the app) in place of the server-side ``path``."""
    thumb, image = pictures(settings, row)
    return {k: v for k, v in row.items() if k != "path"} | {"thumb_url": thumb, "image_url": image}


def request_origin(request: Any) -> str:
    """The app's address as a caller of ``request`` (a ``gr.Request``) reaches it, e.g.
    ``https://owner-space.hf.space``: the proxy's forwarded host and scheme, else the Host
    header; "" when there is no request."""
    headers = {k.lower(): v for k, v in dict(getattr(request, "headers", None) or {}).items()}
    host = str(headers.get("x-forwarded-host") or headers.get("host") or "").split(",")[0]
    scheme = str(headers.get("x-forwarded-proto") or "http").split(",")[0].strip()
    return f"{scheme}://{host.strip()}" if host.strip() else ""


def absolute_urls(value: Any, origin: str) -> Any:
    """``value`` (an API answer) with every signed picture URL in it prefixed by ``origin``,
    so that an API or MCP caller can fetch the picture as given."""
    if not origin:
        return value
    if isinstance(value, dict):
        return {k: absolute_urls(v, origin) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(absolute_urls(v, origin) for v in value)
    if isinstance(value, str) and value.startswith(ROUTE + "/"):
        return origin + value
    return value


def shown_file(settings: Settings, row: dict[str, Any]) -> Path:
    """The picture a result shows: its thumbnail, else the stored image itself."""
    thumb = thumb_path(settings, str(row["id"]))
    return thumb if thumb.exists() else Path(row["path"])


def serve(settings: Settings, kind: str, name: str, signature: str) -> Response:
    """The stored file ``kind``/``name`` for a valid signature; 403 for any other request."""
    from starlette.responses import FileResponse, PlainTextResponse

    folder = _folders(settings).get(kind)
    valid = hmac.compare_digest(signature.encode(), _signature(kind, name).encode())
    path = folder / name if folder is not None and _NAME.fullmatch(name) else None
    if path is None or not valid:
        return PlainTextResponse("Not allowed.", status_code=403)
    if not path.is_file():
        return PlainTextResponse("Not found.", status_code=404)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"Cache-Control": _CACHE, "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=media_type, headers=headers)


def routes(settings: Settings) -> list[Route]:
    """The route serving stored images, for the app's web server (``app_kwargs``)."""
    from starlette.routing import Route

    def endpoint(request: Request) -> Response:
        params = request.path_params
        return serve(settings, params["kind"], params["name"], request.query_params.get("s", ""))

    return [Route(ROUTE + "/{kind}/{name}", endpoint, methods=["GET", "HEAD"])]


def upload_folder() -> Path:
    """Where gradio keeps uploaded files (``GRADIO_TEMP_DIR``, else its temp folder)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder())
