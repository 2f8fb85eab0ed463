"""A LangChain retriever over an mmdemo collection (needs ``langchain-core``).

``MMDemoRetriever(collection="trip").invoke("a dog on a beach")`` returns LangChain
``Document`` objects, best first: the caption (else the file name) as ``page_content`` and
the path, match, similarity and the rest of the result row as metadata.
``invoke(text, image=path)`` searches by text and image together; further keywords are
search options.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mmdemo.config import Settings
from mmdemo.integrations.retrieval import CollectionSearch, missing_package

try:
    from langchain_core.callbacks import CallbackManagerForRetrieverRun
    from langchain_core.documents import Document
    from langchain_core.retrievers import BaseRetriever
except ImportError as exc:
    raise missing_package("langchain-core") from exc


class MMDemoRetriever(BaseRetriever):
    """Text and/or image search over one mmdemo collection, with optional reranking.

    ``search_options`` are passed to the library search on every call (e.g.
    ``{"caption_contains": "beach", "negative": "people"}``); keywords given to ``invoke``
    add to them for that call.
    """

    collection: str
    model: str | None = None
    reranker: str | None = None
    top_k: int = 5
    data_dir: str | None = None
    search_options: dict[str, Any] = {}  # noqa: RUF012 (pydantic copies field defaults)

    def _searcher(self) -> CollectionSearch:
        return CollectionSearch(
            self.collection,
            self.model,
            self.reranker,
            self.top_k,
            Settings.from_env(data_dir=self.data_dir),
            dict(self.search_options),
        )

    def _get_relevant_documents(
        self,
        query: str,
        *,
        run_manager: CallbackManagerForRetrieverRun,
        image: str | Path | None = None,
        **options: Any,
    ) -> list[Document]:
        rows = self._searcher().run(query, image, **options)
        return [
            Document(page_content=row["caption"] or row["file_name"], metadata=row, id=row["id"])
            for row in rows
        ]
