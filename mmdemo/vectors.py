"""Embedding matrices checked and shaped: unit rows, and the finite (rows, dim) float32
matrix the store accepts. Pure numpy."""

from __future__ import annotations

import numpy as np

from mmdemo.errors import InputError


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """``vectors`` as float32 rows of length 1 (zero rows stay zero)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    unit: np.ndarray = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return unit


def as_matrix(embeddings: np.ndarray, rows: int) -> np.ndarray:
    """``embeddings`` as a finite float32 (rows, dim) array, or an InputError saying why not."""
    matrix = np.asarray(embeddings, dtype=np.float32)
    if rows == 1 and matrix.ndim == 1:
        matrix = matrix[None, :]
    if matrix.ndim != 2 or matrix.shape[0] != rows or matrix.shape[1] == 0:
        raise InputError(f"Expected {rows} embedding rows, got an array of shape {matrix.shape}.")
    if not np.isfinite(matrix).all():
        raise InputError("Embeddings contain NaN or infinite values.")
    return matrix
