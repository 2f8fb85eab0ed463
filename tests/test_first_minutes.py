"""What a newcomer reads first: the header names the model and, offline, how to get CLIP."""

from __future__ import annotations

from mmdemo.models.registry import OFFLINE_EMBEDDER
from mmdemo.ui.layout import model_line


def test_the_offline_header_says_how_to_get_clip_when_the_hub_is_out_of_reach() -> None:
    offline = model_line(OFFLINE_EMBEDDER, hub_reachable=False)
    assert "Load CLIP" not in offline
    assert "Hugging Face Space" in offline
    assert "Load CLIP" in model_line(OFFLINE_EMBEDDER, hub_reachable=True)
