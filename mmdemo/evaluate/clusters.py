"""Clusters of a collection's embeddings and a few words that name each one.

k-means on the unit vectors (so distance follows cosine similarity); each cluster is
named by the vocabulary words whose text embeddings are nearest its centre.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence

import numpy as np

from mmdemo.records import unit_rows

#: Bounds on the number of clusters a map shows.
MIN_CLUSTERS, MAX_CLUSTERS = 2, 12
#: How many words name a cluster.
WORDS_PER_LABEL = 2
_STOPWORDS = frozenset(
    "a an and are as at by for from in into is it its of on or over the to under with".split()  # noqa: SIM905
)


def choose_k(n: int) -> int:
    """How many clusters suit n items: about sqrt(n / 2), within the bounds, at most n."""
    return max(1, min(n, MAX_CLUSTERS, max(MIN_CLUSTERS, round(math.sqrt(n / 2)))))


def cluster(vectors: np.ndarray, k: int | None = None, seed: int = 0) -> np.ndarray:
    """A cluster number per row (0..k-1), numbered by falling cluster size."""
    from sklearn.cluster import KMeans

    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    k = min(k or choose_k(n), n)
    raw = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(vectors)
    by_size = np.argsort(-np.bincount(raw, minlength=k), kind="stable")
    renumber = np.empty(k, dtype=np.int64)
    renumber[by_size] = np.arange(k)
    return renumber[raw]


def caption_vocabulary(captions: Iterable[str]) -> list[str]:
    """The distinct words of ``captions`` (lower case, 3+ letters, no stop words), sorted."""
    words = {
        word
        for caption in captions
        for word in re.findall(r"[a-z][a-z-]{2,}", caption.lower())
        if word not in _STOPWORDS
    }
    return sorted(words)


def label_clusters(
    vectors: np.ndarray,
    labels: np.ndarray,
    vocabulary: Sequence[str],
    word_vectors: np.ndarray,
    words: int = WORDS_PER_LABEL,
) -> list[str]:
    """For each cluster number, the ``words`` vocabulary entries nearest its centre.

    ``word_vectors`` are the unit text embeddings of ``vocabulary``, in the same space as
    ``vectors``. A word names at most one cluster (the one it is nearest), so labels differ.
    """
    count = int(labels.max()) + 1 if len(labels) else 0
    if count == 0 or not len(vocabulary):
        return [f"cluster {i + 1}" for i in range(count)]
    centres = unit_rows(np.stack([vectors[labels == i].mean(axis=0) for i in range(count)]))
    sims = centres @ np.asarray(word_vectors, dtype=np.float32).T
    owner = sims.argmax(axis=0)
    names = []
    for i in range(count):
        order = [w for w in np.argsort(-sims[i], kind="stable") if owner[w] == i] or [
            int(np.argmax(sims[i]))
        ]
        names.append(", ".join(vocabulary[w] for w in order[:words]))
    return names
