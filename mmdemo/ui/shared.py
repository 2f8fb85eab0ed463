"""Helpers every tab uses: error display, model and collection choices, result formatting."""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Callable, Container, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import gradio as gr
import pandas as pd
from PIL import Image

from mmdemo.config import Settings
from mmdemo.errors import MMDemoError
from mmdemo.models import registry
from mmdemo.names import visible_name
from mmdemo.policy.rules import NO_RERANKER
from mmdemo.ui.media import shown_file, thumb_url, with_urls

if TYPE_CHECKING:
    from mmdemo.demos import Demo
    from mmdemo.search.engine import SearchResults

P = ParamSpec("P")
R = TypeVar("R")

#: A gallery's items: pictures and their captions.
Gallery = list[tuple[Image.Image, str]]
#: Events that only refresh the page: not part of the public API.
PRIVATE: dict[str, Any] = {"api_visibility": "private"}
#: A page event's inputs by the name its request gives the field (gradio's
#: ``inputs_kwargs``), so that moving a widget never changes which value is which.
Form = dict[str, Any]


def _errors(fn: Callable[P, R], shown: Callable[[str], str]) -> Callable[P, R]:
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except MMDemoError as exc:
            raise gr.Error(shown(str(exc)), duration=None, print_exception=False) from exc

    return wrapper


#: Closes the error toasts shown (they stay until closed: ``duration=None``).
CLOSE_ERRORS_JS = """() => {
  document.querySelectorAll('.toast-wrap [data-testid=toast-close]').forEach((b) => b.click());
}"""


def clears_errors(event: Any) -> Any:
    """After ``event`` succeeds, close the error toasts an earlier failure left: a success
    tells the visitor that what went wrong is behind them."""
    return event.success(None, None, None, js=CLOSE_ERRORS_JS, **PRIVATE)


def shows_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Show an expected failure (MMDemoError) of a page event in the page's error toast.

    Gradio renders a toast's message as (sanitised) HTML, so the sentence, which may quote
    what a visitor typed, is escaped to show as typed. Anything else is a bug: gradio hides
    its details from the user (``show_error`` is off).
    """
    return _errors(fn, lambda text: html.escape(text, quote=False))


def answers_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Return an expected failure (MMDemoError) of an API endpoint to the client as its
    plain sentence: an API client shows text, not HTML."""
    return _errors(fn, str)


#: Characters Markdown would read as formatting; file names may hold any of them.
_MARKDOWN = re.compile(r"([\\`*_\[\]{}()#+\-.!|~<>&])")


def as_plain_markdown(text: str) -> str:
    """``text`` shown literally by gr.Markdown: no planted link, image, HTML or emphasis."""
    return _MARKDOWN.sub(r"\\\1", text)


def default_reranker(embedder: str) -> str:
    """The dropdown value of the registry's default reranker for ``embedder`` on this
    machine's device (``MMDEMO_DEVICE``, else CUDA when there is one, or ZeroGPU)."""
    from mmdemo.models.placement import on_gpu

    return registry.default_reranker(embedder, on_gpu(Settings.from_env())) or NO_RERANKER


def embedder_choices(
    extra: Iterable[str] = (),
    indexed: Container[str] | None = None,
    unavailable: Container[str] = (),
) -> list[tuple[str, str]]:
    """Dropdown choices: every embedder preset, then other known models.

    Labels carry the full name and the key (``CLIP ViT-B/32 · clip-b32``) so that similar
    models stay distinguishable, and name a model folder by its name, not its server path;
    with ``indexed``, those a collection has are marked ✓; those in ``unavailable`` say
    that they cannot load here.
    """

    def label(name: str, key: str) -> str:
        mark = " ✓ indexed" if indexed is not None and key in indexed else ""
        if key in unavailable:
            mark += " (unavailable here: needs the Hub)"
        return name + mark

    choices = [
        (label(f"{p.display_name} · {p.key}" if p.display_name != p.key else p.key, p.key), p.key)
        for p in registry.presets("embedder")
    ]
    known = {key for _, key in choices}
    choices += [
        (label(registry.display_key(name), name), name)
        for name in dict.fromkeys(extra)
        if name not in known
    ]
    return choices


def reranker_choices() -> list[tuple[str, str]]:
    """Dropdown choices: no reranking, then every reranker preset, each VLM with what it is
    expected to cost here for the default candidates (mmdemo/models/rerank_cost.py)."""
    from mmdemo.models.rerank_cost import choice_note
    from mmdemo.search.engine import RERANK_CANDIDATES

    settings = Settings.from_env()
    return [("None", NO_RERANKER)] + [
        (p.display_name + choice_note(p.key, RERANK_CANDIDATES, settings), p.key)
        for p in registry.presets("reranker")
    ]


def model_dropdown(label: str, value: str, **kwargs: Any) -> gr.Dropdown:
    """An embedder dropdown over the presets that also takes a Hub id or a folder."""
    return gr.Dropdown(
        embedder_choices([value]),
        value=value,
        label=label,
        allow_custom_value=True,
        info="A preset, or any Hub id or local folder",
        **kwargs,
    )


def models_dropdown(value: str, info: str, **kwargs: Any) -> gr.Dropdown:
    """A multi-select embedder dropdown (presets, Hub ids or folders), ``value`` chosen."""
    return gr.Dropdown(
        embedder_choices([value]),
        value=[value],
        multiselect=True,
        allow_custom_value=True,
        label="Embedding models",
        info=info,
        **kwargs,
    )


def collection_choices(names: Iterable[str], demos: Sequence[Demo]) -> list[tuple[str, str]]:
    """Collection dropdown choices: the demos among ``names`` first, in their order, under
    their display names ("Demo: photos"), then every other collection under its own name;
    the value is always the name a request takes."""
    names = list(names)
    labels = {demo.collection: demo.label for demo in demos}
    first = [(d.label, d.collection) for d in demos if d.collection in names]
    return first + [(name, name) for name in names if name not in labels]


def collection_dropdown(demos: Sequence[Demo], **kwargs: Any) -> gr.Dropdown:
    """A collection dropdown offering the demos until the page loads the visitor's list,
    the first demo (photos) chosen."""
    return gr.Dropdown(
        collection_choices([demo.collection for demo in demos], demos),
        value=demos[0].collection if demos else None,
        label="Collection",
        allow_custom_value=True,
        **kwargs,
    )


def backend_dropdown(**kwargs: Any) -> gr.Dropdown:
    """What runs the embedding model, the app's setting (``MMDEMO_BACKEND``) chosen."""
    from mmdemo.config import BACKENDS

    return gr.Dropdown(
        list(BACKENDS),
        value=Settings.from_env().backend or "auto",
        label="Backend",
        info="What runs the embedding model: auto picks the fastest measured here",
        **kwargs,
    )


def reranker_dropdown(value: str, **kwargs: Any) -> gr.Dropdown:
    """A reranker dropdown: ``value`` first, the presets, or a Hub id or folder."""
    return gr.Dropdown(
        reranker_choices(),
        value=value,
        label="Reranker",
        allow_custom_value=True,
        **kwargs,
    )


def _caption(row: dict[str, Any]) -> str:
    """Score first (it must survive truncation), then the file; reranked: the rank before."""
    if row.get("rerank_score") is not None and not pd.isna(row["rerank_score"]):
        before = int(row["rank_before_rerank"])
        return f"{row['rerank_score']:.3f} · was #{before} · {row['file_name']}"
    return f"{row['similarity']:.3f} · {row['file_name']}"


def _pixels(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image.copy()


def present(results: SearchResults, settings: Settings) -> tuple[Gallery, str, dict[str, Any]]:
    """What a page shows of one search: gallery items, a timings line and the API payload.

    Gallery items are (thumbnail or image, caption), best first: pixels, which gradio
    serves from its own cache (the data dir is not served).
    """
    items = [(_pixels(shown_file(settings, row)), _caption(row)) for row in results.rows]
    info, payload = summary(results, results.to_json()["results"], settings)
    return items, info, payload


def summary(
    results: SearchResults, records: list[dict[str, Any]], settings: Settings
) -> tuple[str, dict[str, Any]]:
    """A search's timings line and API payload, from its result ``records`` (``to_json``).

    The payload's result rows carry their pictures' signed URLs instead of the server-side
    image path: Gradio treats any dict with a ``path`` key in an output as a file to serve.
    """
    spans = " · ".join(f"{name} {ms:.0f} ms" for name, ms in results.timings_ms.items())
    info = (
        f"{len(results.rows)} results · model `{registry.display_key(results.model)}` · "
        f"reranker `{registry.display_key(results.reranker or 'none')}` · {spans}"
    ) + "".join(f"  \n⚠ {note}" for note in results.notes)
    payload = {
        "model": results.model,
        "reranker": results.reranker,
        "calibrated": results.calibrated,
        "timings_ms": results.timings_ms,
        "notes": results.notes,
        "results": [with_urls(settings, row) for row in records],
    }
    return info, payload


def short_origin(origin: str) -> str:
    """An upload's origin without the server's temporary folders (``x.zip!member`` stays)."""
    archive, bang, member = origin.partition("!")
    return visible_name(Path(archive).name + bang + member)


def served_thumb(settings: Settings, item_id: str) -> str:
    """The address at which the page loads an item's thumbnail (a signed media URL)."""
    return thumb_url(settings, item_id)
