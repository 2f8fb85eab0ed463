"""What a visitor can ask the app for, one request object per kind of question.

Each field is declared once, with the :mod:`mmdemo.policy` rule that checks it, the value
a caller who leaves it out gives, and its API description: the API endpoints take exactly
these fields as their parameters, in this order (:mod:`mmdemo.ui.api`), and the page's
events name the same fields (:class:`mmdemo.ui.shared.Form`). Requests are built only by
:meth:`mmdemo.policy.Policy.admit`, so every value in one has passed its rule. Adding a
field is one line here, plus its rule in the policy when none there fits.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from mmdemo.policy import Request, ask
from mmdemo.policy.limits import DATASET_ROWS_MAX, EXPECTED_MAX, MODELS_MAX, TOP_K_MAX
from mmdemo.policy.rules import (
    BACKEND,
    CHOICE,
    CONFIRM,
    EMBEDDER,
    EMBEDDER_OR_DEFAULT,
    FLAG,
    NAME,
    NO_RERANKER,
    QUERY_TEXT,
    RERANKER,
    TOP_K,
    UPLOAD,
    UPLOADS,
    WEIGHT,
    WHERE,
    Collection,
    Count,
    Dataset,
    Listed,
    Number,
    Queries,
    Target,
)
from mmdemo.search.hybrid import CAPTION_WEIGHT
from mmdemo.search.lexical_fusion import LEXICAL_WEIGHT

if TYPE_CHECKING:
    from mmdemo.search.query import Query

TOP_K_LABEL = "number of results (top_k)"
#: A collection of the caller's own to delete from: never a demo.
DELETABLE = Collection(
    "change", "Choose a collection to delete.", "The demo collection {name} cannot be deleted here."
)
#: Text that the page and the API describe the same way.
RERANKER_DOC = 'a reranker preset or Hub id, or "none"'
BACKEND_DOC = 'what runs the embedder: "auto", "torch", "onnx" or "openvino"; blank: the app\'s'
TOP_K_DOC = f"how many results, 1 to {TOP_K_MAX}"
IMAGE_DOC = "an example image, optional: handle_file(path or URL); over MCP an http(s) URL"


@dataclass(frozen=True)
class Setup:
    """Where and how one search runs: the collection, the embedder, the reranker, top-k."""

    collection: Target
    model: str
    reranker: str | None
    top_k: int
    #: What runs the embedder; None: the app's setting.
    backend: str | None = None


@dataclass(frozen=True, kw_only=True)
class SearchRequest(Request):
    """One search by text, an example image, or both (the Search tab and ``/search``)."""

    collection: Target = ask(
        Collection("read", "Choose a collection to search."), doc="the collection to search"
    )
    text: str = ask(QUERY_TEXT, "", "what to look for")
    image: str | None = ask(UPLOAD, None, IMAGE_DOC)
    model: str = ask(EMBEDDER_OR_DEFAULT, "", "the embedding model; default: the app's default")
    reranker: str | None = ask(RERANKER, NO_RERANKER, RERANKER_DOC)
    top_k: int = ask(TOP_K, 10, TOP_K_DOC, label=TOP_K_LABEL)
    weight: float = ask(WEIGHT, 0.5, "text vs image when both are given (1 = text only)")
    negative: str = ask(QUERY_TEXT, "", "text to steer away from")
    negative_weight: float = ask(WEIGHT, 0.5, "how strongly to steer away, 0..1")
    caption_contains: str = ask(QUERY_TEXT, "", "keep only items whose caption contains this")
    where: str = ask(WHERE, "", 'metadata filter, e.g. "brand=acme and price<10"')
    caption_weight: float = ask(
        WEIGHT, CAPTION_WEIGHT, "share of caption similarity in text queries, 0..1 (0 = images)"
    )
    lexical_weight: float = ask(
        WEIGHT,
        LEXICAL_WEIGHT,
        "share of exact word matches in captions, page text and metadata, 0..1 (0 = off); "
        'words in "quotes" must match',
    )
    backend: str | None = ask(BACKEND, "", BACKEND_DOC)

    @property
    def setup(self) -> Setup:
        return Setup(self.collection, self.model, self.reranker, self.top_k, self.backend)

    def query(self) -> Query:
        """The library's query, validated (an empty query is refused here): every field
        the query has, by name, the filters parsed."""
        from mmdemo.filters import parse_where
        from mmdemo.search.query import Query

        given = {f.name: getattr(self, f.name) for f in fields(Query) if hasattr(self, f.name)}
        filters = {"caption_contains": self.caption_contains or None}
        query = Query(**given | filters | {"where": parse_where(self.where)})
        query.validate()
        return query


@dataclass(frozen=True, kw_only=True)
class SimilarRequest(Request):
    """Find similar: the search's set-up and the result (its position) to search with."""

    index: int = ask(Count(0, TOP_K_MAX), label="result number")
    collection: Target = ask(Collection("read", "Choose a collection to search."))
    model: str = ask(EMBEDDER_OR_DEFAULT, "")
    reranker: str | None = ask(RERANKER, NO_RERANKER)
    top_k: int = ask(TOP_K, 10, label=TOP_K_LABEL)

    @property
    def setup(self) -> Setup:
        return Setup(self.collection, self.model, self.reranker, self.top_k)


@dataclass(frozen=True, kw_only=True)
class CompareRequest(Request):
    """One query through two set-ups on one collection (the Compare tab and ``/compare``)."""

    collection: Target = ask(
        Collection("read", "Choose a collection to compare on."), doc="the collection to search"
    )
    model_a: str = ask(EMBEDDER, doc="set-up A's embedding model")
    model_b: str = ask(EMBEDDER, doc="set-up B's embedding model")
    text: str = ask(QUERY_TEXT, "", "what to look for")
    image: str | None = ask(UPLOAD, None, IMAGE_DOC)
    reranker_a: str | None = ask(RERANKER, NO_RERANKER, f"set-up A's reranker: {RERANKER_DOC}")
    reranker_b: str | None = ask(RERANKER, NO_RERANKER, f"set-up B's reranker: {RERANKER_DOC}")
    top_k: int = ask(TOP_K, 10, TOP_K_DOC, label=TOP_K_LABEL)
    expected: tuple[str, ...] = ask(
        Listed(NAME, EXPECTED_MAX),
        None,
        "file names or ids that answer the query; with them the verdict names the winner",
        label="known answers",
    )

    @property
    def setups(self) -> tuple[Setup, Setup]:
        return (
            Setup(self.collection, self.model_a, self.reranker_a, self.top_k),
            Setup(self.collection, self.model_b, self.reranker_b, self.top_k),
        )


@dataclass(frozen=True, kw_only=True)
class VoteRequest(Request):
    """A viewer's say on one comparison: A better, a tie, or B better (``/vote``)."""

    collection: Target = ask(
        Collection("read", "Choose the collection the comparison ran on."),
        doc="the collection compared on",
    )
    model_a: str = ask(EMBEDDER, doc="set-up A's embedding model")
    model_b: str = ask(EMBEDDER, doc="set-up B's embedding model")
    choice: str = ask(CHOICE, doc='"A", "tie" or "B"')
    text: str = ask(QUERY_TEXT, "", "the query's text")
    image: str | None = ask(UPLOAD, None, "the query's image (handle_file), optional")
    reranker_a: str | None = ask(RERANKER, NO_RERANKER, f"set-up A's reranker: {RERANKER_DOC}")
    reranker_b: str | None = ask(RERANKER, NO_RERANKER, f"set-up B's reranker: {RERANKER_DOC}")


@dataclass(frozen=True, kw_only=True)
class VotesRequest(Request):
    """The viewers' tally on one pair of set-ups (``/votes``)."""

    model_a: str = ask(EMBEDDER, doc="set-up A's embedding model")
    model_b: str = ask(EMBEDDER, doc="set-up B's embedding model")
    reranker_a: str | None = ask(RERANKER, NO_RERANKER, f"set-up A's reranker: {RERANKER_DOC}")
    reranker_b: str | None = ask(RERANKER, NO_RERANKER, f"set-up B's reranker: {RERANKER_DOC}")


@dataclass(frozen=True, kw_only=True)
class IndexRequest(Request):
    """Images, archives, PDFs and a dataset to index into a collection (``/index``)."""

    writes = "uploading and indexing"

    files: tuple[str, ...] = ask(UPLOADS, None, "image files, zip archives and PDFs (handle_file)")
    collection: Target = ask(Collection("create"), "", "the collection to add to (made if new)")
    models: tuple[str, ...] = ask(
        Listed(EMBEDDER_OR_DEFAULT, MODELS_MAX, "Name at least one embedding model to index with.",
               ("",)),
        None,
        f"up to {MODELS_MAX} embedding models (presets or Hub ids); default: the app's default",
    )  # fmt: skip
    captions: str | None = ask(UPLOAD, None, "a CSV with a file-name column, captions, metadata")
    dataset: str | None = ask(
        Dataset(), "", "a Hugging Face dataset, hf:OWNER/NAME, read as the page reads it"
    )
    split: str = ask(NAME, "train", "the dataset's split")
    image_column: str = ask(NAME, "image", "the dataset's image column")
    caption_column: str = ask(NAME, "", "its caption column (blank: caption, text or description)")
    limit: int | None = ask(
        Count(0, DATASET_ROWS_MAX, optional=True),
        None,
        "at most this many dataset rows (0 or none: all a visitor may hold)",
        label="dataset row limit (limit)",
    )
    ocr: bool = ask(
        FLAG, False, "read text inside images (OCR), stored and searched: slower, off by default",
        label="OCR choice (ocr)",
    )  # fmt: skip
    backend: str | None = ask(BACKEND, "", BACKEND_DOC)
    folder: tuple[str, ...] = ask(UPLOADS, None, api=False)


@dataclass(frozen=True, kw_only=True)
class IndexModelRequest(Request):
    """A collection's stored images to embed with one more model (``/index_existing``)."""

    writes = "indexing"

    collection: Target = ask(
        Collection("change", "Choose a collection to index."), doc="a collection of yours"
    )
    model: str = ask(EMBEDDER, doc="the embedding model to add")
    backend: str | None = ask(BACKEND, "", BACKEND_DOC)


@dataclass(frozen=True, kw_only=True)
class StatusRequest(Request):
    """The app's start-up status (``/status``): it asks for nothing."""


@dataclass(frozen=True, kw_only=True)
class ListRequest(Request):
    """The collections a caller may see (``/collections``, the page's lists)."""


@dataclass(frozen=True, kw_only=True)
class DeleteRequest(Request):
    """A collection to delete with every model's index (``/delete``)."""

    writes = "deleting collections"

    collection: Target = ask(DELETABLE, doc="the collection to delete")
    confirm: bool = ask(CONFIRM, False, "must be true: deleting cannot be undone")


@dataclass(frozen=True, kw_only=True)
class EvaluateRequest(Request):
    """Set-ups (embedder x reranker) to measure over many queries (``/evaluate``)."""

    collection: Target = ask(
        Collection("read", "Choose a collection to evaluate on."), doc="the collection"
    )
    models: tuple[str, ...] = ask(
        Listed(EMBEDDER, MODELS_MAX, "Choose at least one embedding model."),
        doc=f"up to {MODELS_MAX} embedding models; ones the collection lacks are indexed first",
    )
    rerankers: tuple[str | None, ...] = ask(
        Listed(RERANKER, MODELS_MAX, default=(NO_RERANKER,)),
        None,
        f'up to {MODELS_MAX} rerankers, "none" for no reranking (default: none only)',
    )
    queries: tuple[dict[str, str], ...] | None = ask(
        Queries(),
        None,
        'rows {"query": text, "relevant": "a.jpg|b.jpg"}; default: each captioned image '
        "queried with its own caption",
    )
    rerank_captions: bool = ask(
        FLAG,
        False,
        "let rerankers read captions (leaks the answer for caption queries)",
        label="rerank_captions value",
    )
    queries_csv: str | None = ask(UPLOAD, None, api=False)


@dataclass(frozen=True, kw_only=True)
class MapRequest(Request):
    """A collection's map under one model, with a text query's top-k ringed."""

    collection: Target = ask(Collection("read", "Choose a collection to map."))
    model: str = ask(EMBEDDER)
    text: str = ask(QUERY_TEXT, "")
    top_k: int = ask(TOP_K, 5, label=TOP_K_LABEL)


@dataclass(frozen=True, kw_only=True)
class MapSimilarRequest(Request):
    """The items most like the one selected on a collection's map."""

    collection: Target = ask(Collection("read", "Choose a collection to map."))
    model: str = ask(EMBEDDER)
    point: int | None = ask(Count(0, DATASET_ROWS_MAX, optional=True), None, label="selected point")


@dataclass(frozen=True, kw_only=True)
class DuplicatesRequest(Request):
    """A collection to check for near-duplicates at a similarity threshold."""

    collection: Target = ask(
        Collection("read", "Choose a collection to check for near-duplicates.")
    )
    threshold: float = ask(Number(0.5, 1.0), label="similarity threshold")


NOTHING_FOUND = "Find near-duplicates first: there is nothing to delete yet."
DEMO_UNCHANGED = "The demo collection {name} cannot be changed here."


@dataclass(frozen=True, kw_only=True)
class DuplicatesDeleteRequest(Request):
    """Delete all but one item of each near-duplicate group last found in a collection."""

    writes = "deleting images"

    collection: Target = ask(Collection("change", NOTHING_FOUND, DEMO_UNCHANGED))
    confirm: bool = ask(CONFIRM, False)


@dataclass(frozen=True, kw_only=True)
class FinetuneRequest(Request):
    """An embedder to fine-tune on a collection's captions (operator only)."""

    writes = "fine-tuning"
    operator_only = "Fine-tuning"

    collection: Target = ask(Collection("read", "Choose a collection whose captions to train on."))
    base: str = ask(EMBEDDER, label="base model")
    name: str = ask(NAME, "", label="fine-tuned model's name")
    epochs: int | None = ask(Count(0, 1000, optional=True))
    batch_size: int | None = ask(Count(0, 65536, optional=True), label="batch size")
    lr: float | None = ask(Number(0.0, 1.0, optional=True), label="learning rate")
    eval_split: float = ask(Number(0.05, 0.5), 0.2, label="share held out for evaluation")
    overwrite: bool = ask(FLAG, False, label="replace choice")
    push_to_hub: str = ask(NAME, "", label="Hub repo id")


@dataclass(frozen=True, kw_only=True)
class CollectionRequest(Request):
    """A collection the page shows something of (its example queries)."""

    collection: Target = ask(Collection("read", "Choose a collection."))


@dataclass(frozen=True, kw_only=True)
class ModelRequest(Request):
    """An embedding model the page shows something of (set-up note, reranker pair)."""

    model: str = ask(EMBEDDER)


@dataclass(frozen=True, kw_only=True)
class PickRequest(Request):
    """A position in a list the page showed (an example query, a result)."""

    index: int = ask(Count(0, 10_000), label="choice")


@dataclass(frozen=True, kw_only=True)
class PairRequest(Request):
    """Two of an evaluation's set-ups to show the disagreements of."""

    a: str = ask(NAME, "", label="set-up A")
    b: str = ask(NAME, "", label="set-up B")
