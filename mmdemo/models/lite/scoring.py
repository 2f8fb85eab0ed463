"""Pure tensor maths shared by the lite embedder and reranker (no model loading here)."""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812


def conse(probs: torch.Tensor, class_embeddings: torch.Tensor, top_k: int) -> torch.Tensor:
    """ConSE image embeddings: the probability-weighted mean of the top-k class embeddings.

    ``probs`` is ``(N, C)``, ``class_embeddings`` is ``(C, D)``; the result ``(N, D)`` is
    L2-normalised (Norouzi et al., 2014). One gather and one weighted sum, no loop.
    """
    values, indices = probs.topk(min(top_k, probs.shape[-1]), dim=-1)
    picked = class_embeddings[indices]
    return F.normalize((values.unsqueeze(-1) * picked).sum(dim=1), dim=-1)


def centred_visual(features: torch.Tensor, mean: torch.Tensor) -> torch.Tensor:
    """Pooled CNN features minus their corpus mean, L2-normalised: what the CNN sees."""
    return F.normalize(features - mean, dim=-1)


def mix(first: torch.Tensor, second: torch.Tensor, first_weight: float) -> torch.Tensor:
    """L2-normalised ``w * first + (1 - w) * second`` of two unit-vector batches."""
    return F.normalize(first_weight * first + (1.0 - first_weight) * second, dim=-1)


def joint_image_embedding(
    semantic: torch.Tensor, visual: torch.Tensor, semantic_share: float
) -> torch.Tensor:
    """``[sqrt(s) * semantic, sqrt(1 - s) * visual]`` for unit inputs: a unit vector.

    A text embedding is ``[text, 0]``, so text-image cosine is ``sqrt(s)`` times the semantic
    cosine (same ranking), while image-image cosine is ``s * semantic + (1 - s) * visual``.
    """
    return torch.cat(
        [semantic * semantic_share**0.5, visual * (1.0 - semantic_share) ** 0.5], dim=-1
    )


def pad_text_embedding(text: torch.Tensor, visual_dim: int) -> torch.Tensor:
    """``[text, zeros(visual_dim)]``: a text embedding in the joint image space."""
    return torch.cat([text, text.new_zeros(text.shape[0], visual_dim)], dim=-1)
