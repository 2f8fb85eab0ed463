"""Dense + lexical fusion on the shop and documents demos: which fusion, which weight.

Sets ``LEXICAL_WEIGHT`` in ``mmdemo/search/lexical_fusion.py``.

Every dev query (bench/lexical_data.py) is searched densely as the app does today (lite,
captions counting at their default weight, no lexical part; and by image alone, as where
captions are not embedded) over the whole collection, and
its words looked up in the collection's lexical index (BM25). Three ways of fusing the two
are compared at several weights, on the dev split only:

- ``rrf``: weighted reciprocal-rank fusion, k = 60;
- ``bm25``: score fusion, (1 - w) x cosine + w x BM25 / the query's best BM25 (the app's
  :func:`mmdemo.search.lexical_fusion.fuse_scores`);
- ``coverage``: (1 - w) x cosine + w x the share of query words an item holds.

Exact-term queries are scored by R@1, descriptive ones by nDCG@10. The chosen set-up is then
run end to end through :func:`mmdemo.search.engine.search` on dev and test, against
dense-only, and, on the Tux Paint splits (no captions), against today's results.

    python -m bench.lexical_fusion --demos assets/demos --share-dir /usr/share
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from bench.lexical_data import LexicalQuery, document_queries, index_demos, shop_queries
from mmdemo.config import Settings
from mmdemo.evaluate.metrics import ndcg_at_k
from mmdemo.search.engine import search
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT, fuse_scores
from mmdemo.search.query import Query
from mmdemo.store import Store
from mmdemo.text.persist import lexical_index
from mmdemo.text.words import parse_query

MODEL = "lite"
WEIGHTS = {
    "rrf": (0.3, 0.5, 0.7, 0.8, 0.9),
    "bm25": (0.1, 0.2, 0.3, 0.4, 0.5, 0.7),
    "coverage": (0.1, 0.2, 0.3, 0.4, 0.5, 0.7),
}
Scored = tuple[dict[str, float], dict[str, float], dict[str, float]]  # dense, bm25, coverage


def scored(store: Store, settings: Settings, query: LexicalQuery, caption_weight: float) -> Scored:
    """Dense similarity of every item (by file name) at ``caption_weight``, and the BM25
    score and word coverage of every item whose text matched."""
    size = max(store.models(query.collection).values())
    dense = search(
        Query(text=query.text, caption_weight=caption_weight, lexical_weight=0.0),
        collection=query.collection,
        model=MODEL,
        settings=settings,
        store=store,
        top_k=size,
    )
    similarity = {row["file_name"]: float(row["similarity"]) for row in dense.rows}
    index = lexical_index(store, query.collection)
    name = {
        item_id: str(meta.get("file_name"))
        for item_id, meta in zip(index.ids, index.metadata, strict=True)
    }
    found = index.search(parse_query(query.text), size).hits
    bm25 = {name[hit.id]: hit.score for hit in found}
    coverage = {name[hit.id]: hit.coverage for hit in found}
    return similarity, bm25, coverage


def rrf(dense: dict[str, float], bm25: dict[str, float], weight: float, k: int = 60) -> list[str]:
    """Weighted reciprocal-rank fusion: ``(1 - w) / (k + dense rank) + w / (k + BM25
    rank)``, the second part only for items whose text matched; ties by the cosine."""
    dense_order = sorted(dense, key=lambda f: (-dense[f], f))
    fused = {f: (1.0 - weight) / (k + rank) for rank, f in enumerate(dense_order, start=1)}
    lexical_order = sorted(bm25, key=lambda f: (-bm25[f], f))
    for rank, f in enumerate((f for f in lexical_order if f in dense), start=1):
        fused[f] += weight / (k + rank)
    return sorted(fused, key=lambda f: (-fused[f], -dense[f], f))


def fused_order(method: str, weight: float, scores: Scored) -> list[str]:
    """File names in fused order under one method and weight (``bm25`` is the app's own
    :func:`mmdemo.search.lexical_fusion.fuse_scores`)."""
    dense, bm25, coverage = scores
    if method == "rrf":
        return rrf(dense, bm25, weight)
    return fuse_scores(dense, coverage if method == "coverage" else bm25, weight)


def metric(query: LexicalQuery, order: Sequence[str]) -> float:
    """R@1 for exact-term queries (whether the top result is one the query names: a brand
    names many products, any of which answers it), nDCG@10 for descriptive ones."""
    if query.exact:
        return float(bool(order) and order[0] in query.relevant)
    return ndcg_at_k(order, query.relevant, 10)


def table(
    queries: list[LexicalQuery], order_of: Callable[[LexicalQuery], Sequence[str]]
) -> dict[str, float]:
    """Mean metric per group: exact-term (R@1) and descriptive (nDCG@10) queries."""
    groups: dict[str, list[float]] = {"exact R@1": [], "described nDCG@10": []}
    for query in queries:
        key = "exact R@1" if query.exact else "described nDCG@10"
        groups[key].append(metric(query, order_of(query)))
    return {key: round(sum(v) / len(v), 4) for key, v in groups.items() if v}


def choose(queries: list[LexicalQuery], scores: dict[LexicalQuery, Scored]) -> list[dict[str, Any]]:
    """Every method x weight on the dev queries, with the dense-only baseline first."""
    rows = [
        {
            "method": "dense only",
            "weight": 0.0,
            **table(queries, lambda q: fused_order("rrf", 0.0, scores[q])),
        }
    ]
    for method, weights in WEIGHTS.items():
        for weight in weights:
            rows.append(
                {
                    "method": method,
                    "weight": weight,
                    **table(queries, partial(_order, method, weight, scores)),
                }
            )
    return rows


def _order(
    method: str, weight: float, scores: dict[LexicalQuery, Scored], query: LexicalQuery
) -> list[str]:
    return fused_order(method, weight, scores[query])


def end_to_end(
    store: Store, settings: Settings, queries: list[LexicalQuery], weight: float
) -> dict[str, float]:
    """The app's own search (top 10) at a lexical weight."""

    def order(query: LexicalQuery) -> list[str]:
        found = search(
            Query(text=query.text, lexical_weight=weight),
            collection=query.collection,
            model=MODEL,
            settings=settings,
            store=store,
        )
        return [str(row["file_name"]) for row in found.rows]

    return table(queries, order)


def uncaptioned(share_dir: Path, settings: Settings) -> dict[str, Any]:
    """On each Tux Paint split indexed without captions: how many caption queries' results
    (ids and similarities, top 10) differ between the default lexical weight and none."""
    from bench.offline_data import tux_items
    from mmdemo.ingest.indexer import index_paths

    store = Store(settings)
    found: dict[str, Any] = {}
    for split in ("train", "dev", "test"):
        items = tux_items(share_dir, split)
        index_paths(
            [str(i.path) for i in items],
            collection=f"tux-{split}",
            models=[MODEL],
            settings=settings,
            store=store,
        )
        captions = sorted({i.caption for i in items})

        def rows(text: str, weight: float, split: str = split) -> list[tuple[str, float]]:
            result = search(
                Query(text=text, lexical_weight=weight),
                collection=f"tux-{split}",
                model=MODEL,
                settings=settings,
                store=store,
            )
            return [(r["id"], r["similarity"]) for r in result.rows]

        differ = sum(rows(c, LEXICAL_WEIGHT) != rows(c, 0.0) for c in captions)
        found[split] = {"queries": len(captions), "results differ": differ}
    return found


def main() -> None:
    """Prints the dev table, the chosen set-up end to end on dev and test, and the
    uncaptioned check; writes all of it to ``--out`` as JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demos", type=Path, default=Path("assets/demos"))
    parser.add_argument("--share-dir", type=Path, help="usr/share holding tuxpaint/")
    parser.add_argument("--data-dir", type=Path, help="reuse an index (default: a temp dir)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="lexical-bench-"))
    settings = Settings.from_env(data_dir=data_dir, device="cpu")
    store = index_demos(args.demos, settings, MODEL)
    queries = shop_queries(args.demos) + document_queries(args.demos)
    dev = [q for q in queries if q.split == "dev"]
    test = [q for q in queries if q.split == "test"]
    print(f"{len(dev)} dev / {len(test)} test queries ({sum(q.exact for q in queries)} exact-term)")
    report: dict[str, Any] = {}
    for caption_weight in (CAPTION_WEIGHT, 0.0):
        scores = {q: scored(store, settings, q, caption_weight) for q in dev}
        key = f"dev, caption weight {caption_weight}"
        report[key] = choose(dev, scores)
        print(key)
        for row in report[key]:
            print(row)
    for split, chosen in (("dev", dev), ("test", test)):
        report[f"{split} end to end"] = {
            "dense only": end_to_end(store, settings, chosen, 0.0),
            f"default ({LEXICAL_WEIGHT})": end_to_end(store, settings, chosen, LEXICAL_WEIGHT),
        }
        print(split, report[f"{split} end to end"])
    if args.share_dir:
        report["uncaptioned"] = uncaptioned(args.share_dir, settings)
        print("uncaptioned", report["uncaptioned"])
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
