"""The concurrency groups every page event and API endpoint runs in: one bounded pool for
model work (indexing, training, maps ...), a wider one for searches, whose query encodes
are batched together (:mod:`mmdemo.search.batch`)."""

from __future__ import annotations

import os
from typing import Any

#: The gradio concurrency group of every event that runs a model or writes the store.
MODEL_POOL = "model-work"


def model_pool_size() -> int:
    """How many model events run at once, over all tabs and the API: one per usable core.

    Measured on 2 busy cores (bench/concurrent_search.py), one slot queued 8 clients worse
    than two; the bound matters most across events, which each had their own limit before.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, cores or 1)


#: Event options that put an event in the shared model pool.
POOLED: dict[str, Any] = {"concurrency_id": MODEL_POOL, "concurrency_limit": model_pool_size()}

#: The gradio concurrency group of searches (page, find-similar and API).
SEARCH_POOL = "search-work"
#: Searches admitted at once per core. Their query encodes are micro-batched
#: (:mod:`mmdemo.search.batch`): searches waiting together share one forward pass, which
#: they can only do when admitted together; one slot per core left 8 clients queueing.
SEARCHES_PER_CORE = 4
#: Event options that put an event in the search pool.
SEARCH_POOLED: dict[str, Any] = {
    "concurrency_id": SEARCH_POOL,
    "concurrency_limit": SEARCHES_PER_CORE * model_pool_size(),
}
