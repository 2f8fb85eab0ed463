"""Search results as an HTML grid with score badges, movement arrows and a lightbox.

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
from urllib.parse import quote

#: Where gradio serves an allowed file from.
FILE_ROUTE = "/gradio_api/file="
#: Result fields the lightbox lists, in this order, with their labels.
DETAIL_FIELDS = (("file_name", "file"), ("caption", "caption"), ("id", "id"))
INTERNAL_FIELDS = {"rank", "path", "score", "rerank_score", "rank_before_rerank", "strong"}


def file_url(path: str) -> str:
    """The URL gradio serves a local file under (the file must be in its allowed paths)."""
    return FILE_ROUTE + quote(path)


def movement(rank: int, before: int | None) -> str:
    """How far a reranker moved a result: ``▲3`` up, ``▼2`` down, ``=`` unchanged."""
    if before is None:
        return ""
    shift = before - rank
    if shift == 0:
        return "="
    return f"▲{shift}" if shift > 0 else f"▼{-shift}"


def legend(reranked: bool, cut: float | None, caption_weight: float = 0.0) -> str:
    """One sentence that explains the numbers on the badges (``caption_weight`` > 0 when
    captions counted in the scores: hybrid retrieval)."""
    if reranked:
        text = (
            "Badges show the reranked score (the reranker's judgement fused with the "
            "similarity, standardised over these results: higher is better) and how far "
            "reranking moved each result: ▲ up, ▼ down, = unchanged."
        )
    elif caption_weight > 0:
        text = (
            "Badges show the match score: the query's cosine similarity with the image and "
            f"with its caption, the caption counting {caption_weight:.2f} (higher is closer)."
        )
    else:
        text = "Badges show cosine similarity between query and image (higher is closer)."
    if cut is not None:
        text += f" Strong matches score at least {cut:.2f} similarity."
    return text


@dataclass(frozen=True)
class Card:
    """What one result card shows: its rank, images, badge and description."""

    rank: int
    thumb_url: str
    image_url: str
    badge: str
    alt: str
    strong: bool
    details: list[tuple[str, str]]
    #: Compare only: the item's id and its colour slot (CSS class ``mm-link-N``), the same
    #: on the other side's card of the same item; ``only``: the other side lacks it.
    item_id: str = ""
    link: int | None = None
    only: bool = False


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def card(row: dict[str, Any], thumb: str, strong: bool) -> Card:
    """The card of one result row (a ``SearchResults.rows`` record)."""
    rank = int(row["rank"])
    rerank = _number(row.get("rerank_score"))
    before = _number(row.get("rank_before_rerank"))
    score = rerank if rerank is not None else float(row["score"])
    arrow = movement(rank, int(before)) if before is not None else ""
    badge = " · ".join(part for part in (f"#{rank}", f"{score:.3f}", arrow) if part)
    caption = str(row.get("caption") or "")
    name = str(row.get("file_name") or "")
    alt = f"#{rank} {name}" + (f": {caption}" if caption else "")
    details = [(label, str(row[key])) for key, label in DETAIL_FIELDS if row.get(key)]
    details.append(("similarity", f"{float(row['score']):.4f}"))
    if rerank is not None:
        details.append(("reranker score", f"{rerank:.4f}"))
        details.append(("rank before reranking", f"#{int(before or 0)} ({arrow})"))
    extra = {
        k: v for k, v in row.items() if k not in INTERNAL_FIELDS and k not in dict(DETAIL_FIELDS)
    }
    details += [(str(k), str(v)) for k, v in extra.items() if v not in (None, "")]
    return Card(rank, file_url(thumb), file_url(str(row["path"])), badge, alt, strong, details)


def _classes(item: Card) -> str:
    classes = ["mm-card"] + ([] if item.strong else ["mm-weak"])
    if item.link is not None:
        classes += ["mm-linked", f"mm-link-{item.link}"]
    if item.only:
        classes.append("mm-only")
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
        f'<span class="mm-badge">{e(item.badge)}</span>'
        f'<div class="mm-detail" hidden><img data-src="{e(item.image_url)}" alt="{e(item.alt)}">'
        f"<dl>{rows}</dl>{find}</div></li>"
    )


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
    strong: Sequence[bool],
    thumb_of: Callable[[dict[str, Any]], str],
    *,
    reranked: bool,
    cut: float | None,
    caption_weight: float = 0.0,
) -> str:
    """The HTML of a results table: cards, a note when nothing is strong, and the legend."""
    cards = [card(row, thumb_of(row), ok) for row, ok in zip(rows, strong, strict=True)]
    note = ""
    if cards and not any(strong):
        closest = ", ".join(c.details[0][1] for c in cards[:3])
        note = f"No strong matches: the closest are {closest}."
    return render(cards, note, legend(reranked, cut, caption_weight))


def render_message(title: str, detail: str, state: str) -> str:
    """A panel in place of results: an empty result or an error, with what to do next."""
    e = html.escape
    return (
        f'<div class="mm-results mm-message" data-state="{e(state)}" role="status">'
        f"<p><strong>{e(title)}</strong></p><p>{e(detail)}</p></div>"
    )
