"""Shared test set-up: no network, no telemetry, and the tiny models every test loads."""

import os

# Tests never reach the Hub or send analytics, whatever the calling shell sets.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

# --- tiny local models (owner: tiny_models.py) ---------------------------------------------
# Built once per session from seeded random weights; tests load them by folder path.

from pathlib import Path

import pytest
from tiny_models import build_tiny_clip, build_tiny_siglip, build_tiny_vlm_reranker


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny CLIP that ``SentenceTransformer(folder)`` loads (text + image, 16-d)."""
    return build_tiny_clip(tmp_path_factory.mktemp("tiny-clip"))


@pytest.fixture(scope="session")
def tiny_siglip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny SigLIP that ``SentenceTransformer(folder)`` loads (text + image, 32-d)."""
    return build_tiny_siglip(tmp_path_factory.mktemp("tiny-siglip"))


@pytest.fixture(scope="session")
def tiny_reranker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Folder of a tiny Llava + LogitScore chain that ``CrossEncoder(folder)`` reloads."""
    return build_tiny_vlm_reranker(tmp_path_factory.mktemp("tiny-reranker"))
