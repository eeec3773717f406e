"""The feed's committedAt grows with seq (issue 19): it was the time of the event inside its transaction, so an
entry committed later could carry an earlier time and a client resuming by time missed it."""

from __future__ import annotations

from datetime import timedelta

from tortoise.transactions import in_transaction

from domain.publication import feed
from tests.domain.publication.test_feed import public_events


async def test_committed_at_never_goes_back_as_seq_grows(db, manual_clock):
    # given two public changes whose events happened out of order: the later one first
    late, early = await public_events(2)
    late.occurred_at = manual_clock.now() + timedelta(minutes=10)
    early.occurred_at = manual_clock.now() - timedelta(minutes=10)
    # when each is appended in its own transaction, the late event first
    async with in_transaction():
        (first,) = await feed.append([late])
    manual_clock.advance(timedelta(seconds=1))
    async with in_transaction():
        (second,) = await feed.append([early])
    # then the second entry's time is not before the first's: resuming from a time misses neither
    assert (first.seq, second.seq) == (1, 2)
    assert second.committed_at >= first.committed_at
    rows, _ = await feed.read(None, 10)
    assert [r.seq for r in rows if r.committed_at >= first.committed_at] == [1, 2]
