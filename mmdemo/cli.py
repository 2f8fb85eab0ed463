"""Command line: ``python -m mmdemo COMMAND`` (index, search, list, delete, gc, models,
eval, queries, map, duplicates, finetune, doctor).

Argument parsing and printing only; every command calls the same library functions the
web UI calls. Expected errors print one line and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace

from mmdemo.compat import skip_override_checks
from mmdemo.config import BACKENDS, PRECISIONS, Settings
from mmdemo.console import print_json
from mmdemo.errors import MMDemoError
from mmdemo.evaluate.command import add_parsers as add_evaluate
from mmdemo.finetune.command import add_parser as add_finetune
from mmdemo.ingest.command import add_parser as add_index
from mmdemo.models.threads import wait_passively
from mmdemo.runtime import CLI_MODEL_IDLE_S, Runtime
from mmdemo.search.command import add_parser as add_search

Handler = Callable[[argparse.Namespace, Settings], int]


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """List collections with image counts per model."""
    from mmdemo.store import Store

    infos = Store(settings, args.runtime).collections()
    if args.json:
        print_json([{"collection": i.name, "images": i.images, "models": i.models} for i in infos])
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
        print_json({"collection": args.collection, "deleted": removed})
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
        print_json({"applied": args.apply, "files": names, **found})
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
        print_json(rows + [{"key": path, "kind": "embedder", "local": True} for path in local])
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
        print_json(found.to_json())
    else:
        print("\n".join(found.lines()))
    return 0 if found.can_start else 1


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
    add_index(sub, common)
    add_search(sub, common)

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
