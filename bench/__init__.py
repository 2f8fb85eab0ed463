"""Offline benchmarks and training scripts for the lite models.

Each script runs as ``python -m bench.NAME``: an entry point like the app and the CLI, so
its process waits as theirs do (OpenMP threads passive) and its figures stay comparable.
"""

from mmdemo.models.threads import wait_passively

wait_passively()
