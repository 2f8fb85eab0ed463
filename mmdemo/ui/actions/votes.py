"""Voting on a comparison from the page or the API, and the pair's tally.

Votes are kept by :class:`mmdemo.evaluate.votes.Votes`, one per voter, query and pair of
set-ups: in multi-visitor mode a visitor is one voter (voting again replaces the earlier
vote); the local app's user, and a caller without a session, vote as the operator.
"""

from __future__ import annotations

from mmdemo.evaluate.comparison import Setup
from mmdemo.evaluate.votes import OPERATOR, Tally, Votes, voted_query
from mmdemo.ui.context import AppContext
from mmdemo.ui.requests import VoteRequest, VotesRequest


def _names(asked: VoteRequest | VotesRequest) -> tuple[str, str]:
    """Both set-ups as votes name them (``model + reranker``, canonical keys)."""
    a = Setup(asked.model_a, asked.reranker_a).resolved()
    b = Setup(asked.model_b, asked.reranker_b).resolved()
    return a.name, b.name


def vote(ctx: AppContext, asked: VoteRequest, session: str | None) -> Tally:
    """Record the vote of the visitor of ``session``; the pair's new tally."""
    voter = ctx.visitor(session).token or OPERATOR
    return Votes(ctx.settings).record(
        collection=asked.collection.stored,
        query=voted_query(asked.text, asked.image),
        setups=_names(asked),
        choice=asked.choice,
        voter=voter,
    )


def tally(ctx: AppContext, asked: VotesRequest) -> Tally:
    """The votes so far on the pair shown as A and B."""
    return Votes(ctx.settings).tally(_names(asked))
