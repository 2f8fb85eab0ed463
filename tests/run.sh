#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (Python packages and
# Debian's Chromium for the browser tests), then lint, format check, type check, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install -q -r requirements-dev.txt
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium
fi

# axe-core for the accessibility test, fetched (not vendored) into the gitignored .axe/.
AXE_VERSION=4.14.1
if [ ! -f .axe/package/axe.min.js ]; then
  mkdir -p .axe
  (cd .axe && npm pack -q "axe-core@$AXE_VERSION" && tar xzf "axe-core-$AXE_VERSION.tgz" package/axe.min.js)
fi

export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy
python3 -m pytest "$@"
