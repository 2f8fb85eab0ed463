"""Viewers' votes on comparisons: which of two set-ups answered a query better.

Under each comparison a viewer says "A is better", "tie" or "B is better". Votes are kept
per pair of set-ups in one SQLite file in the data folder (never in Chroma), so the tally
("With reranker lite (B) preferred on 14 of 20 queries", each set-up named by what differs)
survives restarts and every worker process sees the same one: SQLite locks the file for
each write, which makes several processes safe. A voter (a visitor session in
multi-visitor mode, else the operator) counts once per query and pair: voting again
replaces the earlier vote. A pair is stored in a fixed order, with the preferred set-up by
name, so "A: x, B: y" and "A: y, B: x" share one tally.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mmdemo.config import Settings
from mmdemo.errors import InputError
from mmdemo.export import Rows, write_csv
from mmdemo.models.registry import display_key

#: What a vote may say, in the asker's A/B orientation.
CHOICES = ("A", "tie", "B")
TIE = "tie"
#: The voter when no visitor sessions are told apart (locally, the command line).
OPERATOR = "operator"
#: The longest query text a vote keeps (longer ones are refused, not cut).
MAX_QUERY_CHARS = 2_000
#: How long a write waits for another process's write to finish, in seconds.
BUSY_TIMEOUT_S = 30.0
EXPORT_COLUMNS = [
    "setup_1",
    "setup_2",
    "collection",
    "query_text",
    "query_image",
    "preferred",
    "voter",
    "voted_at",
]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS votes (
    setup_1 TEXT NOT NULL,
    setup_2 TEXT NOT NULL,
    collection TEXT NOT NULL,
    query_key TEXT NOT NULL,
    query_text TEXT NOT NULL,
    query_image TEXT NOT NULL,
    voter TEXT NOT NULL,
    preferred TEXT NOT NULL,
    voted_at TEXT NOT NULL,
    PRIMARY KEY (setup_1, setup_2, collection, query_key, voter)
)
"""


@dataclass(frozen=True)
class VotedQuery:
    """What was asked: its text and query image, and the key that tells queries apart.

    ``image_digest`` is the content hash of the query image (its file name alone would
    join two uploads that share a name); ``image_name`` is only shown.
    """

    text: str = ""
    image_digest: str = ""
    image_name: str = ""

    @property
    def key(self) -> str:
        """One query's identity: its text (trimmed) and its image's digest."""
        return f"{self.text.strip()}\x1f{self.image_digest}"


@dataclass(frozen=True)
class Tally:
    """The votes on one pair of set-ups, in the asker's orientation (A, B)."""

    setup_a: str
    setup_b: str
    a: int = 0
    b: int = 0
    ties: int = 0
    queries: int = 0

    @property
    def votes(self) -> int:
        """How many votes were cast (each voter once per query)."""
        return self.a + self.b + self.ties

    def sentence(self) -> str:
        """The running tally in words, each set-up named by what tells it from the other:
        "With reranker lite (B) preferred on 14 of 20 queries (without reranker on 4, 2 ties)"."""
        a, b = labels(self.setup_a, self.setup_b)
        if not self.votes:
            return f"No votes yet for {a} (A) against {b} (B)."
        queries = _count(self.queries, "query", "queries")
        counted = queries if self.votes == self.queries else f"{self.votes} votes on {queries}"
        ties = _count(self.ties, "tie", "ties")
        if self.a == self.b:
            return f"{a} (A) and {b} (B) even: {self.a} each of {counted}, {ties}."
        (lead, side, won), (other, lost) = (
            ((a, "A", self.a), (b, self.b)) if self.a > self.b else ((b, "B", self.b), (a, self.a))
        )
        return (
            f"{lead[:1].upper()}{lead[1:]} ({side}) preferred on {won} of {counted} "
            f"({other} on {lost}, {ties})."
        )

    def to_json(self) -> dict[str, object]:
        """The ``/votes`` and ``votes --json`` shape."""
        return {
            "setup_a": self.setup_a,
            "setup_b": self.setup_b,
            "a": self.a,
            "b": self.b,
            "ties": self.ties,
            "votes": self.votes,
            "queries": self.queries,
            "sentence": self.sentence(),
        }


def labels(setup_a: str, setup_b: str) -> tuple[str, str]:
    """Two set-ups (``model + reranker`` names) named by what differs between them: the
    models when only they differ ("lite-b2"), the reranker when only it does ("with
    reranker lite", "without reranker"), both otherwise; "the same set-up" when alike."""
    (model_a, rerank_a), (model_b, rerank_b) = (_halves(setup_a), _halves(setup_b))
    if (model_a, rerank_a) == (model_b, rerank_b):
        return "the same set-up", "the same set-up"
    if rerank_a == rerank_b:
        return model_a, model_b
    if model_a == model_b:
        return _reranked(rerank_a), _reranked(rerank_b)
    return f"{model_a} {_reranked(rerank_a)}", f"{model_b} {_reranked(rerank_b)}"


def _halves(setup: str) -> tuple[str, str]:
    """A set-up's model and reranker as the page names them (a folder by its name)."""
    model, _, reranker = setup.rpartition(" + ")
    model, reranker = (model, reranker) if model else (setup, "none")
    return display_key(model), display_key(reranker)


def _reranked(reranker: str) -> str:
    return "without reranker" if reranker == "none" else f"with reranker {reranker}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def voted_query(text: str | None, image: str | Path | None) -> VotedQuery:
    """The identity of a query with this text and query image file (read to hash it)."""
    from mmdemo.ingest.images import content_hash

    digest = ""
    if image:
        try:
            digest = content_hash(Path(image).read_bytes())
        except OSError as exc:
            raise InputError(f"The query image {Path(image).name} cannot be read.") from exc
    return VotedQuery((text or "").strip(), digest, Path(image).name if image else "")


def _pair(setup_a: str, setup_b: str) -> tuple[str, str]:
    """The pair in its stored order; the same set-up twice cannot be voted on."""
    if not setup_a or not setup_b:
        raise InputError("A vote needs both set-ups named.")
    if setup_a == setup_b:
        raise InputError(f"A and B are the same set-up ({setup_a}): there is nothing to vote on.")
    first, second = sorted((setup_a, setup_b))
    return first, second


class Votes:
    """The vote file of one data folder."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.data_dir / "votes.sqlite3"

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S)) as db, db:
                db.execute(_SCHEMA)
                yield db
        except (sqlite3.Error, OSError) as exc:
            raise InputError(f"The votes file cannot be used: {exc}.") from exc

    def record(
        self,
        *,
        collection: str,
        query: VotedQuery,
        setups: tuple[str, str],
        choice: str,
        voter: str = OPERATOR,
    ) -> Tally:
        """Store one voter's vote on a query (replacing their earlier one); the new tally.

        ``setups`` are the set-ups shown as A and B (``model + reranker`` names) and
        ``choice`` is ``A``, ``B`` or ``tie``.
        """
        if choice not in CHOICES:
            raise InputError(f"A vote is one of {', '.join(CHOICES)}, not {choice!r}.")
        if not query.text.strip() and not query.image_digest:
            raise InputError("A vote needs the query it is about (its text or image).")
        if len(query.text) > MAX_QUERY_CHARS:
            raise InputError(
                f"The query is too long to vote on (over {MAX_QUERY_CHARS} characters)."
            )
        first, second = _pair(*setups)
        preferred = {"A": setups[0], "B": setups[1]}.get(choice, TIE)
        row = (first, second, collection, query.key, query.text.strip(), query.image_name)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._connection() as db:
            db.execute(
                "INSERT INTO votes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
                "(setup_1, setup_2, collection, query_key, voter) DO UPDATE SET "
                "preferred = excluded.preferred, voted_at = excluded.voted_at",
                (*row, voter, preferred, now),
            )
        return self.tally(setups)

    def tally(self, setups: tuple[str, str], collection: str | None = None) -> Tally:
        """The votes on the pair shown as A and B (over every collection, or one)."""
        first, second = _pair(*setups)
        where = "setup_1 = ? AND setup_2 = ?" + (" AND collection = ?" if collection else "")
        args = (first, second, collection) if collection else (first, second)
        with self._connection() as db:
            counts = dict(
                db.execute(
                    f"SELECT preferred, COUNT(*) FROM votes WHERE {where} GROUP BY preferred", args
                ).fetchall()
            )
            (queries,) = db.execute(
                f"SELECT COUNT(DISTINCT collection || char(31) || query_key) FROM votes "
                f"WHERE {where}",
                args,
            ).fetchone()
        a, b = setups
        return Tally(a, b, counts.get(a, 0), counts.get(b, 0), counts.get(TIE, 0), queries)

    def pairs(self) -> list[tuple[str, str]]:
        """Every pair of set-ups that has votes, in their stored order."""
        with self._connection() as db:
            found = db.execute("SELECT DISTINCT setup_1, setup_2 FROM votes ORDER BY 1, 2")
            return [(first, second) for first, second in found.fetchall()]

    def rows(self, setups: tuple[str, str] | None = None) -> list[list[str]]:
        """Every vote (on one pair, or all), in the :data:`EXPORT_COLUMNS` order."""
        columns = ", ".join(EXPORT_COLUMNS)
        query = f"SELECT {columns} FROM votes"
        args: tuple[str, ...] = ()
        if setups is not None:
            query, args = query + " WHERE setup_1 = ? AND setup_2 = ?", _pair(*setups)
        with self._connection() as db:
            found = db.execute(query + " ORDER BY voted_at, setup_1, setup_2", args).fetchall()
        return [list(row) for row in found]

    def export(self, out: str | Path, setups: tuple[str, str] | None = None) -> Path:
        """Write the votes (on one pair, or all) as a CSV, through the one CSV writer."""
        return write_csv(Rows(list(EXPORT_COLUMNS), self.rows(setups)), out)
