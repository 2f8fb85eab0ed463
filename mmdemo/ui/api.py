"""The app's public API: typed ``gr.api`` endpoints, independent of the page's layout.

Each endpoint takes named plain values (strings, numbers, lists, and files sent with
``gradio_client.handle_file``) and returns JSON-able dicts and lists, or a file. They
call the same functions as the page's events, which are all private: moving a component
on the page never changes the API. Endpoints: ``index``, ``index_existing``, ``search``,
``compare``, ``collections``, ``delete``, ``status``, and ``evaluate`` (declared in
:mod:`mmdemo.ui.evaluate_api`).
"""

from dataclasses import asdict
from typing import Any

import gradio as gr
from gradio_client.utils import is_file_obj_with_meta

from mmdemo.errors import InputError
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.tenancy import Visitor
from mmdemo.ui import collections_tab, compare_tab, evaluate_api, search_run
from mmdemo.ui.context import POOLED, SEARCH_POOLED, AppContext
from mmdemo.ui.shared import NO_RERANKER, shows_errors

#: A file as gradio_client's ``handle_file`` sends it; the app receives it uploaded.
FileInput = dict[str, Any]


def uploaded_path(value: FileInput | None) -> str | None:
    """The local path of a file the client uploaded, or None.

    Only gradio's file objects are accepted: gradio has checked and copied those into its
    upload cache. A bare string would name a file on the server, which a visitor must
    never be able to index or search with.
    """
    if value is None:
        return None
    if not is_file_obj_with_meta(value):
        raise InputError("Send files with gradio_client.handle_file(...), not as plain paths.")
    return str(value["path"])


def _no_progress(*_: Any, **__: Any) -> None:
    """API calls report no progress bar."""


def register(ctx: AppContext) -> None:
    """Declare every endpoint inside the current Blocks."""

    @shows_errors
    def index(
        files: list[FileInput] | None = None,
        collection: str = "",
        models: list[str] | None = None,
        captions: FileInput | None = None,
        dataset: str = "",
        split: str = "train",
        image_column: str = "image",
        caption_column: str = "",
        limit: int | None = None,
        request: gr.Request | None = None,  # gradio passes the caller's request
    ) -> dict[str, Any]:
        """Index images, zip archives, PDFs and a dataset into a collection (created if new).

        Args:
            files: image files, zip archives and PDFs (handle_file each)
            collection: the collection to add to
            models: embedding models (preset keys or Hub ids); default: the app's default
            captions: an optional CSV with a file-name column, captions and metadata
            dataset: an optional Hugging Face dataset, hf:OWNER/NAME (or a local dataset
                folder where the operator allows server paths), read as the page reads it
            split, image_column: the dataset's split and image column
            caption_column: its caption column (blank: caption, text or description)
            limit: at most this many dataset rows (a visitor's are capped at what they may hold)
        Returns:
            {"added", "present", "rejected": [{"file", "reason"}]}
        """
        paths = [p for p in (uploaded_path(f) for f in files or []) if p]
        chosen = models or [ctx.bootstrap.status().default_model]
        caption_path = uploaded_path(captions)
        options = collections_tab.dataset_options(split, image_column, caption_column, limit)
        _, _, report = collections_tab.index_uploads(
            ctx, _visitor(request), paths, [], caption_path, collection, chosen, _no_progress,
            dataset, options,
        )  # fmt: skip
        return report

    @shows_errors
    def index_existing(
        collection: str,
        model: str,
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Embed a collection's stored images with one more model, to compare it.

        Returns:
            {"added", "present", "rejected"}
        """
        _, report = compare_tab.index_with_model(
            ctx, _visitor(request), collection, model, _no_progress
        )
        return report

    @shows_errors
    def search(
        collection: str,
        text: str = "",
        image: FileInput | None = None,
        model: str = "",
        reranker: str = NO_RERANKER,
        top_k: int = 10,
        weight: float = 0.5,
        negative: str = "",
        negative_weight: float = 0.5,
        caption_contains: str = "",
        where: str = "",
        caption_weight: float = CAPTION_WEIGHT,
        request: gr.Request | None = None,
    ) -> tuple[dict[str, Any], gr.FileData]:
        """Search a collection by text, an example image, or both.

        Args:
            collection: the collection to search
            text: what to look for
            image: an example image (handle_file), optional
            model: the embedding model; default: the app's default model
            reranker: a reranker preset, or "none"
            top_k: how many results
            weight: text vs image when both are given (1 = text only)
            negative: text to steer away from
            negative_weight: how strongly to steer away, 0..1
            caption_contains: keep only items whose caption contains this
            where: metadata filter, e.g. "brand=acme and price<10 and color in (red, blue)"
            caption_weight: share of caption similarity in text queries, 0..1 (0 = images)
        Returns:
            {"model", "reranker", "timings_ms", "notes", "results": [{rank, id, file_name, caption,
            score, rerank_score, rank_before_rerank}]}, and the results as a CSV file
        """
        found = search_run.find(
            ctx,
            _visitor(request),
            text,
            uploaded_path(image),
            weight,
            negative,
            negative_weight,
            caption_contains,
            where,
            caption_weight,
            collection,
            model or ctx.bootstrap.status().default_model,
            reranker,
            top_k,
        )
        return found.payload, gr.FileData(path=found.csv_path, orig_name="search-results.csv")

    @shows_errors
    def compare(
        collection: str,
        model_a: str,
        model_b: str,
        text: str = "",
        image: FileInput | None = None,
        reranker_a: str = NO_RERANKER,
        reranker_b: str = NO_RERANKER,
        top_k: int = 10,
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Run one query through two set-ups (embedding model + reranker or "none").

        Returns:
            {"verdict": [sentences], "a": side, "b": side, "agreement": {k, shared,
            overlap_at_k, rbo, rbo_p, kendall_tau}}; a side is {"indexed", "error",
            "model", "reranker", "timings_ms", "results"}
        """
        *_, payload = compare_tab.run_compare(
            ctx,
            _visitor(request),
            text,
            uploaded_path(image),
            collection,
            model_a,
            reranker_a,
            model_b,
            reranker_b,
            top_k,
        )
        return payload

    @shows_errors
    def collections(request: gr.Request | None = None) -> list[dict[str, Any]]:
        """Every collection this caller may see: [{"name", "images", "models": {model: count}}]."""
        visible = _visitor(request).visible(ctx.store().collections())
        _, listing = collections_tab.list_collections(visible)
        return listing

    @shows_errors
    def delete(
        collection: str,
        confirm: bool = False,
        request: gr.Request | None = None,
    ) -> dict[str, Any]:
        """Delete a collection with every model's index (never the demo collection).

        Args:
            collection: the collection to delete
            confirm: must be true: deleting cannot be undone
        Returns:
            {"collection", "message"}
        """
        message = collections_tab.delete_collection(ctx, _visitor(request), collection, confirm)
        return {"collection": collection, "message": message}

    def status() -> dict[str, Any]:
        """Start-up status: phase (starting/indexing/ready/failed), message, default model."""
        return asdict(ctx.bootstrap.status())

    def _visitor(request: gr.Request | None) -> Visitor:
        """The caller as a visitor: the same rules as the page, by gradio's session hash."""
        return ctx.visitor(request.session_hash if request is not None else None)

    for model_work in (index, index_existing, compare):
        gr.api(model_work, api_name=model_work.__name__, **POOLED)
    gr.api(search, api_name="search", **SEARCH_POOLED)
    for endpoint in (collections, delete, status):
        gr.api(endpoint, api_name=endpoint.__name__)
    evaluate_api.register_api(ctx)
