"""Clusters of a collection's embeddings and a few words that name each one.

k-means on the unit vectors (so distance follows cosine similarity). A cluster is named
from its items' own text (captions, a PDF page's text, metadata words: what
:func:`mmdemo.text.documents.item_text` reads) by the words that are frequent in it and
rare in the other clusters (class-based TF-IDF). A cluster none of whose items has text is
named by the vocabulary words whose text embeddings are nearest its centre, said as a guess:
"looks like tabby, tiger cat".
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

from mmdemo.text.words import is_stop, stem, words
from mmdemo.vectors import unit_rows

#: Bounds on the number of clusters a map shows.
MIN_CLUSTERS, MAX_CLUSTERS = 2, 12
#: How many words name a cluster.
WORDS_PER_LABEL = 2
#: What a name guessed from the model's vocabulary (not the items' text) starts with.
GUESS_PREFIX = "looks like "
#: Words too common in file names and scans to name anything.
_NOISE = frozenset({"jpg", "jpeg", "png", "img", "dsc", "pdf", "page", "image", "photo"})


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
    labels: np.ndarray = renumber[raw]
    return labels


def _terms(text: str) -> list[tuple[str, str]]:
    """(stem, word) of each word of ``text`` that can name something: 3+ letters, not a stop
    word, not a number or a file-name word."""
    return [
        (stem(word), word)
        for word in words(text)
        if len(word) >= 3 and word.isalpha() and not is_stop(word) and word not in _NOISE
    ]


def text_labels(
    texts: Sequence[str], labels: np.ndarray, words_per_label: int = WORDS_PER_LABEL
) -> list[str | None]:
    """Each cluster's name from its items' ``texts``: its most distinctive words, or None
    for a cluster whose items have no usable text.

    A word's weight in a cluster is its count there times ``log(1 + A / f)``, ``A`` the
    average word count per cluster and ``f`` the word's count in all clusters, so a word
    every cluster has names none. Words are matched by stem and shown as most often written.
    A word names at most one cluster (the one that weighs it most), so names differ.
    """
    count = int(labels.max()) + 1 if len(labels) else 0
    per_cluster = [Counter[str]() for _ in range(count)]
    written: dict[str, Counter[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        for root, word in _terms(text):
            per_cluster[int(label)][root] += 1
            written.setdefault(root, Counter())[word] += 1
    overall = sum(per_cluster, Counter[str]())
    average = sum(overall.values()) / max(count, 1)
    weights = [
        {root: n * math.log(1 + average / overall[root]) for root, n in counts.items()}
        for counts in per_cluster
    ]
    owner = {root: max(range(count), key=lambda i: weights[i].get(root, 0.0)) for root in overall}
    names: list[str | None] = []
    for i, weighted in enumerate(weights):
        ranked = sorted(weighted, key=lambda root: (-weighted[root], root))
        mine = [root for root in ranked if owner[root] == i] or ranked
        shown = [written[root].most_common(1)[0][0] for root in mine[:words_per_label]]
        names.append(", ".join(shown) if shown else None)
    return names


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


def name_clusters(
    texts: Sequence[str],
    vectors: np.ndarray,
    labels: np.ndarray,
    vocabulary: Callable[[], tuple[Sequence[str], np.ndarray]],
) -> list[str]:
    """Each cluster's name: from its items' text where they have some, else a guess from
    the words nearest its centre ("looks like ..."), else its number.

    ``vocabulary`` gives the guessing words and their unit text embeddings (none for an
    image-only model); it is called only when some cluster has no text, as embedding a
    thousand words costs seconds.
    """
    from_text = text_labels(texts, labels)
    if all(name is not None for name in from_text):
        return [str(name) for name in from_text]
    known, known_vectors = vocabulary()
    guessed = label_clusters(vectors, labels, known, known_vectors)
    prefix = GUESS_PREFIX if len(known) else ""
    return [
        name if name is not None else f"{prefix}{guess}"
        for name, guess in zip(from_text, guessed, strict=True)
    ]
