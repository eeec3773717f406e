"""auctionUpdates(latestOnly: true) over graphql-transport-ws (issue 21): a phone that falls behind gets the newest
price and every phase change in order, not a growing queue of prices it can no longer show; without it every bid
still arrives, in sequence."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from api import ws as transport
from domain.common import chronograph
from schema.auctions import fanout
from tests import factories as f
from tests.scenarios.test_auction import START_PRICE, STEP, WATCH, Bidder, at, auction_lot, bidders, updates
from tests.scenarios.test_live_events import next_message, ws_connect

LATEST = """subscription($lotId: ID!) { auctionUpdates(lotId: $lotId, latestOnly: true) {
  kind seq phase priceFen leadingBidderNo endsAt reservePriceFen } }"""


async def subscribe(api: Any, lot_id: str, query: str) -> Any:
    ws = await ws_connect(api.ws_url, {})
    assert (await next_message(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"lotId": lot_id}}})
    )
    [snapshot] = await updates(ws)
    assert (snapshot["kind"], snapshot["seq"]) == ("snapshot", 0)
    return ws


async def live_auction(api: Any, clock: Any) -> tuple[str, Any, list[Bidder]]:
    """A lot in free bidding (its phase change delivered) with two bidders; and when timed bidding starts."""
    operator = await f.operator_token(api)
    lot_id, starts, timed = await auction_lot(api, clock, operator, reserve=START_PRICE)
    pair = await bidders(api, operator, lot_id, 2)
    await at(clock, starts)
    for bidder in pair:
        await bidder.fresh()
    await api.dispatch()
    return lot_id, timed, pair


async def bid_timed_and_sell(api: Any, clock: Any, lot_id: str, timed: Any, pair: list[Bidder]) -> None:
    """Bids 1 to 3, timed bidding, bids 4 to 6, the sale: eight updates, two of them phase changes."""
    price = START_PRICE
    for n in range(6):
        if n == 3:
            await at(clock, timed)
            await api.dispatch()
            for bidder in pair:
                await bidder.fresh()
        placed = await pair[n % 2].bid(lot_id, price)
        assert placed["__typename"] == "BidPlaced", placed
        price += STEP
    clock.set(timed + timedelta(seconds=301))
    await chronograph.fire_due()
    await api.dispatch()


def summary(seen: list[dict[str, Any]]) -> list[tuple[str, int, str, int | None]]:
    return [(u["kind"], u["seq"], u["phase"], u["priceFen"]) for u in seen]


LAST = START_PRICE + 5 * STEP
EVERY_BID = [
    ("bid", 1, "FREE", START_PRICE),
    ("bid", 2, "FREE", START_PRICE + STEP),
    ("bid", 3, "FREE", START_PRICE + 2 * STEP),
    ("phase", 3, "TIMED", START_PRICE + 2 * STEP),
    ("bid", 4, "TIMED", START_PRICE + 3 * STEP),
    ("bid", 5, "TIMED", START_PRICE + 4 * STEP),
    ("bid", 6, "TIMED", LAST),
    ("phase", 6, "SOLD", LAST),
]


async def test_a_phone_behind_with_latest_only_gets_the_newest_price_and_every_phase_change(
    api, manual_clock, monkeypatch
):
    # given a live auction, and two watchers whose tasks read nothing until the auction is over: a phone with
    # latestOnly and a kiosk without
    lot_id, timed, pair = await live_auction(api, manual_clock)
    go = asyncio.Event()
    original = fanout.Watcher.updates

    async def stalled(self: fanout.Watcher, channel: Any = None) -> Any:
        await go.wait()
        async for shared in original(self, None):
            yield shared

    monkeypatch.setattr(fanout.Watcher, "updates", stalled)
    phone = await subscribe(api, lot_id, LATEST)
    kiosk = await subscribe(api, lot_id, WATCH)
    try:
        # when six bids, timed bidding and the sale happen while they do not read
        await bid_timed_and_sell(api, manual_clock, lot_id, timed, pair)
        go.set()

        # then the phone gets fewer updates than there were bids: each phase change in its place, then the last
        # price, then the result (the sequence numbers show which prices it skipped)
        latest = summary(await updates(phone, quiet=1.0))
        assert latest == [
            ("phase", 3, "TIMED", START_PRICE + 2 * STEP),
            ("bid", 6, "TIMED", LAST),
            ("phase", 6, "SOLD", LAST),
        ]
        # and the kiosk, without latestOnly, every bid in sequence as before
        assert summary(await updates(kiosk, quiet=1.0)) == EVERY_BID
    finally:
        await phone.close()
        await kiosk.close()


async def test_a_phone_on_a_slow_socket_with_latest_only_skips_the_prices_it_could_not_send(
    api, manual_clock, monkeypatch
):
    # given a live auction and two watchers sent to directly by the lot's feed, on sockets that take nothing
    # until the auction is over: a phone with latestOnly and a kiosk without
    lot_id, timed, pair = await live_auction(api, manual_clock)
    drained = asyncio.Event()
    send = transport.SharedChannel.send

    async def slow(self: transport.SharedChannel, shared: fanout.Shared, visibility: str) -> bool:
        await drained.wait()
        return await send(self, shared, visibility)

    monkeypatch.setattr(transport.SharedChannel, "send", slow)
    phone = await subscribe(api, lot_id, LATEST)
    kiosk = await subscribe(api, lot_id, WATCH)
    try:
        [feed] = [feed for feed in fanout._feeds[api.services.bus].values() if feed.lot_id == lot_id]
        for _ in range(500):
            if len(feed.watchers) == 2 and all(w.channel is not None for w in feed.watchers):
                break
            await asyncio.sleep(0.01)
        assert all(w.channel is not None for w in feed.watchers)

        # when six bids, timed bidding and the sale happen while the first bid's send waits for the socket
        await bid_timed_and_sell(api, manual_clock, lot_id, timed, pair)
        [waiting] = {len(w.backlog) for w in feed.watchers if w.latest}
        drained.set()

        # then the phone gets the bid that was on its way, each phase change in its place, the last price and the
        # result; the prices behind the first were dropped while they waited
        assert waiting == 3
        assert summary(await updates(phone, quiet=1.0)) == [
            ("bid", 1, "FREE", START_PRICE),
            ("phase", 3, "TIMED", START_PRICE + 2 * STEP),
            ("bid", 6, "TIMED", LAST),
            ("phase", 6, "SOLD", LAST),
        ]
        # and the kiosk every bid in sequence
        assert summary(await updates(kiosk, quiet=1.0)) == EVERY_BID
    finally:
        await phone.close()
        await kiosk.close()
