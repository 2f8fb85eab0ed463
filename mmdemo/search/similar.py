"""Find similar: search with one item's own image, leaving that item out of the results.

The item itself always scores best against its own image, so listing it as #1 says nothing.
It is searched one deeper and then dropped; ranks (and ranks before reranking) close up.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from mmdemo.search.engine import SearchResults


def without_item(results: SearchResults, item_id: str, top_k: int) -> SearchResults:
    """``results`` with ``item_id`` removed and the rest re-ranked from 1, at most ``top_k``."""
    table = results.table
    dropped = table[table["id"] == item_id]
    kept = table[table["id"] != item_id].head(top_k).copy()
    kept["rank"] = range(1, len(kept) + 1)
    if not dropped.empty and kept["rank_before_rerank"].notna().any():
        gone = dropped["rank_before_rerank"].iloc[0]
        if pd.notna(gone):
            before = kept["rank_before_rerank"]
            kept["rank_before_rerank"] = before.where(before < gone, before - 1)
    return replace(results, table=kept.reset_index(drop=True))
