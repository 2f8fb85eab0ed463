"""How long the app takes to serve its page and to get its demo collections ready.

    python -m bench.demo_startup [--model lite] [--runs 1] [--json bench/results/x.json]

Starts ``python app.py`` twice on one fresh data folder, as a deployment would: the first
start indexes the bundled demos (photos, shop, documents), the second finds them stored.
For each start it prints when the page first answered (seconds after the process began),
when each demo became searchable and when all were ready, both counted from the moment the
page answered, which is the issue-23 target (first start <= 30 s, later starts <= 5 s).
Load on the machine moves these figures: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIRST_TARGET_S = 30.0
LATER_TARGET_S = 5.0


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _status(client: Any) -> dict[str, Any]:
    result: dict[str, Any] = client.predict(api_name="/status")
    return result


def one_start(data_dir: Path, model: str | None, timeout_s: float = 600.0) -> dict[str, Any]:
    """Start the app on ``data_dir`` and time it until every demo is ready; then stop it."""
    from gradio_client import Client

    port = _free_port()
    env = {**os.environ, "MMDEMO_DATA_DIR": str(data_dir), "GRADIO_ANALYTICS_ENABLED": "False"}
    env.setdefault("HF_HUB_OFFLINE", "1")
    command = [sys.executable, "app.py", "--port", str(port)]
    command += ["--model", model] if model else []
    url = f"http://127.0.0.1:{port}"
    began = time.monotonic()
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        while not _answers(url):
            if server.poll() is not None or time.monotonic() - began > timeout_s:
                raise RuntimeError(f"app.py did not serve its page (exit {server.returncode})")
            time.sleep(0.05)
        page = time.monotonic()
        client = Client(url, verbose=False)
        seen: dict[str, float] = {}
        while True:
            status = _status(client)
            for name in status["ready_demos"]:
                seen.setdefault(name, time.monotonic() - page)
            if status["phase"] in ("ready", "failed"):
                break
            if time.monotonic() - began > timeout_s:
                raise RuntimeError("the demos were not ready in time")
            time.sleep(0.1)
        return {
            "page_answered_s": round(page - began, 2),
            "ready_after_page_s": round(time.monotonic() - page, 2),
            "demo_ready_after_page_s": {k: round(v, 2) for k, v in seen.items()},
            "phase": status["phase"],
            "items": status["total"],
            "message": status["message"],
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    """Run first and later starts and print their figures against the targets."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="the app's --model (default: the app's own choice)")
    parser.add_argument("--runs", type=int, default=1, help="fresh data folders to try")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="mmdemo-startup-") as tmp:
            first = one_start(Path(tmp) / "data", args.model)
            later = one_start(Path(tmp) / "data", args.model)
        results.append({"first": first, "later": later})
        for label, run, target in (
            ("first", first, FIRST_TARGET_S),
            ("later", later, LATER_TARGET_S),
        ):
            verdict = "within" if run["ready_after_page_s"] <= target else "OVER"
            print(
                f"{label} start: page answered {run['page_answered_s']:.1f} s after launch; "
                f"demos ready {run['ready_after_page_s']:.1f} s after that "
                f"({verdict} the {target:.0f} s target); per demo "
                f"{run['demo_ready_after_page_s']}; {run['items']} items indexed; {run['phase']}"
            )
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print(f"load average {' '.join(load)}, {os.cpu_count()} cores")
    if args.json:
        args.json.write_text(json.dumps({"runs": results, "load": load}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
