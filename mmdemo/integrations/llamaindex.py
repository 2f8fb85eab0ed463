"""A LlamaIndex retriever over an mmdemo collection (needs ``llama-index-core``).

``MMDemoRetriever(collection="trip").retrieve("a dog on a beach")`` returns
``NodeWithScore`` objects, best first, each holding an ``ImageNode`` (``image_path``, the
caption as text, the result row as metadata) scored by its ``match`` (0..1). A
``QueryBundle`` with ``image_path`` searches by image, or by text and image together.
"""

from __future__ import annotations

from typing import Any

from mmdemo.config import Settings
from mmdemo.integrations.retrieval import CollectionSearch, missing_package

try:
    from llama_index.core.retrievers import BaseRetriever
    from llama_index.core.schema import ImageNode, NodeWithScore, QueryBundle
except ImportError as exc:
    raise missing_package("llama-index-core") from exc


class MMDemoRetriever(BaseRetriever):
    """Text and/or image search over one mmdemo collection, with optional reranking.

    ``search_options`` are passed to the library search on every call (e.g.
    ``{"caption_contains": "beach", "negative": "people"}``).
    """

    def __init__(
        self,
        collection: str,
        *,
        model: str | None = None,
        reranker: str | None = None,
        top_k: int = 5,
        data_dir: str | None = None,
        search_options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        settings = Settings.from_env(data_dir=data_dir)
        options = dict(search_options or {})
        self._search = CollectionSearch(collection, model, reranker, top_k, settings, options)
        super().__init__(**kwargs)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        rows = self._search.run(query_bundle.query_str, query_bundle.image_path)
        return [
            NodeWithScore(
                node=ImageNode(
                    id_=row["id"],
                    text=row["caption"] or "",
                    image_path=row["path"],
                    metadata=row,
                ),
                score=float(row["match"]),
            )
            for row in rows
        ]
