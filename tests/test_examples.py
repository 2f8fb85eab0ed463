"""Example queries come from the collection's captions and metadata, else from a built-in
list; Compare and Map start from one."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import gradio as gr

from mmdemo.search.examples import BUILT_IN_TEXTS, MAX_CAPTION_CHARS, example_queries


def _items(*captions: str) -> list[tuple[str, dict[str, str]]]:
    return [(f"id{i}", {"file_name": f"f{i}.jpg", "caption": c}) for i, c in enumerate(captions)]


def test_texts_come_from_short_captions_then_an_image_and_a_pair() -> None:
    items = _items("a red kite", "x" * (MAX_CAPTION_CHARS + 1), "a dog", "a boat", "a car", "a hat")
    examples = example_queries(items)
    assert [e.text for e in examples[:3]] == ["a red kite", "a dog", "a boat"]
    assert [e.kind for e in examples] == ["text", "text", "text", "image", "text+image"]
    # The images are of items whose captions are not already text examples.
    assert examples[3].image_file == "f1.jpg" and examples[4].image_file == "f4.jpg"
    # The pair is an image with its own caption: its two halves belong together.
    assert examples[4].text == "a car" and examples[4].expected == ("f4.jpg",)


def test_a_collection_without_captions_uses_the_built_in_texts() -> None:
    examples = example_queries(_items("", ""))
    assert [e.text for e in examples[:3]] == list(BUILT_IN_TEXTS)
    # An image with no words of its own is offered alone: no pair with unrelated text.
    assert [(e.kind, e.image_id) for e in examples[3:]] == [("image", "id0")]


def test_the_same_collection_gives_the_same_examples_in_any_order() -> None:
    items = _items("a", "b", "c", "d", "e")
    assert example_queries(items) == example_queries(list(reversed(items)))


def test_an_empty_collection_still_offers_texts_but_no_image() -> None:
    examples = example_queries([])
    assert [e.kind for e in examples] == ["text"] * 3


def test_each_example_names_the_items_it_was_made_from() -> None:
    items = _items("a dog", "a dog", "a boat")
    examples = example_queries(items)
    assert examples[0].text == "a dog" and examples[0].expected == ("f0.jpg", "f1.jpg")
    image = next(e for e in examples if e.kind == "image")
    assert image.expected == (image.image_file,)
    pair = next(e for e in examples if e.kind == "text+image")
    assert pair.expected == (pair.image_file,) and pair.text == "a dog"


def _products() -> list[tuple[str, dict[str, str]]]:
    rows = [
        ("Red running shoe from Strideline: the Aster Running Shoe, made to last.", "Aster",
         "Strideline", "shoes"),
        ("Blue coffee mug from Mugsmith: the Birch Coffee Mug, for hot drinks.", "Birch",
         "Mugsmith", "drinkware"),
        ("Green running shoe from Strideline: the Cobalt Running Shoe, made to last.",
         "Cobalt", "Strideline", "shoes"),
    ]  # fmt: skip
    return [
        (f"id{i}", {"file_name": f"p{i}.jpg", "caption": c, "name": n, "brand": b, "category": k})
        for i, (c, n, b, k) in enumerate(rows)
    ]


def test_a_shop_offers_a_name_a_brand_and_a_category_with_their_products() -> None:
    texts = {e.text: e.expected for e in example_queries(_products()) if e.kind == "text"}
    assert texts == {
        "Aster": ("p0.jpg",),
        "Strideline": ("p0.jpg", "p2.jpg"),
        "shoes": ("p0.jpg", "p2.jpg"),
    }


def test_long_captions_offer_their_first_phrase_instead_of_built_in_texts() -> None:
    pages = [
        (
            f"id{i}",
            {"file_name": f"r.pdf p. {i + 1}", "caption": f"{title}: line chart. " + "x " * 40},
        )
        for i, title in enumerate(["Visitors per month", "Revenue by region"])
    ]
    texts = [e for e in example_queries(pages) if e.kind == "text"]
    assert [(e.text, e.expected) for e in texts] == [
        ("Visitors per month", ("r.pdf p. 1",)),
        ("Revenue by region", ("r.pdf p. 2",)),
    ]
    assert not set(BUILT_IN_TEXTS) & {e.text for e in texts}


def test_compare_and_map_start_from_the_chosen_collections_example(tmp_path: Path) -> None:
    """Their query box takes the collection's first text example on each change, and on
    the first screen only once the collection is ready; a visitor's own text stays. The
    page keeps the example with the files it expects."""
    import numpy as np

    from mmdemo.config import Settings
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import SAMPLE_QUERY, AppContext
    from mmdemo.ui.events import ExampleStart

    settings = Settings(data_dir=tmp_path / "data")
    ctx = AppContext(settings, Bootstrap(settings, None, "lite"))
    metadata = [
        {"file_name": "chart.png", "caption": "a line chart", "image_file": "a.png"},
        {"file_name": "x.png", "image_file": "b.png"},
    ]
    ctx.store().add("reports", "lite", ["a", "b"], np.ones((2, 4), np.float32), metadata)
    start, request = ExampleStart(ctx), SimpleNamespace(session_hash=None)
    kept = {"text": "a line chart", "expected": ["chart.png"]}
    for text, started in [
        (SAMPLE_QUERY, None),
        ("", None),
        ("an old example", {"text": "an old example"}),
    ]:
        found = start.on_collection("reports", text, started, request)  # type: ignore[arg-type]
        assert found == ("a line chart", kept), text
    typed = start.on_collection("reports", "my own query", kept, request)  # type: ignore[arg-type]
    assert typed == (gr.skip(), None)  # kept, and no longer an example
    nothing = start.on_collection("no-such", "", None, request)  # type: ignore[arg-type]
    assert nothing == (gr.skip(), None)
    skipped = start.on_ready("reports", "a line chart", kept, request)  # type: ignore[arg-type]
    assert skipped == (gr.skip(), gr.skip())
    waiting = start.on_ready("reports", SAMPLE_QUERY, None, request)  # type: ignore[arg-type]
    assert waiting == (gr.skip(), gr.skip())  # the start-up work has not ended
    ctx.bootstrap.start()
    ctx.bootstrap.join(120)
    ready = start.on_ready("reports", SAMPLE_QUERY, None, request)  # type: ignore[arg-type]
    assert ready == ("a line chart", kept)


def _run_event(app: gr.Blocks, name: str, state_value: object, index: int, *inputs: object):
    """Run the Search tab's page event ``name`` as the page does (the clicked chip or
    result's ``index``; its State input holding ``state_value``), postprocessing included:
    what comes back is what the browser gets."""
    import asyncio

    from gradio.events import EventData
    from gradio.state_holder import SessionState

    fn = next(
        f
        for f in app.fns.values()
        if f.fn is not None and f.fn.__name__ == name and isinstance(f.inputs[0], gr.State)
    )
    state = SessionState(app)
    state[fn.inputs[0]._id] = state_value
    call = app.process_api(
        block_fn=fn,
        inputs=[None, *inputs],
        state=state,
        event_data=EventData(None, {"index": index}),
        request=gr.Request(session_hash="visitor"),
    )
    # A thread of its own: the browser tests' playwright keeps an event loop running in
    # this one for the rest of the session, and asyncio.run refuses to nest in it.
    with ThreadPoolExecutor(max_workers=1) as pool:
        answer = pool.submit(asyncio.run, call).result()
    return answer["data"]


def test_image_chips_and_find_similar_give_the_page_pixels_never_a_server_path(
    tmp_path: Path, tiny_clip_dir: Path
) -> None:
    """The query box gets a picture of gradio's own (its cache), upright, never the stored
    copy: neither the data dir nor the item's content hash reaches the browser."""
    from PIL import Image

    from mmdemo.config import Settings
    from mmdemo.ingest.indexer import index_paths
    from mmdemo.search.engine import search
    from mmdemo.search.query import Query
    from mmdemo.ui.bootstrap import Bootstrap
    from mmdemo.ui.context import AppContext
    from mmdemo.ui.events import examples_of
    from mmdemo.ui.layout import build_app
    from mmdemo.ui.media import upload_folder

    from formatfactory import camera_exif, sideways

    settings = Settings(data_dir=tmp_path / "data", device="cpu")
    sideways().save(tmp_path / "turned.jpg", exif=camera_exif(orientation=6).tobytes())
    Image.new("RGB", (30, 20), (0, 200, 0)).save(tmp_path / "green.png")
    ctx = AppContext(settings, Bootstrap(settings, None, "lite"))
    paths = [tmp_path / "turned.jpg", tmp_path / "green.png"]
    model = str(tiny_clip_dir)
    index_paths(paths, collection="mine", models=[model], settings=settings, store=ctx.store())
    ids = [item_id for item_id, _ in ctx.store().items("mine")]
    app = build_app(ctx)
    examples = examples_of(ctx, "mine", "visitor")
    records = search(
        Query(text="a photo"), collection="mine", model=model, settings=settings,
        store=ctx.store(), top_k=2,
    ).to_json()["results"]  # fmt: skip
    chip = next(i for i, e in enumerate(examples) if e["label"] == "Image: turned.jpg")
    shown = [
        _run_event(app, "on_example", examples, chip)[1],
        _run_event(app, "on_similar", records, 0, "mine", model, "none", 2)[1],
    ]
    for picture in shown:
        assert isinstance(picture, dict), picture  # a file of gradio's, not a path string
        sent = f"{picture['path']} {picture['url']}"
        assert str(settings.data_dir) not in sent and not any(i in sent for i in ids)
        assert Path(picture["path"]).is_relative_to(upload_folder())
    with Image.open(shown[0]["path"]) as query:
        assert query.size == (32, 64)  # the EXIF turn applied: it stands upright
