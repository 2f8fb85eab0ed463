"""RAG retrievers over a collection, with the real langchain-core and llama-index-core."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

import pytest
from langchain_core.documents import Document
from llama_index.core.schema import ImageNode, NodeWithScore, QueryBundle

from mmdemo.config import Settings
from mmdemo.errors import InputError, MissingPackageError
from mmdemo.ingest.indexer import index_paths
from mmdemo.integrations import langchain as lc
from mmdemo.integrations import llamaindex as li
from mmdemo.integrations.retrieval import CollectionSearch
from mmdemo.store import Store

from imagefactory import write_image

CAPTIONS = {"red.png": "a red square", "green.png": "a green field", "blue.png": "a blue sky"}


@pytest.fixture(scope="module")
def collection(tmp_path_factory: pytest.TempPathFactory, tiny_clip_dir: Path) -> dict[str, Any]:
    """Three captioned images indexed with the tiny CLIP into collection "rag"."""
    root = tmp_path_factory.mktemp("rag")
    images = root / "images"
    for name, color in zip(CAPTIONS, [(250, 0, 0), (0, 250, 0), (0, 0, 250)], strict=True):
        write_image(images / name, color, size=(40, 40))
    captions = root / "captions.csv"
    captions.write_text("file_name,caption\n" + "".join(f"{n},{c}\n" for n, c in CAPTIONS.items()))
    settings = Settings(data_dir=root / "data", device="cpu")
    index_paths(
        [images],
        collection="rag",
        models=[str(tiny_clip_dir)],
        settings=settings,
        store=Store(settings),
        captions=captions,
    )
    return {"data_dir": str(root / "data"), "model": str(tiny_clip_dir), "images": images}


def _check_rows(paths: list[str], captions: list[str], scores: list[float], top_k: int) -> None:
    assert len(paths) == top_k
    assert all(Path(p).is_file() for p in paths)
    assert set(captions) <= set(CAPTIONS.values())
    assert scores == sorted(scores, reverse=True)


def test_langchain_retriever_returns_documents_with_paths_captions_and_scores(
    collection: dict[str, Any],
) -> None:
    retriever = lc.MMDemoRetriever(
        collection="rag", model=collection["model"], top_k=3, data_dir=collection["data_dir"]
    )
    docs = retriever.invoke("a red square")
    assert all(isinstance(doc, Document) for doc in docs)
    _check_rows(
        [d.metadata["path"] for d in docs],
        [d.page_content for d in docs],
        [d.metadata["match"] for d in docs],
        3,
    )
    assert [d.page_content for d in docs] == [d.metadata["caption"] for d in docs]
    assert {d.metadata["file_name"] for d in docs} == set(CAPTIONS)


def test_langchain_retriever_takes_an_image_and_passes_search_options_through(
    collection: dict[str, Any],
) -> None:
    retriever = lc.MMDemoRetriever(
        collection="rag",
        model=collection["model"],
        top_k=3,
        data_dir=collection["data_dir"],
        search_options={"caption_contains": "sky"},
    )
    by_image = retriever.invoke("", image=str(collection["images"] / "green.png"))
    assert [d.metadata["file_name"] for d in by_image] == ["blue.png"]
    both = retriever.invoke("sky", image=collection["images"] / "red.png", caption_contains="a")
    assert len(both) == 3  # the call's option overrides the retriever's
    with pytest.raises(InputError, match="Unknown search option"):
        retriever.invoke("sky", wheres="x")
    with pytest.raises(InputError, match=r"Unknown search option\(s\): query"):
        CollectionSearch("rag").run("sky", query="x")  # the retriever sets the query itself


def test_llamaindex_retriever_returns_image_nodes_with_scores(
    collection: dict[str, Any], tiny_reranker_dir: Path
) -> None:
    retriever = li.MMDemoRetriever(
        "rag",
        model=collection["model"],
        reranker=str(tiny_reranker_dir),
        top_k=2,
        data_dir=collection["data_dir"],
    )
    nodes = retriever.retrieve(
        QueryBundle("a blue sky", image_path=str(collection["images"] / "blue.png"))
    )
    assert all(isinstance(n, NodeWithScore) and isinstance(n.node, ImageNode) for n in nodes)
    _check_rows(
        [n.node.image_path for n in nodes],
        [n.node.text for n in nodes],
        [float(n.score or 0) for n in nodes],
        2,
    )
    assert all(n.node.metadata["reranker"] == str(tiny_reranker_dir) for n in nodes)
    assert [n.score for n in nodes] == [n.node.metadata["match"] for n in nodes]
    assert retriever.retrieve("a red square")[0].node.metadata["collection"] == "rag"


def test_an_empty_query_is_a_clear_error(collection: dict[str, Any]) -> None:
    retriever = li.MMDemoRetriever("rag", data_dir=collection["data_dir"])
    with pytest.raises(InputError, match="Empty query"):
        retriever.retrieve(QueryBundle(""))


@pytest.mark.parametrize(
    ("module", "missing", "package"),
    [
        ("mmdemo.integrations.langchain", "langchain_core.retrievers", "langchain-core"),
        ("mmdemo.integrations.llamaindex", "llama_index.core.retrievers", "llama-index-core"),
    ],
)
def test_without_the_framework_importing_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, module: str, missing: str, package: str
) -> None:
    monkeypatch.setitem(sys.modules, missing, None)  # what an absent package looks like
    monkeypatch.delitem(sys.modules, module)
    with pytest.raises(MissingPackageError, match=f"pip install {package}"):
        importlib.import_module(module)
