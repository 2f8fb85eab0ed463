"""Votes on comparisons: one per voter and query, a tally per pair, a CSV, several processes."""

from __future__ import annotations

import csv
import json
import multiprocessing
from pathlib import Path

import pytest

from mmdemo.cli import main
from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.evaluate.votes import Tally, VotedQuery, Votes, labels, voted_query

PLAIN, RERANKED = "lite + none", "lite + lite"


def _votes(tmp_path: Path) -> Votes:
    return Votes(Settings(data_dir=tmp_path / "data"))


def _vote(votes: Votes, text: str, choice: str, voter: str = "v1", flip: bool = False) -> Tally:
    setups = (RERANKED, PLAIN) if flip else (PLAIN, RERANKED)
    return votes.record(
        collection="photos",
        query=VotedQuery(text),
        setups=setups,
        choice=choice,
        voter=voter,
    )


def test_a_voter_counts_once_per_query_and_a_revote_replaces(tmp_path: Path) -> None:
    votes = _votes(tmp_path)
    assert votes.tally((PLAIN, RERANKED)).sentence() == (
        "No votes yet for without reranker (A) against with reranker lite (B)."
    )
    _vote(votes, "a cat", "A")
    tally = _vote(votes, "a cat", "B")
    assert (tally.a, tally.b, tally.ties, tally.queries) == (0, 1, 0, 1)
    _vote(votes, "a dog", "B")
    _vote(votes, "a bus", "tie")
    tally = _vote(votes, "a cup", "A")
    assert (tally.a, tally.b, tally.ties, tally.queries) == (1, 2, 1, 4)
    assert tally.sentence() == (
        "With reranker lite (B) preferred on 2 of 4 queries (without reranker on 1, 1 tie)."
    )


def test_the_pair_shares_one_tally_whichever_side_each_set_up_was_on(tmp_path: Path) -> None:
    votes = _votes(tmp_path)
    _vote(votes, "a cat", "B")  # RERANKED preferred
    _vote(votes, "a dog", "A", flip=True)  # RERANKED shown as A, preferred
    _vote(votes, "a dog", "A", voter="v2")  # PLAIN preferred by another visitor
    tally = votes.tally((PLAIN, RERANKED))
    assert (tally.a, tally.b, tally.votes, tally.queries) == (1, 2, 3, 2)
    assert (
        tally.sentence() == "With reranker lite (B) preferred on 2 of 3 votes on 2 queries "
        "(without reranker on 1, 0 ties)."
    )
    flipped = votes.tally((RERANKED, PLAIN))
    assert (flipped.a, flipped.b) == (2, 1)
    assert votes.pairs() == [(RERANKED, PLAIN)]  # stored in name order
    assert votes.tally((PLAIN, "other + none")).votes == 0
    assert votes.tally((PLAIN, RERANKED), collection="elsewhere").votes == 0


@pytest.mark.parametrize(
    ("a", "b", "told"),
    [
        ("lite + none", "lite + lite", ("without reranker", "with reranker lite")),
        ("lite + lite", "lite-b2 + lite", ("lite", "lite-b2")),
        ("lite + none", "lite-b2 + lite", ("lite without reranker", "lite-b2 with reranker lite")),
        ("lite + lite", "lite + lite", ("the same set-up", "the same set-up")),
        # Folders (a fine-tuned model, an operator's reranker) by their names, never paths.
        ("/srv/data/finetuned/demo-tuned + none", "lite + none", ("demo-tuned", "lite")),
        (
            "lite + none",
            "lite + /srv/models/shop-reranker",
            ("without reranker", "with reranker shop-reranker"),
        ),
    ],
)
def test_a_tally_names_each_set_up_by_what_differs(a: str, b: str, told: tuple[str, str]) -> None:
    assert labels(a, b) == told
    tally = Tally(a, b, a=1, b=3, queries=4)
    assert tally.sentence().startswith(f"{told[1][0].upper()}{told[1][1:]} (B) preferred on 3")


def test_bad_votes_are_refused_with_a_reason(tmp_path: Path) -> None:
    votes = _votes(tmp_path)
    with pytest.raises(InputError, match="one of A, tie, B"):
        _vote(votes, "a cat", "C")
    with pytest.raises(InputError, match="same set-up"):
        votes.record(collection="c", query=VotedQuery("x"), setups=(PLAIN, PLAIN), choice="A")
    with pytest.raises(InputError, match="needs the query"):
        votes.record(collection="c", query=VotedQuery("  "), setups=(PLAIN, RERANKED), choice="A")
    with pytest.raises(InputError, match="too long"):
        _vote(votes, "x" * 2_001, "A")
    assert votes.rows() == []


def test_an_image_query_is_told_apart_by_its_bytes_not_its_name(tmp_path: Path) -> None:
    first, second = tmp_path / "one" / "q.png", tmp_path / "two" / "q.png"
    for path, data in ((first, b"one"), (second, b"two")):
        path.parent.mkdir()
        path.write_bytes(data)
    one, two = voted_query("", first), voted_query("", second)
    assert one.image_name == two.image_name == "q.png" and one.key != two.key
    assert voted_query(" cat ", None) == VotedQuery("cat")
    with pytest.raises(InputError, match="cannot be read"):
        voted_query("", tmp_path / "missing.png")


def test_the_export_is_a_safe_csv_of_every_vote(tmp_path: Path) -> None:
    votes = _votes(tmp_path)
    _vote(votes, "=HYPERLINK(1)", "B")
    _vote(votes, "a dog", "tie", voter="v2")
    out = votes.export(tmp_path / "votes.csv", (PLAIN, RERANKED))
    with out.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["query_text"], r["preferred"], r["voter"]) for r in rows] == [
        ("'=HYPERLINK(1)", RERANKED, "v1"),
        ("a dog", "tie", "v2"),
    ]
    assert {r["setup_1"] for r in rows} == {RERANKED} and rows[0]["collection"] == "photos"


def _vote_in_a_process(data_dir: str, voter: int) -> None:
    votes = Votes(Settings(data_dir=Path(data_dir)))
    for n in range(5):
        votes.record(
            collection="photos",
            query=VotedQuery(f"query {n}"),
            setups=(PLAIN, RERANKED),
            choice="A" if voter % 2 else "B",
            voter=f"v{voter}",
        )


def test_several_processes_voting_at_once_lose_no_vote(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=_vote_in_a_process, args=(str(tmp_path / "data"), n))
        for n in range(4)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    tally = _votes(tmp_path).tally((PLAIN, RERANKED))
    assert (tally.a, tally.b, tally.queries) == (10, 10, 5)


def test_vote_and_votes_commands(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    setups = ["--a", "lite", "--b", "lite", "--b-rerank", "lite"]
    query = ["--collection", "photos", "--text", "a cat"]
    assert main(["vote", *query, *setups, "--choice", "B", *data]) == 0
    assert capsys.readouterr().out.strip() == (
        "With reranker lite (B) preferred on 1 of 1 query (without reranker on 0, 0 ties)."
    )
    out = tmp_path / "votes.csv"
    assert main(["votes", *data, "--out", str(out), "--json"]) == 0
    (tally,) = json.loads(capsys.readouterr().out)
    assert (tally["setup_a"], tally["setup_b"], tally["a"], tally["b"]) == (
        RERANKED,
        PLAIN,
        1,
        0,
    )
    assert out.read_text(encoding="utf-8").splitlines()[1].startswith(f"{RERANKED},{PLAIN},photos")
    assert main(["votes", *setups, *data]) == 0
    assert "With reranker lite (B) preferred on 1 of 1 query" in capsys.readouterr().out
