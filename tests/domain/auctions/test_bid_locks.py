"""On PostgreSQL a bid's refusal does not wait for the auction's row lock (migration 0056): auction_bid_place judges
first on an unlocked look, and what that look refuses is answered there. A bid that look would accept still waits
for the lock and is judged again under it. Each case holds the auction as another bid in flight does, and waits
LOCK_TIMEOUT at most for any lock, so a regression fails at once instead of hanging."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest

from domain.auctions import services
from domain.auctions.models import Auction, AuctionBid
from domain.common.models import OutboxEvent
from domain.common.storage import lock, using_postgres
from tests.domain.auctions.test_bid_paths import START, STEP, World, bidders, world
from tests.support.tendering import held


async def _hot_lot(manual_clock: Any) -> World:
    """An auction in free bidding whose price a's bid has set; the process knows it (b's bids take the statement)."""
    if not using_postgres():
        pytest.skip("PostgreSQL's row locks (SQLite has one writer)")
    w = await world("locks", await bidders(), manual_clock.now())
    await services.place_bid(w.actors["a"], w.lot.id, START)
    return w


def _held(w: World) -> AbstractAsyncContextManager[None]:
    return held(lambda: lock(Auction.filter(id=w.auction.id)).get())


async def test_a_bid_below_the_price_is_refused_while_another_bid_holds_the_auction(db, manual_clock):
    # given a hot lot whose auction another bid holds under its row lock
    w = await _hot_lot(manual_clock)
    async with _held(w):
        # when a bidder who saw the old price bids it, and the leader bids again
        with pytest.raises(services.BidTooLow) as too_low:
            await services.place_bid(w.actors["b"], w.lot.id, START)
        with pytest.raises(services.AlreadyLeading):
            await services.place_bid(w.actors["a"], w.lot.id, START + STEP)

    # then both are refused without waiting for the lock, with the figures of the price as committed
    assert too_low.value.params["min_next_fen"] == START + STEP
    assert too_low.value.params["seq"] == 1
    # and each refusal is in the audit trail's outbox once, the auction unchanged
    failures = await OutboxEvent.filter(object_id=str(w.lot.id), type="auction.bid", outcome="failure")
    assert sorted(e.payload["code"] for e in failures) == ["ALREADY_LEADING", "BID_TOO_LOW"]
    auction = await Auction.get(id=w.auction.id)
    assert (auction.seq, auction.current_price_fen) == (1, START)


async def test_a_bid_the_price_allows_still_waits_for_the_auction(db, manual_clock):
    # given the same hot lot held by another bid
    w = await _hot_lot(manual_clock)
    async with _held(w):
        # when a bidder bids the next price, which only the holder's outcome can decide
        with pytest.raises(Exception, match="lock timeout"):
            await services.place_bid(w.actors["b"], w.lot.id, START + STEP)

    # then it waited for the lock (and gave up at the timeout), and is accepted once the lock is free
    placed = await services.place_bid(w.actors["b"], w.lot.id, START + STEP)
    assert placed.bid.seq == 2
    assert await AuctionBid.filter(auction_id=w.auction.id).count() == 2


async def test_a_replayed_key_of_an_accepted_bid_is_never_refused_by_the_unlocked_look(db, manual_clock):
    # given b's bid accepted under an idempotency key, then outbid by a
    w = await _hot_lot(manual_clock)
    first = await services.place_bid(w.actors["b"], w.lot.id, START + STEP, "locks-replay")
    await services.place_bid(w.actors["a"], w.lot.id, START + 2 * STEP)

    # when b's phone resends the same request (its price now too low) while the auction is held
    async with _held(w):
        again = await services.place_bid(w.actors["b"], w.lot.id, START + STEP, "locks-replay")

    # then it is answered with the bid it made, not refused
    assert (again.bid.id, again.event.event_id) == (first.bid.id, first.event.event_id)
