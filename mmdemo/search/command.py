"""``python -m mmdemo search``: its arguments and its printing (the work is in :mod:`engine`)."""

from __future__ import annotations

import argparse
import math
from dataclasses import replace
from typing import Any

from mmdemo.config import Settings
from mmdemo.console import print_json
from mmdemo.errors import TooSlowError
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``search`` sub-command on the CLI's sub-parsers."""
    p = sub.add_parser("search", parents=[common], help="search a collection")
    p.add_argument("--collection", required=True)
    p.add_argument("--text")
    p.add_argument("--image", help="path of a query image")
    p.add_argument("--weight", type=float, default=0.5, help="text weight when both (0..1)")
    p.add_argument("--negative", help="text to steer away from")
    p.add_argument("--negative-weight", type=float, default=0.5)
    p.add_argument("--contains", help="keep only items whose caption contains this")
    p.add_argument(
        "--where",
        help='metadata filter, e.g. "brand=acme and price<10 and color in (red, blue)"',
    )
    p.add_argument(
        "--caption-weight",
        type=float,
        default=CAPTION_WEIGHT,
        help=f"share of caption similarity in text queries (0 = images only; {CAPTION_WEIGHT})",
    )
    p.add_argument(
        "--lexical-weight",
        type=float,
        default=LEXICAL_WEIGHT,
        help="share of exact word matches in captions, page text and metadata (0 = off, "
        f'1 = matching items first; {LEXICAL_WEIGHT}); words in "quotes" must match',
    )
    p.add_argument("--model", help="embedding model (default: one the collection is indexed with)")
    p.add_argument("--rerank", help="reranker model (default: none)")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument("--candidates", type=int, default=20, help="how many to rerank")
    p.add_argument(
        "--yes", action="store_true", help="rerank even when it is expected to exceed the budget"
    )
    p.set_defaults(handler=cmd_search)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    """Search a collection by text, image or both, optionally reranked."""
    from mmdemo.filters import parse_where
    from mmdemo.search.engine import indexed_model, search
    from mmdemo.search.query import Query
    from mmdemo.store import Store

    query = Query(
        text=args.text,
        image=args.image,
        weight=args.weight,
        negative=args.negative,
        negative_weight=args.negative_weight,
        caption_contains=args.contains,
        where=parse_where(args.where),
        caption_weight=args.caption_weight,
        lexical_weight=args.lexical_weight,
    )
    query.validate()
    store = Store(settings, args.runtime)
    model = args.model or indexed_model(store, args.collection)
    if args.yes:
        settings = replace(settings, rerank_budget_s=math.inf)
    try:
        results = search(
            query,
            collection=args.collection,
            model=model,
            settings=settings,
            store=store,
            reranker=args.rerank,
            top_k=args.top_k,
            candidates=args.candidates,
        )
    except TooSlowError as exc:
        raise TooSlowError(f"{exc} Or pass --yes to rerank anyway.") from exc
    if args.json:
        print_json(results.to_json())
        return 0
    columns = ["rank", "file_name", "match", "strength", "similarity", "matched", "caption"]
    if results.reranker:
        columns[5:5] = ["rerank_move"]
    print(_text_table(results.rows, columns) if results.rows else "no results")
    timings = "  ".join(f"{k} {v:.1f} ms" for k, v in results.timings_ms.items())
    print(f"model: {results.model}  reranker: {results.reranker or 'none'}  {timings}")
    for note in results.notes:
        print(f"note: {note}")
    return 0


def _text_table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    """Rows as aligned text columns (numbers right, text left), without importing pandas."""

    def cell(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(map(str, value))
        return "" if value is None else f"{value:.6g}" if isinstance(value, float) else str(value)

    cells = [[cell(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(line[i]) for line in cells)) for i, c in enumerate(columns)]
    numeric = [all(isinstance(row[c], int | float) for row in rows) for c in columns]
    aligned = [
        " ".join(
            v.rjust(w) if n else v.ljust(w) for v, w, n in zip(line, widths, numeric, strict=True)
        )
        for line in [columns, *cells]
    ]
    return "\n".join(line.rstrip() for line in aligned)
