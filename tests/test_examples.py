"""Example queries come from the collection's captions, else from a built-in list."""

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
    assert examples[4].text == "a red kite"


def test_a_collection_without_captions_uses_the_built_in_texts() -> None:
    examples = example_queries(_items("", ""))
    assert [e.text for e in examples[:3]] == list(BUILT_IN_TEXTS)
    assert {e.image_id for e in examples[3:]} == {"id0", "id1"}


def test_the_same_collection_gives_the_same_examples_in_any_order() -> None:
    items = _items("a", "b", "c", "d", "e")
    assert example_queries(items) == example_queries(list(reversed(items)))


def test_an_empty_collection_still_offers_texts_but_no_image() -> None:
    examples = example_queries([])
    assert [e.kind for e in examples] == ["text"] * 3
