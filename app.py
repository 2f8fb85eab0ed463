"""Start the mmdemo web app: ``python app.py [--host H] [--port P]`` (also the Spaces entry point).

Serves on 127.0.0.1:7860 by default (``MMDEMO_HOST`` / ``MMDEMO_PORT``); on Hugging Face
Spaces it binds every interface and keeps data under ``<storage>/mmdemo`` when the Space has
persistent storage (``/data``, else its mounted bucket volume: mmdemo/ui/deploy.py). The
page is served before any model loads: the default embedder is chosen and the demo
collections indexed in the background, and the terminal says so, line by line. ``--mcp``
also serves the reading API endpoints as MCP tools (mmdemo/integrations/mcp.py).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from mmdemo.compat import skip_override_checks
from mmdemo.config import Settings
from mmdemo.errors import MMDemoError
from mmdemo.integrations.mcp import require_mcp
from mmdemo.models import zerogpu
from mmdemo.models.threads import wait_passively
from mmdemo.ui.deploy import resolve_deployment


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", help="interface to bind (default: $MMDEMO_HOST or 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port (default: $MMDEMO_PORT or 7860)")
    parser.add_argument("--data-dir", help="data directory (default: $MMDEMO_DATA_DIR or ./data)")
    parser.add_argument(
        "--model",
        help="default embedder, also used for the demo (default: CLIP if it loads, else lite)",
    )
    parser.add_argument(
        "--demo-dir", type=Path, help="folder of images that replaces the photos demo"
    )
    parser.add_argument("--no-demo", action="store_true", help="do not set up demo collections")
    parser.add_argument(
        "--mcp",
        action="store_true",
        help="also serve search, collections, compare and status as MCP tools at "
        "/gradio_api/mcp/ (default: $MMDEMO_MCP)",
    )
    return parser


def _terminal(line: str) -> None:
    """One line of what the page says (models, demo progress, ready), for the terminal."""
    print(f"mmdemo: {line}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse flags, build the app and serve it until interrupted."""
    args = _parser().parse_args(argv)
    wait_passively()
    skip_override_checks()
    zerogpu.prepare()  # on ZeroGPU, `spaces` goes first, before anything touches CUDA
    try:
        deployment = resolve_deployment(
            os.environ, host=args.host, port=args.port, data_dir=args.data_dir
        )
        settings = Settings.from_env(data_dir=deployment.data_dir, mcp=args.mcp or None)
        if settings.mcp:
            require_mcp()
    except MMDemoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    # Before huggingface_hub and gradio are first imported (by mmdemo.ui): the model cache
    # on persistent storage, no analytics or version checks.
    if deployment.hf_home is not None:
        os.environ["HF_HOME"] = str(deployment.hf_home)
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from mmdemo.demos import plan_demos
    from mmdemo.runtime import APP_MODEL_IDLE_S, Runtime
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.layout import build_app, launch

    plan = None if args.no_demo else plan_demos(settings.demo_sources, args.demo_dir)
    runtime = Runtime.for_settings(settings, APP_MODEL_IDLE_S)
    boot = Bootstrap(settings, plan, args.model, tell=_terminal, runtime=runtime)
    ctx = AppContext(settings, boot, deployment.notes, runtime)
    launch(build_app(ctx), ctx, deployment.host, deployment.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
