"""Search results as an HTML grid: match bars and words, reranker moves, and a lightbox.

The page renders this with ``gr.HTML``; every caption, file name and metadata value is
passed through :func:`html.escape`, so nothing planted in a collection renders as markup.
Each card holds a hidden detail block that the page's small script shows large (the
lightbox); the badge sits under the thumbnail, never on it.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mmdemo.search.cutoff import FAIR_MATCH, STRONG_MATCH
from mmdemo.search.rows import COLUMNS

#: A result's picture URLs: its thumbnail, and the image the lightbox shows.
Pictures = tuple[str, str]
#: Result fields the lightbox lists, in this order, with their labels (an item's own
#: fields, mmdemo.ingest.metadata.RESULT_FIELDS, where it has them).
DETAIL_FIELDS = (
    ("file_name", "file"),
    ("caption", "caption"),
    ("taken", "taken"),
    ("camera", "camera"),
    ("lens", "lens"),
    ("lat", "latitude"),
    ("lon", "longitude"),
    ("modality", "modality"),
    ("body_part", "body part"),
    ("study_description", "study"),
    ("series_description", "series"),
    ("study_date", "study date"),
    ("manufacturer", "manufacturer"),
    ("frames", "frames"),
    ("ocr_text", "text in the image"),
)
#: Result fields shown their own way (or not at all: the item's id is a 64-character
#: content hash, internal to the store), not listed as extra metadata.
INTERNAL_FIELDS = {*COLUMNS, "id", "strong"}


def legend(reranked: bool, calibrated: bool = True) -> str:
    """The one sentence that explains the bars on the cards."""
    text = (
        "The bar shows how well each result matches, 0-100 %, on the same scale in every "
        f"search (strong from {STRONG_MATCH:.0%}, fair from {FAIR_MATCH:.0%})"
    )
    if not calibrated:
        text += ", only roughly for this model, whose scores were not calibrated here"
    if reranked:
        text += ", and each card says how the reranker moved it"
    return text + "."


@dataclass(frozen=True)
class Card:
    """What one result card shows: its rank, images, match bar and words, and details."""

    rank: int
    thumb_url: str
    image_url: str
    badge: str
    alt: str
    #: Shown in the grid (not a weak match, which is folded away).
    strong: bool
    details: list[tuple[str, str]]
    #: Compare only: the item's id and its colour slot (CSS class ``mm-link-N``), the same
    #: on the other side's card of the same item; ``only``: the other side lacks it.
    item_id: str = ""
    link: int | None = None
    only: bool = False
    #: The match (0..1) the bar shows, and the lines under it (reranker move, words matched).
    match: float | None = None
    lines: tuple[str, ...] = ()
    #: Compare only: the query's known answer (CSS class ``mm-expected``).
    expected: bool = False


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _words(row: dict[str, Any]) -> str:
    matched = row.get("matched") or []
    return "matched: " + ", ".join(str(word) for word in matched) if matched else ""


def card(row: dict[str, Any], pictures: Pictures, strong: bool) -> Card:
    """The card of one result row (a ``SearchResults.rows`` record) showing ``pictures``."""
    rank = int(row["rank"])
    match = _number(row.get("match"))
    rerank = _number(row.get("rerank_score"))
    before = _number(row.get("rank_before_rerank"))
    word = str(row.get("strength") or "")
    shown = f"{match:.0%} {word}".strip() if match is not None else ""
    badge = " · ".join(part for part in (f"#{rank}", shown) if part)
    lines = tuple(part for part in (str(row.get("rerank_move") or ""), _words(row)) if part)
    caption = str(row.get("caption") or "")
    name = str(row.get("file_name") or "")
    alt = f"#{rank} {name}" + (f": {caption}" if caption else "")
    details = [
        (label, str(row[key])) for key, label in DETAIL_FIELDS if row.get(key) not in (None, "")
    ]
    if match is not None:
        details.append(("match", f"{match:.0%} ({word})"))
    similarity = _number(row.get("similarity"))
    if similarity is not None:
        details.append(("similarity", f"{similarity:.4f}"))
    if rerank is not None:
        details.append(("reranker score", f"{rerank:.4f}"))
        details.append(("rank before reranking", f"#{int(before or 0)}"))
    if row.get("matched"):
        details.append(("words matched", ", ".join(map(str, row["matched"]))))
    extra = {
        k: v for k, v in row.items() if k not in INTERNAL_FIELDS and k not in dict(DETAIL_FIELDS)
    }
    details += [(str(k), str(v)) for k, v in extra.items() if v not in (None, "")]
    return Card(rank, *pictures, badge, alt, strong, details, match=match, lines=lines)


def _classes(item: Card) -> str:
    classes = ["mm-card"] + ([] if item.strong else ["mm-weak"])
    if item.link is not None:
        classes += ["mm-linked", f"mm-link-{item.link}"]
    if item.only:
        classes.append("mm-only")
    if item.expected:
        classes.append("mm-expected")
    return " ".join(classes)


def _card_html(index: int, item: Card, similar: bool) -> str:
    e = html.escape
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in item.details)
    linked = f' data-item="{e(item.item_id)}"' if item.item_id else ""
    find = (
        f'<button type="button" class="mm-similar" data-index="{index}">Find similar</button>'
        if similar
        else ""
    )
    return (
        f'<li class="{_classes(item)}" data-index="{index}"{linked}>'
        f'<button type="button" class="mm-open" title="Open details">'
        f'<img src="{e(item.thumb_url)}" alt="{e(item.alt)}" loading="lazy"></button>'
        f"{_badge(item)}"
        f'<div class="mm-detail" hidden><img data-src="{e(item.image_url)}" alt="{e(item.alt)}">'
        f"<dl>{rows}</dl>{find}</div></li>"
    )


def _badge(item: Card) -> str:
    """The badge: rank, match bar and word, then the reranker's move and the words matched."""
    e = html.escape
    meter = (
        f'<meter min="0" max="1" value="{item.match:.3f}">{item.match:.0%}</meter> '
        if item.match is not None
        else ""
    )
    lines = "".join(f'<span class="mm-line">{e(line)}</span>' for line in item.lines)
    label = f'<span class="mm-label">{e(item.badge)}</span>'
    return f'<span class="mm-badge">{meter}{label}{lines}</span>'


def _grid(cards: list[tuple[int, Card]], similar: bool) -> str:
    items = "".join(_card_html(i, c, similar) for i, c in cards)
    return f'<ol class="mm-grid">{items}</ol>'


def render(cards: Sequence[Card], note: str, legend_text: str, *, similar: bool = True) -> str:
    """The grid in rank order; the weak cards after the last strong one sit behind a "show
    weaker matches" toggle (a weak card a reranker lifted above a strong one stays in place,
    greyed, so ranks never jump). ``similar``: each lightbox offers "Find similar"."""
    last_strong = max((i for i, c in enumerate(cards) if c.strong), default=-1)
    numbered = list(enumerate(cards))
    shown, weak = numbered[: last_strong + 1], numbered[last_strong + 1 :]
    parts = [f'<p class="mm-note">{html.escape(note)}</p>'] if note else []
    if shown:
        parts.append(_grid(shown, similar))
    if weak:
        items = _grid(weak, similar)
        if shown:
            label = f"Show {len(weak)} weaker matches"
            items = f'<details class="mm-weaker"><summary>{label}</summary>{items}</details>'
        parts.append(items)
    parts.append(f'<p class="mm-legend">{html.escape(legend_text)}</p>')
    parts.append(
        '<div class="mm-lightbox" hidden role="dialog" aria-modal="true" '
        'aria-label="Result details"><div class="mm-lb-body"></div>'
        '<button type="button" class="mm-close" aria-label="Close">✕</button></div>'
    )
    return '<div class="mm-results" data-state="results">' + "".join(parts) + "</div>"


def render_results(
    rows: Sequence[dict[str, Any]],
    pictures_of: Callable[[dict[str, Any]], Pictures],
    *,
    reranked: bool,
    calibrated: bool = True,
) -> str:
    """The HTML of a results table: cards (weak matches folded away), a note when nothing
    is strong, and the legend."""
    cards = [card(row, pictures_of(row), row.get("strength") != "weak") for row in rows]
    note = ""
    if cards and not any(row.get("strength") == "strong" for row in rows):
        closest = ", ".join(c.details[0][1] for c in cards[:3])
        note = f"No strong matches: the closest are {closest}."
    return render(cards, note, legend(reranked, calibrated))


def render_message(title: str, detail: str, state: str) -> str:
    """A panel in place of results: an empty result or an error, with what to do next."""
    e = html.escape
    return (
        f'<div class="mm-results mm-message" data-state="{e(state)}" role="status">'
        f"<p><strong>{e(title)}</strong></p><p>{e(detail)}</p></div>"
    )
