"""Bid submissions on one lot do not queue behind each other, nor the lot's other inserts behind them (PostgreSQL's
row locks; SQLite has one writer). A submission shares the lot (FOR SHARE) and serialises only with the same
bidder's (an advisory lock); `storage.lock` is FOR NO KEY UPDATE, which an insert referring to the locked row (its
foreign-key check takes FOR KEY SHARE) passes. Each waits at most LOCK_TIMEOUT here, so a regression fails at once
instead of hanging."""

from __future__ import annotations

import pytest

from domain.common.storage import lock, lock_shared, using_postgres
from domain.publication.models import Lot
from domain.registration import services as registration
from domain.tendering import services as tendering
from domain.tendering.models import SealedBid
from mobile_contract.sealed_bid import new_key, seal
from tests.support.tendering import held, published_tender, registered_bidder


def _postgres_only() -> None:
    if not using_postgres():
        pytest.skip("PostgreSQL's row locks (SQLite has one writer)")


async def test_a_submission_does_not_wait_for_another_bidders_submission_in_flight(db):
    _postgres_only()
    # given a tender and two bidders, one of whose submissions holds the lot as a submission does
    t = await published_tender()
    first, second = await registered_bidder(t.lot.id), await registered_bidder(t.lot.id)
    # when the other bidder submits meanwhile (waiting 2 s at most for any lock)
    async with held(lambda: lock_shared(Lot, t.lot.id)):
        sealed = seal(new_key(), t.lot.trade_code, 1_000_000, {"a.pdf": b"x"})
        bid = await tendering.submit(second, t.lot.id, sealed)

    # then it is stored without waiting for the first
    assert await SealedBid.filter(id=bid.id, organisation_id=second.org_id).exists()
    assert first.org_id != second.org_id


async def test_an_insert_referring_to_a_locked_lot_does_not_wait_for_it(db):
    _postgres_only()
    # given a lot held by `lock` (a bid submission's lot before, a status move, a clarification)
    t = await published_tender()
    # when a bidder registers for it meanwhile (rows referring to the lot: registration, commitment, facts)
    async with held(lambda: lock(Lot.filter(id=t.lot.id)).get()):
        bidder = await registered_bidder(t.lot.id)

    # then the registration is in, without waiting for the holder to commit
    assert await registration.active(t.lot.id, int(bidder.org_id or 0)) is not None


async def test_a_change_of_the_lot_still_waits_for_a_submission_in_flight(db):
    _postgres_only()
    # given a submission in flight (the lot shared)
    t = await published_tender()
    # when the lot is locked to be changed (the opening, a deadline move), waiting 2 s at most
    async with held(lambda: lock_shared(Lot, t.lot.id)):
        with pytest.raises(Exception, match="lock timeout"):
            await lock(Lot.filter(id=t.lot.id)).get()
