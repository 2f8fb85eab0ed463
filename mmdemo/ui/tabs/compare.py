"""The Compare tab: one query, one collection, two set-ups (embedder + optional reranker).

A plain-language verdict comes first (:mod:`mmdemo.evaluate.verdict`); then each side's
results as the same clean cards as Search (:mod:`mmdemo.present.linked`), where an image
both sides return carries the same colour and ``A#i ↔ B#j`` badge on both and an image only
one side has says so; then how much the rankings agree (overlap@k, rank-biased overlap,
Kendall's tau). A side whose model has not indexed the collection offers to index it with
that model. One button compares the current model with and without its reranker. The
public API (``compare``, ``index_existing``) is in ``ui/api.py``.
"""

import re
from dataclasses import dataclass
from typing import Any

import gradio as gr

from mmdemo.errors import InputError, MMDemoError, NotFoundError
from mmdemo.evaluate.compare import (
    DEFAULT_P,
    kendall_tau_shared,
    overlap_at_k,
    rank_biased_overlap,
)
from mmdemo.evaluate.verdict import SetupName, same_list_reason, verdict
from mmdemo.models import registry
from mmdemo.present.linked import LINK_PALETTE, linked_grids
from mmdemo.search.engine import RERANK_CANDIDATES
from mmdemo.tenancy import Visitor
from mmdemo.ui.context import POOLED, SAMPLE_QUERY, AppContext
from mmdemo.ui.search_view import GRID_JS, shown_image
from mmdemo.ui.shared import (
    NO_RERANKER,
    PRIVATE,
    model_dropdown,
    present,
    reranker_dropdown,
    reranker_name,
    shows_errors,
)

Rows = list[dict[str, Any]]
SideOutput = tuple[Rows, str, dict[str, Any]]
CompareOutput = tuple[str, str, str, str, str, str, dict[str, Any]]
SIDES = ("A", "B")
#: Compare's cards use the Search grid's styles; these add the colours that link an item's
#: cards on both sides (one per ``mm-link-N`` slot) and the dashed card of a one-side item.
CSS = (
    ".mm-linked { border: 3px solid var(--mm-link); }\n"
    ".mm-linked .mm-badge { border-left: 12px solid var(--mm-link); }\n"
    ".mm-only { border: 2px dashed var(--body-text-color-subdued); }\n"
    ".mm-only .mm-badge { font-style: italic; }\n"
    + "".join(f".mm-link-{i} {{ --mm-link: {c}; }}\n" for i, c in enumerate(LINK_PALETTE))
)


@dataclass
class Setup:
    """One side's components."""

    model: gr.Dropdown
    reranker: gr.Dropdown
    grid: gr.HTML
    info: gr.Markdown
    index_button: gr.Button


@dataclass
class CompareTab:
    """The components other parts of the app refresh."""

    collection: gr.Dropdown
    models: tuple[gr.Dropdown, gr.Dropdown]
    rerankers: tuple[gr.Dropdown, gr.Dropdown]


def _side(
    ctx: AppContext, query: Any, collection: str, model: str, reranker: str | None, top_k: int
) -> SideOutput:
    """One set-up's result rows, info line and JSON; a failure stays on its side."""
    from mmdemo.search.engine import search

    ctx.check_model(model, "embedder")
    ctx.check_model(reranker_name(reranker), "reranker")
    key = registry.resolve(model, "embedder").key
    if not ctx.store().has_model(collection, key):
        info = f"Collection `{collection}` is not indexed with `{key}` yet."
        return [], info, {"indexed": False, "model": key, "error": None, "results": []}
    try:
        results = search(
            query,
            collection=collection,
            model=key,
            settings=ctx.settings,
            store=ctx.store(),
            reranker=reranker_name(reranker),
            top_k=top_k,
        )
    except MMDemoError as exc:
        return [], f"**Error:** {exc}", {"indexed": True, "model": key, "error": str(exc)}
    _, info, payload = present(results, ctx.settings)
    return results.rows, info, {"indexed": True, "error": None, **payload}


def agreement(first: list[str], second: list[str], top_k: int) -> dict[str, Any]:
    """overlap@k, RBO and Kendall's tau of two id lists; k is top-k, capped at the longer length."""
    k = min(top_k, max(len(first), len(second)))
    shared = len(set(first[:k]) & set(second[:k]))
    return {
        "k": k,
        "shared": shared,
        "overlap_at_k": overlap_at_k(first, second, k),
        "rbo": rank_biased_overlap(first, second, DEFAULT_P),
        "rbo_p": DEFAULT_P,
        "kendall_tau": kendall_tau_shared(first[:k], second[:k]),
    }


def _agreement_text(measures: dict[str, Any] | None) -> str:
    if measures is None:
        return "Agreement needs results from both set-ups."
    return (
        f"**Agreement** — overlap@{measures['k']}: {measures['overlap_at_k']:.2f} "
        f"({measures['shared']} of {measures['k']} in both) · rank-biased overlap "
        f"(p = {measures['rbo_p']}): {measures['rbo']:.3f} · Kendall's τ on shared items: "
        + ("n/a" if measures["kendall_tau"] is None else f"{measures['kendall_tau']:.2f}")
    )


def _ids(side: dict[str, Any]) -> list[str]:
    return [str(row["id"]) for row in side.get("results", [])]


def _setup_name(label: str, side: dict[str, Any]) -> SetupName:
    return SetupName(label, str(side.get("model", "")), side.get("reranker"))


def tell(
    ctx: AppContext, collection: str, sides: tuple[dict[str, Any], dict[str, Any]], k: int
) -> list[str]:
    """The verdict sentences for two sides' payloads (see :func:`verdict`)."""
    a, b = (_setup_name(label, side) for label, side in zip(SIDES, sides, strict=True))
    size = next((i.images for i in ctx.store().collections() if i.name == collection), 0)
    reason = same_list_reason(a, b, size, max(k, RERANK_CANDIDATES))
    rows = [[(str(r["id"]), str(r["file_name"])) for r in s["results"]] for s in sides]
    return verdict(rows[0], rows[1], (a, b), reason)


#: Characters Markdown would read as formatting; file names may hold any of them.
_MARKDOWN = re.compile(r"([\\`*_\[\]{}()#+\-.!|~<>&])")


def as_plain_markdown(text: str) -> str:
    """``text`` shown literally by gr.Markdown: no planted link, image, HTML or emphasis."""
    return _MARKDOWN.sub(r"\\\1", text)


def _verdict_text(sentences: list[str] | None) -> str:
    if not sentences:
        return "**Verdict:** run both set-ups to compare them."
    return "**Verdict:** " + as_plain_markdown(" ".join(sentences))


def run_compare(
    ctx: AppContext,
    visitor: Visitor,
    text: str | None,
    image: str | None,
    collection: str | None,
    model_a: str,
    reranker_a: str | None,
    model_b: str,
    reranker_b: str | None,
    top_k: float,
) -> CompareOutput:
    """Run the query through both set-ups: the verdict, both sides, the agreement and JSON."""
    from mmdemo.search.query import Query

    if not collection:
        raise InputError("Choose a collection to compare on.")
    query = Query(text, image)
    query.validate()
    ctx.require_ready(collection)
    collection = visitor.read(collection, ctx.store())
    if not ctx.store().models(collection):
        raise NotFoundError(f"Collection {collection!r} does not exist.")
    k = int(top_k)
    rows_a, info_a, side_a = _side(ctx, query, collection, model_a, reranker_a, k)
    rows_b, info_b, side_b = _side(ctx, query, collection, model_b, reranker_b, k)
    ids_a, ids_b = _ids(side_a), _ids(side_b)
    grid_a, grid_b = linked_grids(rows_a, rows_b, shown_image(ctx.settings))
    both = bool(ids_a and ids_b)
    measures = agreement(ids_a, ids_b, k) if both else None
    sentences = tell(ctx, collection, (side_a, side_b), k) if both else None
    payload = {"a": side_a, "b": side_b, "agreement": measures, "verdict": sentences}
    told = _verdict_text(sentences)
    return told, grid_a, info_a, grid_b, info_b, _agreement_text(measures), payload


def index_with_model(
    ctx: AppContext, visitor: Visitor, collection: str | None, model: str, progress: Any
) -> tuple[str, dict[str, Any]]:
    """Embed a collection's stored images with one more model (for comparison)."""
    from mmdemo.ingest.indexer import index_existing

    ctx.require_writable("indexing")
    if not collection:
        raise InputError("Choose a collection to index.")
    ctx.require_ready(collection)
    ctx.check_model(model, "embedder")

    def report_progress(done: int, total: int) -> None:
        progress((done, total), desc=f"Indexing with {model}", unit="images")

    report = index_existing(
        collection=visitor.change(collection, ctx.store()),
        models=[model],
        settings=ctx.settings,
        store=ctx.store(),
        progress=report_progress,
    )
    message = (
        f"Indexed `{collection}` with `{model}`: {report.added} images embedded, "
        f"{len(report.rejected)} could not be read."
    )
    return message, report.to_json()


def _default_comparison_reranker() -> str:
    """Side B reranks with the first offline reranker, so the default comparison runs here."""
    offline = [p.key for p in registry.presets("reranker") if p.offline]
    return offline[0] if offline else NO_RERANKER


def _setup_column(ctx: AppContext, name: str, reranker: str) -> Setup:
    default = ctx.bootstrap.status().default_model
    with gr.Column():
        gr.Markdown(f"### Set-up {name}")
        with gr.Row():
            model = model_dropdown("Embedding model", default, elem_id=f"compare-model-{name}")
            rerank = reranker_dropdown(reranker, elem_id=f"compare-reranker-{name}")
        grid = gr.HTML("", js_on_load=GRID_JS, elem_id=f"compare-results-{name}")
        info = gr.Markdown(label=f"info_{name.lower()}", elem_id=f"compare-info-{name}")
        button = gr.Button("Index with this model", visible=False, size="sm")
    return Setup(model, rerank, grid, info, button)


def reranker_pair(model: str) -> tuple[str, str, str]:
    """Set-ups for "with vs without reranker": B = A's model, A unreranked, B reranked.

    B uses the model's default reranker, else the offline one, so the comparison runs here.
    """
    key = registry.resolve(model, "embedder").key
    return key, NO_RERANKER, registry.default_reranker(key) or _default_comparison_reranker()


def build(ctx: AppContext) -> CompareTab:
    """Render the tab inside the current Blocks and register its (private) events."""

    @shows_errors
    def on_compare(
        text: str | None,
        image: str | None,
        collection: str | None,
        model_a: str,
        reranker_a: str | None,
        model_b: str,
        reranker_b: str | None,
        top_k: float,
        request: gr.Request,
    ) -> CompareOutput:
        return run_compare(
            ctx,
            ctx.visitor(request.session_hash),
            text,
            image,
            collection,
            model_a,
            reranker_a,
            model_b,
            reranker_b,
            top_k,
        )

    @shows_errors
    def on_index(
        collection: str | None,
        model: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (gradio's injection idiom)
    ) -> tuple[str, dict[str, Any]]:
        return index_with_model(ctx, ctx.visitor(request.session_hash), collection, model, progress)

    @shows_errors
    def on_reranker_pair(model: str) -> tuple[str, str, str]:
        return reranker_pair(model)

    def offer_indexing(payload: dict[str, Any]) -> tuple[gr.Button, gr.Button]:
        return tuple(  # type: ignore[return-value]
            gr.Button(visible=not ctx.readonly and not payload[side]["indexed"])
            for side in ("a", "b")
        )

    with gr.Tab("Compare", id="compare"):
        gr.Markdown(
            "Run one query through two set-ups over the same collection: the verdict says "
            "what changed, a shared colour and badge link the images both return."
        )
        with gr.Row():
            text = gr.Textbox(value=SAMPLE_QUERY, label="Text query", scale=3, elem_id="cmp-text")
            image = gr.Image(
                label="Query image (optional)",
                type="filepath",
                sources=["upload", "clipboard", "webcam"],
                height=150,
                scale=2,
            )
            with gr.Column(scale=2):
                collection = gr.Dropdown(
                    [],
                    value=ctx.demo_name,
                    label="Collection",
                    allow_custom_value=True,
                    elem_id="cmp-coll",
                )
                top_k = gr.Slider(1, 50, value=10, step=1, label="Results (top-k)")
        with gr.Row():
            button = gr.Button("Compare", variant="primary", elem_id="compare-button")
            pair = gr.Button(
                "With vs without reranker", variant="secondary", elem_id="compare-reranker-pair"
            )
        told = gr.Markdown(elem_id="compare-verdict")
        with gr.Row():
            side_a = _setup_column(ctx, "A", NO_RERANKER)
            side_b = _setup_column(ctx, "B", _default_comparison_reranker())
        measures = gr.Markdown(label="agreement", elem_id="compare-agreement")
        payload = gr.JSON(label="comparison", visible=False)
        index_report = gr.JSON(label="index_report", visible=False)

    inputs = [text, image, collection, side_a.model, side_a.reranker]
    inputs += [side_b.model, side_b.reranker, top_k]
    outputs = [told, side_a.grid, side_a.info, side_b.grid, side_b.info, measures, payload]
    buttons = [side_a.index_button, side_b.index_button]
    gr.on([text.submit, button.click], on_compare, inputs, outputs, **PRIVATE, **POOLED).success(
        offer_indexing, payload, buttons, **PRIVATE
    )
    pair.click(
        on_reranker_pair, side_a.model, [side_b.model, side_a.reranker, side_b.reranker], **PRIVATE
    ).success(on_compare, inputs, outputs, **PRIVATE, **POOLED).success(
        offer_indexing, payload, buttons, **PRIVATE
    )
    for side in (side_a, side_b):
        side.index_button.click(
            on_index, [collection, side.model], [side.info, index_report], **PRIVATE, **POOLED
        ).success(on_compare, inputs, outputs, **PRIVATE, **POOLED).success(
            offer_indexing, payload, buttons, **PRIVATE
        )
    return CompareTab(collection, (side_a.model, side_b.model), (side_a.reranker, side_b.reranker))
