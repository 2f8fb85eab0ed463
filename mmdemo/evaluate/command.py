"""``python -m mmdemo eval | queries | map | duplicates | compare | vote | votes``: arguments
and printing.

The work is in the evaluate package's library functions; these commands read their
arguments, call them and print a table, a summary or JSON.
"""

from __future__ import annotations

import argparse
from typing import Any

from mmdemo.config import Settings
from mmdemo.console import print_json


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``eval``, ``queries``, ``map``, ``duplicates``, ``compare``, ``vote``
    and ``votes`` sub-commands."""
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
    _add_comparison_parsers(sub, common)


def _add_setups(p: argparse.ArgumentParser, required: bool = True) -> None:
    """``--a MODEL [--a-rerank R] --b MODEL [--b-rerank R]``: the two set-ups."""
    for side in ("a", "b"):
        p.add_argument(f"--{side}", required=required, help=f"set-up {side.upper()}'s embedder")
        p.add_argument(f"--{side}-rerank", help=f"set-up {side.upper()}'s reranker (default: none)")


def _add_query(p: argparse.ArgumentParser) -> None:
    p.add_argument("--collection", required=True)
    p.add_argument("--text", help="text query")
    p.add_argument("--image", help="path of a query image")


def _add_comparison_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("compare", parents=[common], help="one query through two set-ups")
    _add_query(p)
    _add_setups(p)
    p.add_argument(
        "--expected", action="append", help="a file name or id that answers the query (repeatable)"
    )
    p.add_argument("--top-k", type=int, default=10)
    p.add_argument(
        "--index-missing",
        action="store_true",
        help="first index the collection with a side's model",
    )
    p.set_defaults(handler=cmd_compare)

    p = sub.add_parser("vote", parents=[common], help="say which set-up answered a query better")
    _add_query(p)
    _add_setups(p)
    p.add_argument("--choice", required=True, choices=["A", "tie", "B"])
    p.set_defaults(handler=cmd_vote)

    p = sub.add_parser("votes", parents=[common], help="the votes' tallies, and a CSV of them")
    _add_setups(p, required=False)
    p.add_argument("--out", help="also save the votes as a CSV file")
    p.set_defaults(handler=cmd_votes)


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Measure retrieval quality of models x rerankers on a queries CSV."""
    from mmdemo.evaluate.runner import evaluate
    from mmdemo.store import Store

    store = Store(settings, args.runtime)
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
        print_json(table.to_dict("records"))
    else:
        print(table.to_string(index=False))
    return 0


def cmd_queries(args: argparse.Namespace, settings: Settings) -> int:
    """Turn a captions CSV into a queries CSV (each caption queries its own image)."""
    from mmdemo.evaluate.runner import captions_to_queries

    count = captions_to_queries(args.captions, args.out)
    if args.json:
        print_json({"queries": count, "out": args.out})
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
    store = Store(settings, args.runtime)
    model = args.model or indexed_model(store, args.collection)
    found = collection_map(store, settings, args.collection, model)
    save_map(found, args.out, settings)
    sizes = [sum(p.cluster == i for p in found.points) for i in range(len(found.cluster_names))]
    clusters = [{"name": n, "size": s} for n, s in zip(found.cluster_names, sizes, strict=True)]
    if args.json:
        print_json({**_map_summary(found), "clusters": clusters, "out": args.out})
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

    store = Store(settings, args.runtime)
    model = args.model or indexed_model(store, args.collection)
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    groups = find_duplicates(store, args.collection, model, threshold)
    described = describe(groups, dict(store.items(args.collection)))
    deleted = (
        delete_items(settings, store, args.collection, extra_ids(groups)) if args.delete else 0
    )
    if args.json:
        print_json(
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


def _setups(args: argparse.Namespace) -> tuple[Any, Any]:
    from mmdemo.evaluate.comparison import Setup

    return (
        Setup(args.a, args.a_rerank).resolved(),
        Setup(args.b, args.b_rerank).resolved(),
    )


def _index_missing(args: argparse.Namespace, settings: Settings, store: Any) -> None:
    from mmdemo.ingest.indexer import index_existing

    for setup in _setups(args):
        if not store.has_model(args.collection, setup.model):
            report = index_existing(
                collection=args.collection, models=[setup.model], settings=settings, store=store
            )
            if not args.json:
                print(f"indexed {args.collection} with {setup.model}: {report.added} images")


def cmd_compare(args: argparse.Namespace, settings: Settings) -> int:
    """Run one query through set-ups A and B and say which answered it better."""
    from mmdemo.errors import NotFoundError
    from mmdemo.evaluate.comparison import CLI_INDEX_HINT, compare_setups
    from mmdemo.search.query import Query
    from mmdemo.store import Store

    store = Store(settings, args.runtime)
    if not store.models(args.collection):
        raise NotFoundError(f"Collection {args.collection!r} does not exist.")
    if args.index_missing:
        _index_missing(args, settings, store)
    found = compare_setups(
        Query(text=args.text, image=args.image),
        collection=args.collection,
        setups=_setups(args),
        settings=settings,
        store=store,
        top_k=args.top_k,
        expected=args.expected or (),
        index_hint=CLI_INDEX_HINT,
    )
    if args.json:
        print_json(found.to_json())
        return 0
    for sentence in found.sentences:
        print(sentence)
    wanted = set(found.expected)
    for side in found.sides:
        print(f"\n{side.label}: {side.setup.name}")
        for rank, (item, name) in enumerate(side.ranked, start=1):
            mark = "  ✓ expected" if item in wanted or name in wanted else ""
            print(f"  #{rank:<3} {name}{mark}")
    if found.agreement:
        measures = found.agreement
        print(
            f"\noverlap@{measures['k']}: {measures['overlap_at_k']:.2f}  "
            f"rank-biased overlap: {measures['rbo']:.3f}"
        )
    return 0


def cmd_vote(args: argparse.Namespace, settings: Settings) -> int:
    """Record which set-up answered a query better (again: the vote is replaced)."""
    from mmdemo.evaluate.votes import Votes, voted_query

    a, b = _setups(args)
    tally = Votes(settings).record(
        collection=args.collection,
        query=voted_query(args.text, args.image),
        setups=(a.name, b.name),
        choice=args.choice,
    )
    if args.json:
        print_json(tally.to_json())
    else:
        print(tally.sentence())
    return 0


def cmd_votes(args: argparse.Namespace, settings: Settings) -> int:
    """Print the tally of one pair of set-ups (or of every pair voted on); export a CSV."""
    from mmdemo.errors import InputError
    from mmdemo.evaluate.votes import Votes

    votes = Votes(settings)
    if bool(args.a) != bool(args.b):
        raise InputError("Name both set-ups (--a and --b), or neither for every pair.")
    pairs = [tuple(s.name for s in _setups(args))] if args.a else votes.pairs()
    tallies = [votes.tally(pair) for pair in pairs]
    if args.out:
        votes.export(args.out, pairs[0] if args.a else None)
    if args.json:
        print_json([tally.to_json() for tally in tallies])
        return 0
    for tally in tallies:
        print(tally.sentence())
    if not tallies:
        print("no votes yet")
    return 0
