"""PDF documents -> one item per page: rendered with pypdfium2, captioned by its text layer.

A page becomes a PNG rendered at :data:`RENDER_LONG_SIDE` pixels on its long side (sharp
enough to read in the lightbox, small enough for models and thumbnails), which then goes
through the one image decoder like any other image. The page's text layer, when it has
one, becomes the caption. Pages are rendered lazily, one at a time, when the indexer reads
them; a document past the page limit (``Limits.pdf_pages``) is indexed up to it and the
rest is reported. Encrypted and unreadable documents are rejected with the reason.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any

from mmdemo.config import Limits
from mmdemo.errors import ImageRejected
from mmdemo.ingest.entries import Rejection, SourceItem

#: The long side of a rendered page in pixels (about 190 dpi for A4 or US Letter).
RENDER_LONG_SIDE = 1600
#: Never render above 300 dpi: a postage-stamp page stays small instead of blowing up.
_MAX_SCALE = 300 / 72
PDF_SIGNATURE = b"%PDF-"
# pdfium is not thread-safe: every call into it, from any ingest thread, holds this lock.
_PDFIUM = threading.Lock()
# pdfium's error codes (FPDF_ERR_*) that deserve their own reason.
_PASSWORD_ERROR = 4
_SECURITY_ERROR = 6

Document = Path | bytes


def looks_like_pdf(path: Path) -> bool:
    """Whether ``path`` is a PDF, by extension or by its first bytes."""
    if path.suffix.lower() == ".pdf":
        return True
    try:
        with path.open("rb") as handle:
            return handle.read(len(PDF_SIGNATURE)) == PDF_SIGNATURE
    except OSError:
        return False  # reading it later reports the problem against the file itself


def _open(document: Document) -> Any:
    """The pypdfium2 document; call with :data:`_PDFIUM` held. Raises ImageRejected."""
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(str(document) if isinstance(document, Path) else document)
    except pdfium.PdfiumError as exc:
        if exc.err_code in (_PASSWORD_ERROR, _SECURITY_ERROR):
            raise ImageRejected("encrypted PDF (it needs a password)") from exc
        raise ImageRejected("corrupt or unreadable PDF") from exc
    except OSError as exc:
        raise ImageRejected(f"cannot read file ({exc.strerror or exc})") from exc


def _page_count(document: Document) -> int:
    with _PDFIUM:
        pdf = _open(document)
        try:
            return len(pdf)
        finally:
            pdf.close()


def _render(document: Document, index: int) -> bytes:
    """Page ``index`` as PNG bytes, its long side :data:`RENDER_LONG_SIDE` pixels."""
    import pypdfium2 as pdfium

    with _PDFIUM:
        pdf = _open(document)
        try:
            page = pdf[index]
            scale = min(_MAX_SCALE, RENDER_LONG_SIDE / max(*page.get_size(), 1.0))
            image = page.render(scale=scale).to_pil().copy()
        except pdfium.PdfiumError as exc:
            raise ImageRejected("PDF page cannot be rendered") from exc
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


def _text(document: Document, name: str, index: int, limits: Limits) -> dict[str, Any]:
    """The document's name, the page number and, when the page has a text layer, its text
    as the caption.

    Whitespace is collapsed and the text cut at ``limits.caption_chars`` on a word boundary.
    """
    import pypdfium2 as pdfium

    with _PDFIUM:
        pdf = _open(document)
        try:
            text = pdf[index].get_textpage().get_text_bounded()
        except pdfium.PdfiumError:
            text = ""
        finally:
            pdf.close()
    details: dict[str, Any] = {"document": name, "page": index + 1}
    words = " ".join(text.split())
    if len(words) > limits.caption_chars:
        words = words[: limits.caption_chars].rsplit(" ", 1)[0]
    if words:
        details["caption"] = words
    return details


def page_name(name: str, page: int) -> str:
    """How a page is named wherever it is shown: "report.pdf p. 3"."""
    return f"{name} p. {page}"


def iter_pages(
    document: Document, name: str, origin: str, limits: Limits
) -> Iterator[SourceItem | Rejection]:
    """One item per page of a PDF (``document``: a path, or the bytes of an archive member).

    ``name`` is the PDF's file name; each page is named after it, "report.pdf p. 3", which
    is how results show it and how a captions CSV row names it. Pages past
    ``limits.pdf_pages`` come out as one rejection naming them.
    """
    try:
        pages = _page_count(document)
    except ImageRejected as exc:
        yield Rejection(origin, exc.reason)
        return
    if pages == 0:
        yield Rejection(origin, "PDF has no pages")
        return
    kept = min(pages, limits.pdf_pages)
    for index in range(kept):
        yield SourceItem(
            page_name(name, index + 1),
            f"{origin}#page={index + 1}",
            "pdf",
            partial(_render, document, index),
            partial(_text, document, name, index, limits),
        )
    if pages > kept:
        yield Rejection(
            f"{origin}#page={kept + 1}-{pages}",
            f"past the limit of {limits.pdf_pages:,} pages per PDF (MMDEMO_MAX_PDF_PAGES)",
        )
