"""A 2-D layout of embeddings: PCA down to a few dozen dimensions, then t-SNE.

UMAP would be the other choice, but umap-learn pulls numba and llvmlite (about 210 MB more
and a 20 s first import here); scikit-learn is already installed with sentence-transformers.
See bench/README.md for the measurement. Output coordinates are scaled into [0, 1].
"""

from __future__ import annotations

import numpy as np

#: Dimensions PCA keeps before t-SNE: removes noise and makes t-SNE much cheaper.
PCA_DIMS = 50
#: t-SNE's perplexity (neighbourhood size); smaller collections use (n - 1) / 3.
PERPLEXITY = 30.0


def _scaled(points: np.ndarray) -> np.ndarray:
    """``points`` shifted and scaled (keeping the aspect ratio) into the unit square."""
    low = points.min(axis=0)
    span = float((points.max(axis=0) - low).max())
    return ((points - low) / span if span > 0 else np.zeros_like(points)).astype(np.float32)


def project(vectors: np.ndarray, seed: int = 0) -> np.ndarray:
    """Map (n, dim) vectors to (n, 2) points in [0, 1]; near vectors land near each other.

    Deterministic for a given ``seed``. Fewer than 4 points are laid out by PCA alone
    (t-SNE needs a neighbourhood).
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE

    matrix = np.asarray(vectors, dtype=np.float32)
    n = len(matrix)
    if n == 0:
        return np.zeros((0, 2), np.float32)
    if n == 1:
        return np.full((1, 2), 0.5, np.float32)
    dims = min(PCA_DIMS, matrix.shape[1], n)
    reduced = PCA(n_components=dims, random_state=seed).fit_transform(matrix)
    if n < 4 or dims < 2:
        return _scaled(np.pad(reduced, ((0, 0), (0, max(0, 2 - dims))))[:, :2])
    tsne = TSNE(
        n_components=2,
        perplexity=min(PERPLEXITY, (n - 1) / 3),
        init="pca",
        learning_rate="auto",
        random_state=seed,
    )
    return _scaled(tsne.fit_transform(reduced))
