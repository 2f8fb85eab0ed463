"""The metadata filter syntax: what parses to which conditions, and the errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmdemo import dates
from mmdemo.dates import Span
from mmdemo.filters import Condition, FilterError, ItemFilter, check_keys, parse_where
from mmdemo.store.parts import chroma_filter, chroma_where


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("brand=acme", (Condition("brand", "=", "acme"),)),
        ("brand == acme", (Condition("brand", "=", "acme"),)),
        ("brand = acme corp", (Condition("brand", "=", "acme corp"),)),
        ("price<10", (Condition("price", "<", 10),)),
        ("price >= 2.5", (Condition("price", ">=", 2.5),)),
        ("size != -3", (Condition("size", "!=", -3),)),
        ("color in (red, blue)", (Condition("color", "in", ("red", "blue")),)),
        ("color IN (red,'navy blue')", (Condition("color", "in", ("red", "navy blue")),)),
        ("n not in (1, 2.5)", (Condition("n", "not in", (1.0, 2.5)),)),
        ("n in (1, 2)", (Condition("n", "in", (1, 2)),)),
        ("sale=true", (Condition("sale", "=", True),)),
        ('code="007"', (Condition("code", "=", "007"),)),
        ('name="salt and pepper"', (Condition("name", "=", "salt and pepper"),)),
        ("'unit price' < 3", (Condition("unit price", "<", 3),)),
        (
            "brand=acme and price<10 AND color in (red, blue)",
            (
                Condition("brand", "=", "acme"),
                Condition("price", "<", 10),
                Condition("color", "in", ("red", "blue")),
            ),
        ),
        ("", ()),
        ("   ", ()),
        (None, ()),
    ],
)
def test_parses(text: str | None, expected: tuple[Condition, ...]) -> None:
    assert parse_where(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("brand acme", "has no operator"),
        ("price<", "has no value after '<'"),
        ("price < cheap", "needs a number"),
        ("flag > true", "needs a number"),
        ("color in red", "needs a list in parentheses"),
        ("color in ()", "empty value"),
        ("color in (red,,blue)", "empty value"),
        ("n in (1, red)", "mixes numbers, text"),
        ("(brand=acme", "unbalanced parentheses"),
        ("brand=acme and", "empty condition"),
        ("and brand=acme", "empty condition"),
        ("$and=1", "usable column"),
        ("=acme", "does not start with a column name"),
        ("brand=acme & price<3", "cannot be read"),
        ('brand="acme', "cannot be read"),
    ],
)
def test_bad_filters_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message) as caught:
        parse_where(text)
    assert str(caught.value).endswith(".")


def test_conditions_become_one_chroma_clause() -> None:
    assert chroma_where(()) is None
    assert chroma_where(parse_where("price<10")) == {"price": {"$lt": 10}}
    assert chroma_where(parse_where("brand=acme and color not in (red, blue)")) == {
        "$and": [{"brand": {"$eq": "acme"}}, {"color": {"$nin": ["red", "blue"]}}]
    }


def test_keyword_and_conditions_filter_together() -> None:
    both = ItemFilter("  Red ", parse_where("n>1"))
    assert both.active and both.needle == "red"
    assert chroma_filter(both) == {
        "where": {"n": {"$gt": 1}},
        "where_document": {"$contains": "red"},
    }
    assert not ItemFilter(" ").active
    assert chroma_filter(None) == {"where": None, "where_document": None}


DAY = 24 * 3600
JUNE_1_2021 = 1_622_505_600  # 2021-06-01T00:00:00, the zone ignored as stored dates do


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("taken>=2021-06-01", JUNE_1_2021, JUNE_1_2021 + DAY),
        ("taken<2022", 1_640_995_200, 1_672_531_200),  # a bare year of a date key
        ("taken=2021-06", JUNE_1_2021, JUNE_1_2021 + 30 * DAY),
        ("study_date<=2004-01-19", 1_074_470_400, 1_074_470_400 + DAY),
        ("released>2021-06-01T00:30", JUNE_1_2021 + 1800, JUNE_1_2021 + 1860),
    ],
)
def test_dates_compare_as_the_span_they_name(text: str, start: int, end: int) -> None:
    [condition] = parse_where(text)
    assert isinstance(condition.value, Span)
    assert (condition.value.start, condition.value.end) == (start, end)


def test_dates_become_bounds_on_the_stored_date_number() -> None:
    start, end = JUNE_1_2021, JUNE_1_2021 + DAY
    field = "taken_ts"
    assert chroma_where(parse_where("taken<2021-06-01")) == {field: {"$lt": start}}
    assert chroma_where(parse_where("taken<=2021-06-01")) == {field: {"$lt": end}}
    assert chroma_where(parse_where("taken>2021-06-01")) == {field: {"$gte": end}}
    assert chroma_where(parse_where("taken>=2021-06-01")) == {field: {"$gte": start}}
    assert chroma_where(parse_where("taken=2021-06-01")) == {
        "$and": [{field: {"$gte": start}}, {field: {"$lt": end}}]
    }
    assert chroma_where(parse_where("taken!=2021-06-01")) == {
        "$or": [{field: {"$lt": start}}, {field: {"$gte": end}}]
    }


def test_text_that_only_looks_like_a_date_stays_text_where_no_date_is_meant() -> None:
    assert parse_where("code=2021-06") == (Condition("code", "=", "2021-06"),)
    assert parse_where("year<2022") == (Condition("year", "<", 2022),)
    assert parse_where('taken="2021-06-01"') == (Condition("taken", "=", "2021-06-01"),)
    with pytest.raises(FilterError, match="needs a number"):
        parse_where("taken>2021-02-30")  # no such day


def test_stored_iso_dates_get_their_number_companion() -> None:
    assert dates.with_companions({"taken": "2021-06-01T00:00:10", "note": "2021", "n": 3}) == {
        "taken": "2021-06-01T00:00:10",
        "note": "2021",
        "n": 3,
        "taken_ts": JUNE_1_2021 + 10,
    }


def test_a_key_no_item_has_is_named_with_the_keys_there_are() -> None:
    keys = {"caption", "colour", "price", "origin", "image_file"}
    check_keys(parse_where("colour=red and price<3"), keys)
    with pytest.raises(FilterError) as caught:
        check_keys(parse_where("price<3 and color=red"), keys)
    assert str(caught.value) == (
        "No item in this collection has a field 'color'; its items have: caption, colour, price."
    )
    with pytest.raises(FilterError, match="have no metadata"):
        check_keys(parse_where("color=red"), {"origin"})
    assert ItemFilter("", parse_where("a != 1")).negated
    assert ItemFilter("", parse_where("a not in (1, 2)")).negated
    assert not ItemFilter("", parse_where("a in (1, 2) and b = 3")).negated


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "hnsw"])
@pytest.mark.parametrize("where", ["color=red", "color!=red", "color not in (red)"])
def test_the_store_refuses_a_filter_on_a_missing_key_in_both_search_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exact: bool, where: str
) -> None:
    """``color`` on a ``colour`` collection: today "no images", or (``!=``) every image."""
    import numpy as np

    from mmdemo import store as store_module
    from mmdemo.config import Settings
    from mmdemo.store import Store

    monkeypatch.setattr(store_module, "exact_fits", lambda count, dim: exact)
    store = Store(Settings.from_env(data_dir=tmp_path / "data"))
    vectors = np.eye(3, dtype=np.float32)
    metadata = [{"file_name": f"{c}.jpg", "colour": c} for c in ("red", "blue", "green")]
    store.add("shop", "m", ["a", "b", "c"], vectors, metadata)
    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    with pytest.raises(FilterError, match=r"field 'color'; its items have: colour, file_name\."):
        store.query("shop", "m", query, 3, ItemFilter("", parse_where(where)))
    found = store.query("shop", "m", query, 3, ItemFilter("", parse_where("colour!=red")))
    assert sorted(h.metadata["colour"] for h in found) == ["blue", "green"]
    assert store.query("shop", "m", query, 3, ItemFilter("", parse_where("colour=pink"))) == []
