"""The Compare tab: one query, one collection, two set-ups (embedder + optional reranker).

A plain-language verdict comes first (:mod:`mmdemo.evaluate.verdict`); then each side's
results as the same clean cards as Search (:mod:`mmdemo.present.linked`), where an image
both sides return carries the same colour and ``A#i ↔ B#j`` badge on both and an image only
one side has says so; then how much the rankings agree (overlap@k, rank-biased overlap,
Kendall's tau). A side whose model has not indexed the collection offers to index it with
that model. One button compares the current model with and without its reranker. Known
answers (file names) make the verdict name the winner and mark those cards; under the
comparison a viewer votes A / tie / B and sees the pair's tally. The public API
(``compare``, ``vote``, ``votes``, ``index_existing``) is in ``ui/api.py``. The query
starts from an example of the chosen collection, its expected files in the known-answers
box (:class:`mmdemo.ui.events.ExampleStart`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr
from gradio.events import Dependency

from mmdemo.policy.rules import NO_RERANKER
from mmdemo.present.linked import LINK_PALETTE, linked_grids
from mmdemo.ui import events
from mmdemo.ui.actions.compare import (
    Comparison,
    compare,
    default_comparison_reranker,
    reranker_pair,
)
from mmdemo.ui.actions.votes import vote
from mmdemo.ui.context import SAMPLE_QUERY, AppContext
from mmdemo.ui.pools import POOLED
from mmdemo.ui.requests import CompareRequest, ModelRequest, VoteRequest
from mmdemo.ui.search_view import GRID_JS, shown_image
from mmdemo.ui.shared import (
    PRIVATE,
    as_plain_markdown,
    clears_errors,
    collection_dropdown,
    model_dropdown,
    reranker_dropdown,
    shows_errors,
)

CompareOutput = tuple[str, str, str, str, str, str, dict[str, Any]]
#: Compare's cards use the Search grid's styles; these add the colours that link an item's
#: cards on both sides (one per ``mm-link-N`` slot) and the dashed card of a one-side item.
CSS = (
    ".mm-linked { border: 3px solid var(--mm-link); }\n"
    ".mm-linked .mm-badge { border-left: 12px solid var(--mm-link); }\n"
    ".mm-only { border: 2px dashed var(--body-text-color-subdued); }\n"
    ".mm-only .mm-badge { font-style: italic; }\n"
    # A phone's column is narrower than the longest set-up name at the page's font size;
    # the two sides' results stay side by side there, one card per row each, and the
    # three vote buttons share one row.
    "@media (max-width: 480px) { [id^=compare-model-] input, [id^=compare-reranker-] input "
    "{ font-size: 10px; }\n"
    "  #compare-sides, #compare-votes { flex-wrap: nowrap; }\n"
    "  #compare-sides > .mm-side, #compare-votes > button { flex: 1 1 0; min-width: 0; }\n"
    "  #compare-sides .mm-grid { grid-template-columns: minmax(0, 1fr); } }\n"
    + "".join(f".mm-link-{i} {{ --mm-link: {c}; }}\n" for i, c in enumerate(LINK_PALETTE))
)


@dataclass
class Column:
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
    #: Puts the chosen collection's example in the query once it is ready (first screen).
    start_when_ready: Callable[[Dependency], None]


def _agreement_text(measures: dict[str, Any] | None) -> str:
    if measures is None:
        return "Agreement needs results from both set-ups."
    return (
        f"**Agreement** — overlap@{measures['k']}: {measures['overlap_at_k']:.2f} "
        f"({measures['shared']} of {measures['k']} in both) · rank-biased overlap "
        f"(p = {measures['rbo_p']}): {measures['rbo']:.3f} · Kendall's τ on shared items: "
        + ("n/a" if measures["kendall_tau"] is None else f"{measures['kendall_tau']:.2f}")
    )


def _verdict_text(sentences: list[str] | None) -> str:
    if not sentences:
        return "**Verdict:** run both set-ups to compare them."
    return "**Verdict:** " + as_plain_markdown(" ".join(sentences))


def page_outputs(ctx: AppContext, found: Comparison) -> CompareOutput:
    """The verdict, both sides' grids and info lines, the agreement and the JSON."""
    thumbs = shown_image(ctx.settings)
    grid_a, grid_b = linked_grids(found.a.rows, found.b.rows, thumbs, found.expected)
    told, measures = _verdict_text(found.verdict), _agreement_text(found.agreement)
    return told, grid_a, found.a.info, grid_b, found.b.info, measures, found.payload


def _setup_column(ctx: AppContext, name: str, reranker: str) -> tuple[gr.Dropdown, gr.Dropdown]:
    """One side's model and reranker, one above the other, so each box is the side's full
    width and shows the whole name."""
    default = ctx.bootstrap.status().default_model
    with gr.Column():
        gr.Markdown(f"### Set-up {name}")
        model = model_dropdown("Embedding model", default, elem_id=f"compare-model-{name}")
        rerank = reranker_dropdown(reranker, elem_id=f"compare-reranker-{name}")
    return model, rerank


def _results_column(name: str, setup: tuple[gr.Dropdown, gr.Dropdown]) -> Column:
    """One side's results, its info line and its offer to index; the two sides' columns
    stay side by side even on a phone, so A's #i and B's #i share a row."""
    with gr.Column(min_width=0, elem_classes=["mm-side"]):
        grid = gr.HTML("", js_on_load=GRID_JS, elem_id=f"compare-results-{name}")
        info = gr.Markdown(label=f"info_{name.lower()}", elem_id=f"compare-info-{name}")
        button = gr.Button("Index with this model", visible=False, size="sm")
    return Column(*setup, grid, info, button)


@dataclass
class _Handlers:
    """The tab's events, each admitting its request through the policy."""

    ctx: AppContext

    @shows_errors
    def on_compare(self, request: gr.Request, **named: Any) -> CompareOutput:
        named["expected"] = known_answers(named.get("expected"))
        asked = self.ctx.admit(CompareRequest, named, request.session_hash)
        return page_outputs(self.ctx, compare(self.ctx, asked))

    def on_vote(self, choice: str) -> Callable[..., str]:
        """The event of one vote button: record ``choice``, show the pair's tally."""

        @shows_errors
        def voted(request: gr.Request, **named: Any) -> str:
            named.pop("expected", None)
            named.pop("top_k", None)
            asked = self.ctx.admit(VoteRequest, {**named, "choice": choice}, request.session_hash)
            return as_plain_markdown(vote(self.ctx, asked, request.session_hash).sentence())

        return voted

    @shows_errors
    def on_reranker_pair(self, model: Any, request: gr.Request) -> tuple[str, str, str]:
        asked = self.ctx.admit(ModelRequest, {"model": model}, request.session_hash)
        return reranker_pair(asked.model)

    def offer_indexing(self, payload: dict[str, Any]) -> tuple[gr.Button, gr.Button]:
        return tuple(  # type: ignore[return-value]
            gr.Button(visible=not self.ctx.readonly and not payload[side]["indexed"])
            for side in ("a", "b")
        )


def known_answers(text: Any) -> Any:
    """The known-answers box's file names, split at commas; other values go to the policy."""
    if not isinstance(text, str):
        return text
    return [name.strip() for name in text.split(",") if name.strip()]


def answers_of(started: Any) -> Any:
    """The known-answers box for the example the query started from (kept when none)."""
    if not isinstance(started, dict) or not started.get("expected"):
        return gr.skip()
    return ", ".join(str(name) for name in started["expected"])


def _query_row(ctx: AppContext) -> dict[str, Any]:
    """The query, the collection and top-k, named as :class:`CompareRequest` names them."""
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
            collection = collection_dropdown(ctx.bootstrap.demos, elem_id="cmp-coll")
            top_k = gr.Slider(1, 50, value=10, step=1, label="Results (top-k)")
    expected = gr.Textbox(
        label="Known answers (optional)",
        placeholder="file names that answer the query, comma-separated: coffee.jpg, cup.png",
        elem_id="cmp-expected",
    )
    return {
        "text": text, "image": image, "collection": collection, "top_k": top_k,
        "expected": expected,
    }  # fmt: skip


def build(ctx: AppContext) -> CompareTab:
    """Render the tab inside the current Blocks and register its (private) events."""
    on = _Handlers(ctx)
    with gr.Tab("Compare", id="compare"):
        gr.Markdown(
            "Run one query through two set-ups over the same collection: the verdict says "
            "what changed, a shared colour and badge link the images both return."
        )
        form = _query_row(ctx)
        with gr.Row():
            button = gr.Button("Compare", variant="primary", elem_id="compare-button")
            pair = gr.Button(
                "With vs without reranker", variant="secondary", elem_id="compare-reranker-pair"
            )
        told = gr.Markdown(elem_id="compare-verdict")
        # The vote right under the verdict it answers, before the (long) results.
        with gr.Row(elem_id="compare-votes"):
            ballots = {
                choice: gr.Button(label, size="sm", min_width=0, elem_id=f"compare-vote-{choice}")
                for choice, label in (("A", "A is better"), ("tie", "Tie"), ("B", "B is better"))
            }
        tally = gr.Markdown(elem_id="compare-tally")
        with gr.Row():
            setup_a = _setup_column(ctx, "A", NO_RERANKER)
            setup_b = _setup_column(ctx, "B", default_comparison_reranker())
        with gr.Row(elem_id="compare-sides"):
            side_a = _results_column("A", setup_a)
            side_b = _results_column("B", setup_b)
        measures = gr.Markdown(label="agreement", elem_id="compare-agreement")
        payload = gr.JSON(label="comparison", visible=False)
        index_report = gr.JSON(label="index_report", visible=False)
        # The example the query started from, with the files it expects: {text, expected}.
        example = gr.State(None)

    form |= {"model_a": side_a.model, "reranker_a": side_a.reranker}
    form |= {"model_b": side_b.model, "reranker_b": side_b.reranker}
    outputs = [told, side_a.grid, side_a.info, side_b.grid, side_b.info, measures, payload]
    compared = {"inputs_kwargs": form, **PRIVATE, **POOLED}
    offered = {"inputs": payload, "outputs": [side_a.index_button, side_b.index_button]}

    def shown(event: Dependency) -> None:
        """After a comparison: offer indexing where a side lacks its model, close errors."""
        clears_errors(event.success(on.offer_indexing, **offered, **PRIVATE))

    shown(gr.on([form["text"].submit, button.click], on.on_compare, None, outputs, **compared))
    shown(
        pair.click(
            on.on_reranker_pair,
            side_a.model,
            [side_b.model, side_a.reranker, side_b.reranker],
            **PRIVATE,
        ).success(on.on_compare, None, outputs, **compared)
    )
    for choice, ballot in ballots.items():
        ballot.click(on.on_vote(choice), None, tally, inputs_kwargs=form, **PRIVATE)
    indexed = events.index_with_model(ctx)
    for side in (side_a, side_b):
        shown(
            side.index_button.click(
                indexed,
                None,
                [side.info, index_report],
                inputs_kwargs={"collection": form["collection"], "model": side.model},
                **PRIVATE,
                **POOLED,
            ).success(on.on_compare, None, outputs, **compared)
        )
    start_when_ready = events.ExampleStart(ctx).bind(form["collection"], form["text"], example)
    example.change(answers_of, example, form["expected"], **PRIVATE)
    return CompareTab(
        form["collection"],
        (side_a.model, side_b.model),
        (side_a.reranker, side_b.reranker),
        start_when_ready,
    )
