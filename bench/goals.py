"""The goals ``python -m bench.perf`` checks, each beside the figure its run measured.

One line per goal, ``figure (goal)``, from the JSON the sections return; a section that did
not run adds no lines. The goals are issue 12's (ingest, rerank, store, CLI, memory) and
issue 25's (backends, printed by bench/backend_speed.py's own ``targets``).
"""

from __future__ import annotations

from typing import Any

from mmdemo.store import HNSW_CONFIGURATION


def ingest_goals(ingest: dict[str, Any]) -> list[str]:
    """End-to-end indexing against the model alone, per model and image set."""
    goal = {"photos": ">= 0.95"}
    return [
        f"ingest {row['model']}, {row['image_set']}: e2e / model-only (pairs) "
        f"{row['pair_ratio_median']} ({goal.get(row['image_set'], 'worst case, no goal')})"
        for row in ingest.get("rows", [])
    ]


def rerank_goals(rerank: dict[str, Any]) -> list[str]:
    """A reranked search against a plain one, warm and first after the warm-up."""
    if "reranked_vs_plain" not in rerank:
        return []
    return [
        f"warm reranked / plain search: {rerank['reranked_vs_plain']['median']} (<= 1.5)",
        "first reranked search after warm-up / warm: "
        f"{rerank['first_after_warm_up_vs_warm']['median']} (<= 2)",
    ]


def store_goals(store: dict[str, Any]) -> list[str]:
    """Inserts against the embedder, HNSW agreement and a whole query at the largest size."""
    lines = []
    ef = HNSW_CONFIGURATION["ef_search"]
    like = [row for row in store.get("series", []) if row["kind"] == "lite-like"]
    if like:
        top = max(like, key=lambda row: row["size"])
        lines.append(
            f"store insert / lite embed rate at {top['size']}: {top['insert_over_embed']}x (>= 10)"
        )
        agreement = top.get(f"hnsw_ef{ef}_agreement")
        if agreement is not None:
            lines.append(
                f"top-50 agreement with exact at {top['size']}, ef_search {ef}: "
                f"{agreement:.3f} (>= 0.99)"
            )
    queries = store.get("store_query", [])
    if queries:
        top = max(queries, key=lambda row: row["size"])
        lines.append(f"Store.query at {top['size']}: {top['store_query_ms']} ms (<= 10)")
    return lines


def cli_goals(cli: dict[str, Any]) -> list[str]:
    """Commands that load no model stay light; a cold search against a warm one."""
    walls = cli.get("wall_ms", {})
    light = [name for name in ("--help", "models", "list") if name in walls]
    if not light:
        return []
    times = " / ".join(f"{walls[name]['median']}" for name in light)
    return [
        f"cli {' / '.join(light)}: {times} ms (light: no torch import)",
        f"cold search process / warm in-process: {cli['search_cold_over_warm']}x",
    ]


def goals(results: dict[str, Any]) -> list[str]:
    """Every goal of the sections in ``results``."""
    lines = ingest_goals(results.get("ingest", {}))
    lines += rerank_goals(results.get("rerank", {}))
    lines += store_goals(results.get("store", {}))
    lines += cli_goals(results.get("cli", {}))
    if "memory" in results:
        lines.append(f"peak RSS, 4x the images: {results['memory']['peak_ratio']}x (flat: <= 1.1)")
    if "backends" in results:
        lines += results["backends"].get("targets", [])
    return lines
