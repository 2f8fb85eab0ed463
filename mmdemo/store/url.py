"""The Chroma server URL (``--chroma-url`` / ``MMDEMO_CHROMA_URL``) parsed into what a
client connects with."""

from __future__ import annotations

from urllib.parse import urlsplit

from mmdemo.errors import InputError


def parse_url(url: str) -> tuple[str, int, bool]:
    """Host, port and whether to use TLS, from an http(s) URL."""
    invalid = InputError(f"Chroma URL {url!r} is not valid: use http://HOST:PORT.")
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise invalid from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise invalid
    ssl = parts.scheme == "https"
    return parts.hostname, port or (443 if ssl else 8000), ssl
