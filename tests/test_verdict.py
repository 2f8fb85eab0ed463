"""The Compare tab's verdict: two result lists told in plain sentences."""

from mmdemo.evaluate.verdict import (
    Link,
    SetupName,
    judge,
    links,
    movement_text,
    same_list_reason,
    verdict,
)

PLAIN = SetupName("A", "lite", None)
RERANKED = SetupName("B", "lite", "lite")
OTHER_MODEL = SetupName("B", "clip-b32", None)


def _named(*names: str) -> list[tuple[str, str]]:
    return [(f"id-{name}", f"{name}.jpg") for name in names]


def test_the_reranked_winner_is_named_with_its_old_place() -> None:
    first = _named("coffee", "cat", "bus", "rocket", "tea")
    second = _named("rocket", "coffee", "cat", "bus", "tea")
    sentences = verdict(first, second, (PLAIN, RERANKED))
    assert sentences[0] == "B puts rocket.jpg at #1, A at #4."
    assert sentences[1] == "A puts coffee.jpg at #1, B at #2."
    assert "The reranker moved 4 of the top 5." in sentences
    assert sentences[-1] == "Both top 5 hold the same images, in a different order."


def test_an_item_the_other_side_lacks_is_said_so() -> None:
    first = _named("cat", "bus", "tea")
    second = _named("rocket", "cat", "bus")
    sentences = verdict(first, second, (PLAIN, OTHER_MODEL))
    assert sentences[0] == "B puts rocket.jpg at #1, A not in its top 3."
    assert "B moved 3 of the top 3." in sentences
    assert sentences[-1] == "2 of the top 3 are in both lists; 1 only in A, 1 only in B."


def test_a_shared_top_item_gives_no_top_sentence() -> None:
    first = _named("cat", "bus", "tea", "rocket")
    second = _named("cat", "tea", "bus", "rocket")
    sentences = verdict(first, second, (PLAIN, RERANKED))
    assert sentences[:2] == ["Both put cat.jpg at #1.", "The reranker moved 2 of the top 4."]


def test_disjoint_lists() -> None:
    sentences = verdict(_named("a", "b"), _named("c", "d"), (PLAIN, OTHER_MODEL))
    assert sentences[-1] == "Their top 2 have no image in common."


def test_identical_lists_say_why_when_the_reason_is_known() -> None:
    same = _named("a", "b", "c")
    reason = same_list_reason(SetupName("A", "lite", "lite"), SetupName("B", "clip", "lite"), 3, 20)
    assert reason is not None and "rescores all of them" in reason
    assert verdict(same, same, (PLAIN, OTHER_MODEL), reason) == [
        "A and B return the same 3 results in the same order.",
        reason,
    ]
    assert verdict(same, same, (PLAIN, OTHER_MODEL)) == [
        "A and B return the same 3 results in the same order."
    ]


def test_same_list_reasons() -> None:
    assert same_list_reason(PLAIN, SetupName("B", "lite", None), 100, 20) == (
        "A and B are the same set-up."
    )
    reranked_a = SetupName("A", "lite", "lite")
    assert same_list_reason(reranked_a, SetupName("B", "clip", "lite"), 21, 20) is None
    with_and_without = same_list_reason(PLAIN, RERANKED, 5, 20)
    assert with_and_without is not None and "close calls only" in with_and_without
    assert same_list_reason(PLAIN, SetupName("B", "clip", "lite"), 5, 20) is None


def test_a_reranker_folder_is_named_by_its_name_never_its_server_path() -> None:
    folder = "/srv/models/shop-reranker"
    reason = same_list_reason(SetupName("A", "lite", folder), SetupName("B", "clip", folder), 5, 20)
    assert reason is not None and reason.startswith("Both rerank with shop-reranker, and")
    assert "/srv" not in reason


def test_an_empty_side_is_nothing_to_compare() -> None:
    assert verdict([], _named("a"), (PLAIN, RERANKED)) == [
        "Nothing to compare: one side returned no results."
    ]


def test_links_and_movements() -> None:
    found = links(["x", "y", "z"], ["y", "z", "x"])
    assert found == [Link(1, 3), Link(2, 1), Link(3, 2)]
    assert [movement_text(link) for link in found] == ["▲2", "▼1", "▼1"]
    assert movement_text(Link(2, 2)) == "="
    assert movement_text(Link(1, None)) == ""


def test_verdict_markdown_shows_planted_names_as_text() -> None:
    from markdown_it import MarkdownIt

    from mmdemo.ui.shared import as_plain_markdown

    planted = '<img src="http://evil.test/x.png"> [link](http://evil.test) *b* `c` <form>'
    rendered = MarkdownIt("commonmark").render(as_plain_markdown(planted))
    assert "<img" not in rendered and "<form" not in rendered and "<a " not in rendered
    assert "<em>" not in rendered and "<code>" not in rendered
    assert "&lt;img src=&quot;http://evil.test/x.png&quot;&gt;" in rendered


def test_card_badges_link_shared_images_and_mark_unique_ones() -> None:
    from mmdemo.present.linked import linked_badges

    a, b = ["x", "y", "z"], ["y", "w", "x"]
    assert linked_badges("A", a, "B", b) == ["A#1 ↔ B#3", "A#2 ↔ B#1", "A#3 · only A"]
    assert linked_badges("B", b, "A", a) == ["A#2 ↔ B#1 ▲1", "B#2 · only B", "A#1 ↔ B#3 ▼2"]


def test_a_known_answer_names_the_better_set_up_and_why() -> None:
    first = _named("cat", "bus", "tea", "coffee")
    second = _named("coffee", "cat", "bus", "tea")
    sentences = verdict(first, second, (PLAIN, RERANKED), None, {"coffee.jpg"})
    assert sentences[0] == (
        "B is better for this query: B finds the expected image (coffee.jpg) at #1, A at #4."
    )
    assert sentences[1] == "B puts coffee.jpg at #1, A at #4."


def test_a_known_answer_by_id_is_told_by_its_file_name_never_its_id() -> None:
    item = "ab" * 32
    first = [(item, "coffee.jpg"), ("id-cat", "cat.jpg")]
    second = [("id-cat", "cat.jpg"), ("id-bus", "bus.jpg")]
    judged = judge(first, second, ("A", "B"), {item})
    assert judged is not None and judged.winner == "A"
    assert judged.sentence == (
        "A is better for this query: A finds the expected image (coffee.jpg) at #1, "
        "B not in its top 2."
    )
    missing = judge(second, second[::-1], ("A", "B"), {item})
    assert missing is not None and missing.winner == "none" and item not in missing.sentence
    assert missing.sentence == (
        "Neither set-up finds the expected image in its top 2: no winner for this query."
    )


def test_ties_and_several_known_answers() -> None:
    same = judge(_named("coffee", "cat"), _named("coffee", "bus"), ("A", "B"), {"coffee.jpg"})
    assert same is not None and same.winner == "tie"
    assert same.sentence == "A tie for this query: both find the expected image (coffee.jpg) at #1."
    several = {"coffee.jpg", "tea.jpg", "cup.jpg"}
    judged = judge(
        _named("coffee", "bus", "tea"), _named("coffee", "tea", "bus"), ("A", "B"), several
    )
    assert judged is not None and judged.winner == "B"
    assert judged.ranks == {"A": [1, 3], "B": [1, 2]}
    assert judged.sentence == (
        "B is better for this query: B finds 2 of the 3 expected images (at #1 and #2), "
        "A finds 2 (at #1 and #3)."
    )
    assert judge(_named("a"), _named("b"), ("A", "B"), ()) is None


def test_identical_lists_still_say_how_they_met_the_known_answer() -> None:
    same = _named("cat", "coffee")
    sentences = verdict(same, same, (PLAIN, RERANKED), None, {"coffee.jpg"})
    assert sentences == [
        "A tie for this query: both find the expected image (coffee.jpg) at #2.",
        "A and B return the same 2 results in the same order.",
    ]
