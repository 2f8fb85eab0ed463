"""What the Search tab renders: the results grid (with its lightbox script), the example row,
and the panels shown instead of results. Layout and markup only; the decisions (cutoff,
examples, movement) are the library's.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mmdemo.config import Settings
from mmdemo.present.grid import render_message, render_results
from mmdemo.search.query import Query
from mmdemo.ui.media import pictures

if TYPE_CHECKING:
    from mmdemo.search.engine import SearchResults

WAITING_HTML = render_message(
    "Getting the demo ready…",
    "Results appear here as soon as the collection is indexed.",
    "waiting",
)
EMPTY_QUERY_HTML = render_message(
    "Type a query or pick an example.",
    "The results for this collection appear here.",
    "empty",
)
FAILED_HTML = render_message(
    "This search did not run.",
    "The message at the top right says why; change the query or the set-up and search again.",
    "error",
)

#: Opens a card in the lightbox, closes it (button, backdrop, Escape), and asks the server
#: to find similar images. Only markup rendered (and escaped) by the server is moved around.
GRID_JS = """
const box = () => element.querySelector('.mm-lightbox');
const close = () => { const b = box(); if (b) { b.hidden = true; } };
const open = (card) => {
  const b = box(); if (!b) return;
  const body = b.querySelector('.mm-lb-body');
  body.innerHTML = card.querySelector('.mm-detail').innerHTML;
  body.querySelectorAll('img[data-src]').forEach((img) => { img.src = img.dataset.src; });
  b.hidden = false;
  b.querySelector('.mm-close').focus();
};
element.addEventListener('click', (event) => {
  const similar = event.target.closest('.mm-similar');
  if (similar) { close(); trigger('select', {index: Number(similar.dataset.index)}); return; }
  if (event.target.closest('.mm-close') || event.target.classList.contains('mm-lightbox')) {
    close(); return;
  }
  const card = event.target.closest('.mm-card');
  if (card && !event.target.closest('.mm-lightbox')) open(card);
});
element.addEventListener('keydown', (event) => { if (event.key === 'Escape') close(); });
"""
#: Asks the server to run the clicked example.
EXAMPLES_JS = """
element.addEventListener('click', (event) => {
  const button = event.target.closest('button[data-index]');
  if (button) trigger('select', {index: Number(button.dataset.index)});
});
"""
CSS = """
.mm-grid { list-style: none; margin: 0; padding: 0; display: grid; gap: 12px;
  grid-template-columns: repeat(auto-fill, minmax(180px, 1fr)); }
.mm-card { margin: 0; border-radius: 8px; overflow: hidden;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-secondary); }
.mm-open { display: block; width: 100%; padding: 0; border: none; background: none;
  cursor: zoom-in; }
.mm-open:focus-visible { outline: 3px solid var(--color-accent); outline-offset: -3px; }
.mm-open > img { display: block; width: 100%; aspect-ratio: 1 / 1; object-fit: cover; }
.mm-badge { display: block; padding: 2px 8px; font-size: 0.8em; font-variant-numeric: tabular-nums;
  color: var(--body-text-color); }
.mm-badge meter { width: 4em; height: 0.8em; vertical-align: baseline; }
.mm-line { display: block; color: var(--body-text-color-subdued); }
.mm-weak .mm-open > img { opacity: 0.55; filter: grayscale(0.8); }
.mm-weaker { margin-top: 12px; }
.mm-weaker > summary { cursor: pointer; margin-bottom: 8px; }
.mm-note { font-weight: 600; }
.mm-legend { font-size: 0.85em; color: var(--body-text-color); margin-top: 8px; }
.mm-message { padding: 16px; border: 1px dashed var(--border-color-primary); border-radius: 8px; }
.mm-lightbox { position: fixed; inset: 0; z-index: 1000; background: rgba(0, 0, 0, 0.8);
  display: flex; align-items: center; justify-content: center; padding: 16px; }
.mm-lightbox[hidden] { display: none; }
.mm-lb-body { background: var(--background-fill-primary); color: var(--body-text-color);
  border-radius: 8px; padding: 16px; max-width: min(900px, 100%); max-height: 100%;
  overflow: auto; }
.mm-lb-body img { display: block; max-width: 100%; max-height: 65vh; margin: 0 auto 8px; }
.mm-lb-body dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.mm-lb-body dt { font-weight: 600; }
.mm-lb-body dd { margin: 0; overflow-wrap: anywhere; }
.mm-close { position: absolute; top: 12px; right: 16px; font-size: 1.5em; color: #fff;
  background: none; border: none; cursor: pointer; }
.mm-examples { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
.mm-examples button { border: 1px solid var(--border-color-primary); border-radius: 999px;
  padding: 4px 12px; font-size: 0.9em; font-weight: 400;
  background: var(--background-fill-secondary); color: var(--body-text-color);
  cursor: pointer; }
#search-query-row button { align-self: end; }
@media (max-width: 480px) {
  .mm-grid { grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 8px; }
  /* One line of example chips that scrolls sideways: the results stay on the first screen. */
  .mm-examples { flex-wrap: nowrap; overflow-x: auto; padding-bottom: 4px; }
  .mm-examples button { flex: 0 0 auto; white-space: nowrap; }
  /* The collection beside the Search button, the two folds side by side. */
  #search-query-row > #search-coll-column { flex: 3 1 150px; min-width: 0; }
  #search-query-row > #search-button { flex: 1 1 80px; }
  #search-folds > * { flex: 1 1 140px; min-width: 0; }
  #search-folds > *:has(.label-wrap.open) { flex-basis: 100%; }
}
"""


def results_html(results: SearchResults, query: Query, settings: Settings) -> str:
    """The grid of one search, or a panel saying why nothing came back and what to try."""
    rows = results.rows
    if not rows:
        return render_message("0 results.", _empty_reason(query), "empty")
    return render_results(
        rows,
        shown_image(settings),
        reranked=results.reranker is not None,
        calibrated=results.calibrated,
    )


def shown_image(settings: Settings) -> Callable[[dict[str, Any]], tuple[str, str]]:
    """For a result row, the URLs of the pictures a card shows: its thumbnail (else the
    image), and the image itself in the lightbox."""

    def urls_of(row: dict[str, Any]) -> tuple[str, str]:
        return pictures(settings, row)

    return urls_of


def failed_html(message: str) -> str:
    """The results panel of a search that could not run, with its reason."""
    return render_message("This search could not run.", message, "error")


def _empty_reason(query: Query) -> str:
    if query.caption_contains:
        return (
            f"No image's caption contains “{query.caption_contains}”. "
            "Clear “Caption contains” under More options, or try another word."
        )
    return "This collection has no images for this model yet: add some in the Collections tab."


def examples_html(examples: list[dict[str, Any]]) -> str:
    """The row of example query buttons (``label`` and ``kind`` of each example)."""
    buttons = "".join(
        f'<button type="button" data-index="{i}" title="{html.escape(e["kind"])} query">'
        f"{html.escape(e['label'])}</button>"
        for i, e in enumerate(examples)
    )
    return f'<div class="mm-examples"><span>Try:</span>{buttons}</div>' if buttons else ""
