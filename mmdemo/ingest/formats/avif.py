"""AVIF, which Pillow (12.3) reads by itself; browsers show it, so the original is kept
(a re-encoding where GPS is dropped: see :mod:`mmdemo.ingest.formats.scrub`)."""

from __future__ import annotations

from mmdemo.ingest.formats.base import ImageFormat, iso_brands

_BRANDS = frozenset({b"avif", b"avis"})


def _is_avif(data: bytes) -> bool:
    return bool(iso_brands(data) & _BRANDS)


AVIF = ImageFormat("AVIF", frozenset({".avif"}), _is_avif, ".avif", frozenset({"AVIF"}))
