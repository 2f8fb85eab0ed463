"""Find similar leaves the query item out and closes up the ranks."""

from mmdemo.search.engine import SearchResults
from mmdemo.search.similar import without_item


def _results(ids: list[str], before: list[int | None]) -> SearchResults:
    rows = [
        {
            "rank": i + 1,
            "id": item,
            "file_name": f"{item}.jpg",
            "path": "",
            "caption": "",
            "similarity": 1.0 - i / 10,
            "rerank_score": None if b is None else 5.0 - i,
            "rank_before_rerank": b,
        }
        for i, (item, b) in enumerate(zip(ids, before, strict=True))
    ]
    return SearchResults(rows, {}, "lite", None)


def test_the_item_is_dropped_and_ranks_close_up() -> None:
    out = without_item(_results(["q", "a", "b"], [None] * 3), "q", top_k=5)
    assert list(out.table["id"]) == ["a", "b"]
    assert list(out.table["rank"]) == [1, 2]


def test_ranks_before_reranking_close_up_behind_the_dropped_item() -> None:
    # Reranked order a, q, b, c; before reranking they were 3, 1, 4, 2.
    out = without_item(_results(["a", "q", "b", "c"], [3, 1, 4, 2]), "q", top_k=3)
    assert list(out.table["id"]) == ["a", "b", "c"]
    assert list(out.table["rank_before_rerank"]) == [2, 3, 1]


def test_top_k_holds_when_the_item_is_not_in_the_results() -> None:
    out = without_item(_results(["a", "b", "c"], [None] * 3), "q", top_k=2)
    assert list(out.table["id"]) == ["a", "b"]
