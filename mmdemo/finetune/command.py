"""``python -m mmdemo finetune``: its arguments and its printing (the work is in :mod:`run`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from mmdemo.config import Settings


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    """Register the ``finetune`` sub-command on the CLI's sub-parsers."""
    p = sub.add_parser(
        "finetune", parents=[common], help="fine-tune an embedder on a collection's captions"
    )
    p.add_argument("--collection", required=True)
    p.add_argument("--base", required=True, help="embedding model to start from")
    p.add_argument("--out", required=True, help="folder for the fine-tuned model")
    p.add_argument("--captions", help="captions CSV to train on instead of the stored captions")
    p.add_argument("--epochs", type=int, help="default: per model family (lite 4, others 2)")
    p.add_argument("--batch-size", type=int, help="default: 32")
    p.add_argument("--lr", type=float, help="learning rate (default: lite 3e-4, others 1e-5)")
    p.add_argument("--eval-split", type=float, default=0.2, help="share held out (default 0.2)")
    p.add_argument("--split-by", choices=["caption", "image"], default="caption")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    p.add_argument("--push-to-hub", metavar="REPO_ID", help="push the result to the Hub")
    p.set_defaults(handler=cmd_finetune)


def _print_summary(facts: dict[str, Any]) -> None:
    print(
        f"trained {facts['steps']} steps on {facts['train_pairs']} pairs in "
        f"{facts['train_seconds']:.1f} s (final loss {facts['final_loss']:.4f}); "
        f"held out {facts['eval_queries']} captions"
    )
    print(f"{'metric':10} {'base':>8} {'tuned':>8} {'change':>8}")
    for name, before in facts["before"].items():
        after = facts["after"][name]
        print(f"{name:10} {before:8.4f} {after:8.4f} {after - before:+8.4f}")


def cmd_finetune(args: argparse.Namespace, settings: Settings) -> int:
    """Fine-tune, print before/after, and push when asked (after saving locally)."""
    from mmdemo.finetune.hub import push
    from mmdemo.finetune.run import FinetuneRequest, finetune
    from mmdemo.store import Store

    request = FinetuneRequest(
        collection=args.collection,
        base=args.base,
        out=Path(args.out),
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        eval_split=args.eval_split,
        split_by=args.split_by,
        captions=Path(args.captions) if args.captions else None,
        overwrite=args.overwrite,
    )

    def report(stage: str, done: int, total: int, loss: float | None) -> None:
        if not args.json and sys.stderr.isatty():
            extra = f" loss {loss:.4f}" if loss is not None else ""
            print(f"\r{stage}: {done}/{total}{extra}   ", end="", file=sys.stderr, flush=True)

    result = finetune(
        request, settings=settings, store=Store(settings, args.runtime), progress=report
    )
    output = result.to_json()
    if args.json:
        print(json.dumps(output, indent=2, default=str))
    else:
        _print_summary(output)
        print(f"saved to {result.out}")
    if args.push_to_hub:
        url = push(result.out, args.push_to_hub, settings)
        print(f"pushed to {url}", file=sys.stderr if args.json else sys.stdout)
    return 0
