"""``python -m mmdemo index``: its arguments and its printing (the work is in :mod:`indexer`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from mmdemo.config import Settings
from mmdemo.console import print_json
from mmdemo.runtime import Runtime


def _positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``index`` sub-command on the CLI's sub-parsers."""
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
        print_json(report.to_json())
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
