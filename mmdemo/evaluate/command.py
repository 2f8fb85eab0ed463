"""``python -m mmdemo eval | queries | map | duplicates``: arguments and printing.

The work is in the evaluate package's library functions; these commands read their
arguments, call them and print a table, a summary or JSON.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from mmdemo.config import Settings


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``eval``, ``queries``, ``map`` and ``duplicates`` sub-commands."""
    p = sub.add_parser("eval", parents=[common], help="measure retrieval quality")
    p.add_argument("--collection", required=True)
    p.add_argument("--queries", required=True, help="CSV: query and/or query_image, relevant")
    p.add_argument(
        "--model", action="append", help="embedding model (repeatable; default: all indexed)"
    )
    p.add_argument("--rerank", action="append", help="reranker to compare (repeatable)")
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument(
        "--rerank-captions",
        action="store_true",
        help="let rerankers and hybrid retrieval read captions (leaks the answer when "
        "queries are captions)",
    )
    p.add_argument("--out", help="also save the table as a CSV file")
    p.set_defaults(handler=cmd_eval)

    p = sub.add_parser("queries", parents=[common], help="captions CSV -> queries CSV")
    p.add_argument("--captions", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(handler=cmd_queries)

    p = sub.add_parser("map", parents=[common], help="draw a collection's 2-D map")
    p.add_argument("--collection", required=True)
    p.add_argument("--model", help="embedding model (default: one the collection is indexed with)")
    p.add_argument("--out", required=True, help="map.html (interactive) or map.png")
    p.set_defaults(handler=cmd_map)

    p = sub.add_parser("duplicates", parents=[common], help="find near-duplicate images")
    p.add_argument("--collection", required=True)
    p.add_argument("--model", help="embedding model (default: one the collection is indexed with)")
    p.add_argument("--threshold", type=float, help="min cosine similarity (default: measured)")
    p.add_argument("--delete", action="store_true", help="delete all but one of each group")
    p.set_defaults(handler=cmd_duplicates)


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Measure retrieval quality of models x rerankers on a queries CSV."""
    from mmdemo.evaluate.runner import evaluate
    from mmdemo.store import Store

    store = Store(settings)
    table = evaluate(
        collection=args.collection,
        queries_csv=args.queries,
        models=args.model or list(store.models(args.collection)),
        rerankers=args.rerank or [],
        settings=settings,
        store=store,
        top_k=args.top_k,
        rerank_captions=args.rerank_captions,
    )
    if args.out:
        from mmdemo.export import write_csv

        write_csv(table, args.out)
    if args.json:
        _print_json(table.to_dict("records"))
    else:
        print(table.to_string(index=False))
    return 0


def cmd_queries(args: argparse.Namespace, settings: Settings) -> int:
    """Turn a captions CSV into a queries CSV (each caption queries its own image)."""
    from mmdemo.evaluate.runner import captions_to_queries

    count = captions_to_queries(args.captions, args.out)
    if args.json:
        _print_json({"queries": count, "out": args.out})
    else:
        print(f"wrote {count} queries to {args.out}")
    return 0


def cmd_map(args: argparse.Namespace, settings: Settings) -> int:
    """Draw a collection's 2-D map (clusters named by words) as HTML or PNG."""
    from mmdemo.evaluate.collection_map import collection_map
    from mmdemo.evaluate.scatter import map_format, save_map
    from mmdemo.search.engine import indexed_model
    from mmdemo.store import Store

    map_format(args.out)
    store = Store(settings)
    model = args.model or indexed_model(store, args.collection)
    found = collection_map(store, settings, args.collection, model)
    save_map(found, args.out, settings)
    sizes = [sum(p.cluster == i for p in found.points) for i in range(len(found.cluster_names))]
    clusters = [{"name": n, "size": s} for n, s in zip(found.cluster_names, sizes, strict=True)]
    if args.json:
        _print_json({**_map_summary(found), "clusters": clusters, "out": args.out})
        return 0
    print(f"map of {len(found.points)} items ({found.model}) written to {args.out}")
    for cluster in clusters:
        print(f"  {cluster['size']:5}  {cluster['name']}")
    return 0


def _map_summary(found: Any) -> dict[str, Any]:
    return {
        "collection": found.collection,
        "model": found.model,
        "version": found.version,
        "points": len(found.points),
    }


def cmd_duplicates(args: argparse.Namespace, settings: Settings) -> int:
    """List groups of near-duplicate images; optionally delete all but one of each."""
    from mmdemo.evaluate.duplicates import (
        DEFAULT_THRESHOLD,
        describe,
        extra_ids,
        find_duplicates,
    )
    from mmdemo.manage import delete_items
    from mmdemo.search.engine import indexed_model
    from mmdemo.store import Store

    store = Store(settings)
    model = args.model or indexed_model(store, args.collection)
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    groups = find_duplicates(store, args.collection, model, threshold)
    described = describe(groups, dict(store.items(args.collection)))
    deleted = (
        delete_items(settings, store, args.collection, extra_ids(groups)) if args.delete else 0
    )
    if args.json:
        _print_json(
            {
                "collection": args.collection,
                "model": model,
                "threshold": threshold,
                "groups": described,
                "deleted": deleted,
            }
        )
        return 0
    print(f"{len(groups)} group(s) at similarity >= {threshold} ({model})")
    for group in described:
        items = ", ".join(f"{i['file_name']} ({i['similarity']:.3f})" for i in group["items"])
        print(f"  {group['kind']}: {items}")
    if args.delete:
        print(f"deleted {deleted} item(s), one of each group kept")
    return 0
