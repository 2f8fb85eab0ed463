"""Find similar: search with one item's own image, leaving that item out of the results.

The item itself always scores best against its own image, so listing it as #1 says nothing.
It is searched one deeper and then dropped; ranks (and ranks before reranking) close up.
"""

from __future__ import annotations

from dataclasses import replace

from mmdemo.search.engine import SearchResults


def without_item(results: SearchResults, item_id: str, top_k: int) -> SearchResults:
    """``results`` with ``item_id`` removed and the rest re-ranked from 1, at most ``top_k``."""
    gone = next((r["rank_before_rerank"] for r in results.rows if r["id"] == item_id), None)
    kept = [r for r in results.rows if r["id"] != item_id][:top_k]
    rows = [
        {**row, "rank": rank, "rank_before_rerank": _closed_up(row["rank_before_rerank"], gone)}
        for rank, row in enumerate(kept, start=1)
    ]
    return replace(results, rows=rows)


def _closed_up(before: int | None, gone: int | None) -> int | None:
    """A rank before reranking once the dropped item's rank ``gone`` is taken out."""
    if before is None or gone is None or before < gone:
        return before
    return before - 1
