"""Pushing a saved fine-tuned model folder, model card included, to the Hugging Face Hub."""

from __future__ import annotations

import os
from pathlib import Path

from mmdemo.config import Settings
from mmdemo.errors import HubPushError
from mmdemo.models.loading import hub_reachable, load_for_training


def push(folder: Path, repo_id: str, settings: Settings) -> str:
    """Upload ``folder`` as it is through sentence-transformers' ``push_to_hub``.

    The token comes from ``HF_TOKEN`` or the usual ``hf auth login``. Returns the commit
    URL. Raises :class:`HubPushError` (saying the model is safe in ``folder``) when the Hub
    cannot be reached or refuses the upload.
    """
    reachable, why = hub_reachable()
    if not reachable:
        raise HubPushError(
            f"The model is saved in {folder} but was not pushed to {repo_id}: {why}."
        )
    model = load_for_training(str(folder), settings)
    try:
        return str(
            model.push_to_hub(
                repo_id,
                token=os.environ.get("HF_TOKEN") or None,
                local_model_path=str(folder),
                exist_ok=True,
            )
        )
    except Exception as exc:
        cause = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise HubPushError(
            f"The model is saved in {folder} but pushing it to {repo_id} failed: {cause[:200]}"
        ) from exc


def push_outcome(folder: Path, repo_id: str, settings: Settings) -> str:
    """:func:`push`, told as one sentence: where it went, or why it did not go.

    For the web page, where a failed push must not hide the before/after table: the model
    is already saved in ``folder`` either way. The page names the folder by its name only,
    never by its server path.
    """
    try:
        return f"Pushed to {push(folder, repo_id, settings)}."
    except HubPushError as exc:
        return str(exc).replace(str(folder), f"“{folder.name}”")
