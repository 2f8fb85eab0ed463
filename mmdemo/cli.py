"""Command line: ``python -m mmdemo COMMAND`` (index, search, list, delete, gc, models,
eval, queries, map, duplicates, finetune, doctor).

Argument parsing and printing only; every command calls the same library functions the
web UI calls. Expected errors print one line and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from mmdemo.compat import skip_override_checks
from mmdemo.config import BACKENDS, PRECISIONS, Settings
from mmdemo.errors import MMDemoError, TooSlowError
from mmdemo.evaluate.command import add_parsers as add_evaluate
from mmdemo.finetune.command import add_parser as add_finetune
from mmdemo.models.threads import wait_passively
from mmdemo.runtime import CLI_MODEL_IDLE_S, Runtime
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT

Handler = Callable[[argparse.Namespace, Settings], int]


def _print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _models_or_default(names: list[str] | None, settings: Settings, runtime: Runtime) -> list[str]:
    if names:
        return names
    from mmdemo.models.loading import default_embedder

    name, why = default_embedder(settings, runtime)
    print(why, file=sys.stderr)
    return [name]


def _progress_bar(enabled: bool) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A tqdm bar on stderr behind the library's progress callback."""
    from tqdm import tqdm

    bar = tqdm(total=0, unit="img", disable=not enabled, file=sys.stderr)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Ingest images into a collection with one or more models."""
    from mmdemo.ingest.hf_datasets import DatasetOptions, check_hub_id, is_hub_id
    from mmdemo.ingest.indexer import index_paths
    from mmdemo.store import Store

    for given in filter(is_hub_id, args.paths):
        check_hub_id(given)  # before the store opens or a model loads
    models = _models_or_default(args.model, settings, args.runtime)
    update, close = _progress_bar(enabled=not args.json and sys.stderr.isatty())
    try:
        report = index_paths(
            args.paths,
            collection=args.collection,
            models=models,
            settings=settings,
            store=Store(settings, args.runtime),
            captions=args.captions,
            dataset=DatasetOptions(args.split, args.image_column, args.caption_column, args.limit),
            progress=update,
            ocr=args.ocr,
        )
    finally:
        close()
    nothing_read = report.added + report.present == 0
    if args.json:
        _print_json(report.to_json())
    else:
        print(
            f"added: {report.added}  already present: {report.present}  "
            f"rejected: {len(report.rejected)}"
        )
        for rejection in report.rejected:
            print(f"  rejected {rejection.file}: {rejection.reason}")
        for warning in report.warnings:
            print(f"  warning {warning.file}: {warning.reason}")
    for model, reason in report.failed_models.items():
        print(f"error: model {model} was left out: {reason}", file=sys.stderr)
    if nothing_read:
        print("error: no image could be read from the given sources.", file=sys.stderr)
        return 1
    return 1 if report.failed_models else 0


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
        _print_json(results.to_json())
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


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """List collections with image counts per model."""
    from mmdemo.store import Store

    infos = Store(settings, args.runtime).collections()
    if args.json:
        _print_json([{"collection": i.name, "images": i.images, "models": i.models} for i in infos])
        return 0
    if not infos:
        print("no collections")
    for info in infos:
        models = ", ".join(f"{m} ({n})" for m, n in info.models.items())
        print(f"{info.name}: {info.images} images; models: {models}")
    return 0


def _confirmed(args: argparse.Namespace, question: str) -> bool:
    """Whether to go on: ``--yes``, else a "y" at a terminal; elsewhere the error says how."""
    if args.yes:
        return True
    if sys.stdin.isatty():
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    print(f"error: {question.removesuffix('?')}: pass --yes to confirm.", file=sys.stderr)
    return False


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    """Delete a whole collection, or some of its items; a demo collection (``demo-...``)
    only once confirmed (the page never deletes one)."""
    from mmdemo.demos import PREFIX
    from mmdemo.manage import delete_collection, delete_items
    from mmdemo.store import Store

    question = f"Delete {args.collection!r}, one of the app's demo collections?"
    demo = args.collection.startswith(PREFIX)
    if not args.id and demo and not _confirmed(args, question):
        return 1
    store = Store(settings, args.runtime)
    if args.id:
        removed = delete_items(settings, store, args.collection, args.id)
        message = f"deleted {removed} item(s) from {args.collection}"
    else:
        removed = delete_collection(settings, store, args.collection)
        message = f"deleted collection {args.collection} ({removed} images)"
    if args.json:
        _print_json({"collection": args.collection, "deleted": removed})
    else:
        print(message)
    return 0


def cmd_gc(args: argparse.Namespace, settings: Settings) -> int:
    """List (or with --apply remove) stored files that no item refers to."""
    from mmdemo.manage import sweep_orphans
    from mmdemo.store import Store

    orphans = sweep_orphans(settings, Store(settings, args.runtime), apply=args.apply)
    names = [str(path.relative_to(settings.data_dir)) for path in orphans]
    scrubbed = _scrub_copies(settings, apply=args.apply) if args.scrub else None
    if args.json:
        found = {} if scrubbed is None else {"scrubbed": scrubbed}
        _print_json({"applied": args.apply, "files": names, **found})
        return 0
    for name in names:
        print(name)
    verb = "removed" if args.apply else "would remove (dry run; --apply removes)"
    print(f"{verb} {len(names)} file(s)")
    if scrubbed is not None:
        verb = "rewrote" if args.apply else "would rewrite"
        print(f"{verb} {scrubbed} stored cop{'y' if scrubbed == 1 else 'ies'} carrying GPS")
    return 0


def _scrub_copies(settings: Settings, *, apply: bool) -> int:
    """``gc --scrub``: stored copies with GPS or other private metadata, rewritten as a
    multi-visitor app serves them whatever this process's mode (the operator asked)."""
    from mmdemo.ingest.rescrub import scrub_stored_copies

    served = replace(settings, multiuser=True, allow_gps=False)
    return scrub_stored_copies(served, apply=apply)


def cmd_models(args: argparse.Namespace, settings: Settings) -> int:
    """List the model presets."""
    from dataclasses import asdict

    from mmdemo.models.registry import local_models, presets

    local = [str(path) for path in local_models(settings.finetuned_dir)]
    rows = [asdict(p) for p in presets()]
    if args.json:
        _print_json(rows + [{"key": path, "kind": "embedder", "local": True} for path in local])
        return 0
    for p in presets():
        cpu = "CPU ok" if p.cpu_ok else "GPU advised"
        size = "bundled" if p.offline else f"{p.size_mb} MB"
        print(f"{p.kind:9} {p.key:24} {p.display_name} [{p.source}] {p.licence}, {size}, {cpu}")
    for path in local:
        print(f"{'embedder':9} {path} (local, fine-tuned)")
    return 0


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    """Say what this machine can run; exit 1 when the default set-up cannot start."""
    from mmdemo.doctor import diagnose

    found = diagnose(settings)
    if args.json:
        _print_json(found.to_json())
    else:
        print("\n".join(found.lines()))
    return 0 if found.can_start else 1


def _positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


def _common_options() -> argparse.ArgumentParser:
    """The options every command takes: where the data is, output, device and backend."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="data directory (default: $MMDEMO_DATA_DIR or ./data)")
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    common.add_argument("--device", help="torch device (default: $MMDEMO_DEVICE, else cuda or cpu)")
    common.add_argument(
        "--precision",
        choices=PRECISIONS,
        help="model precision (default: $MMDEMO_PRECISION, else bf16 on CUDA and fp32 on CPU)",
    )
    common.add_argument(
        "--backend",
        choices=BACKENDS,
        help="what runs embedders (default: $MMDEMO_BACKEND, else auto: the fastest measured here)",
    )
    return common


def _parser() -> argparse.ArgumentParser:
    common = _common_options()
    parser = argparse.ArgumentParser(prog="python -m mmdemo", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", parents=[common], help="ingest images into a collection")
    p.add_argument(
        "paths",
        nargs="+",
        help="image files, folders, zip archives, PDFs, dataset folders or hf:OWNER/NAME",
    )
    p.add_argument("--collection", required=True)
    p.add_argument("--model", action="append", help="embedding model (repeatable)")
    p.add_argument("--captions", help="CSV with a file-name column, captions and metadata")
    p.add_argument("--split", default="train", help="dataset split (default: train)")
    p.add_argument("--image-column", default="image", help="dataset image column")
    p.add_argument(
        "--caption-column", help="dataset caption column (default: caption, text or description)"
    )
    p.add_argument("--limit", type=_positive, help="index at most N rows of each dataset")
    p.add_argument(
        "--ocr", action="store_true", help="read text inside images (slower; off by default)"
    )
    p.set_defaults(handler=cmd_index)

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

    p = sub.add_parser("list", parents=[common], help="list collections")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("delete", parents=[common], help="delete a collection or items")
    p.add_argument("--collection", required=True)
    p.add_argument("--id", action="append", help="delete only this item id (repeatable)")
    p.add_argument(
        "--yes", action="store_true", help="do not ask before deleting a demo collection"
    )
    p.set_defaults(handler=cmd_delete)

    p = sub.add_parser("gc", parents=[common], help="find files no item refers to")
    p.add_argument("--apply", action="store_true", help="remove them (default: dry run)")
    p.add_argument(
        "--scrub",
        action="store_true",
        help="also rewrite stored copies that carry GPS or other private metadata",
    )
    p.set_defaults(handler=cmd_gc)

    p = sub.add_parser("models", parents=[common], help="list model presets")
    p.set_defaults(handler=cmd_models)

    add_evaluate(sub, common)
    add_finetune(sub, common)

    p = sub.add_parser("doctor", parents=[common], help="check what this machine can run")
    p.set_defaults(handler=cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    wait_passively()
    skip_override_checks()
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env(
            data_dir=args.data_dir,
            device=args.device,
            precision=args.precision,
            backend=args.backend,
        )
        args.runtime = Runtime.for_settings(settings, CLI_MODEL_IDLE_S)  # every handler's
        handler: Handler = args.handler
        return handler(args, settings)
    except MMDemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
