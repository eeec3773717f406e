"""The shared auction feed (schema/auctions/fanout.py) through the real server: one bus subscription per lot
and process, one rendering per document, each watcher its own selection and operation id, and a watcher
whose own queue overflowed filled in from the database."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from schema.auctions import fanout
from tests import factories as f
from tests.scenarios.test_auction import START_PRICE, STEP, WATCH, at, auction_lot, bidders, updates
from tests.scenarios.test_live_events import next_message, ws_connect

SLIM = "subscription Slim($lotId: ID!) { auctionUpdates(lotId: $lotId) { seq priceFen } }"


async def watcher(api: Any, lot_id: str, query: str, op_id: str, token: str | None = None) -> Any:
    ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {token}"} if token else {})
    assert (await next_message(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": {"lotId": lot_id}}})
    )
    return ws


async def test_watchers_share_one_feed_and_each_gets_its_own_document_and_id(api, manual_clock):
    # given a live auction and a bidder
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [a, b] = await bidders(api, operator, lot_id, 2)
    await at(manual_clock, starts)
    await a.fresh()
    await b.fresh()
    before = api.services.bus.subscriber_count
    # and three watchers: two kiosks with the full document, one signed-in phone with a slimmer one
    kiosks = [await watcher(api, lot_id, WATCH, op_id) for op_id in ("1", "6f1c2a9e-kiosk")]
    phone = await watcher(api, lot_id, SLIM, "p", token=a.token)
    try:
        for ws in (*kiosks, phone):
            [snapshot] = [m for m in await updates(ws)]
            assert snapshot["seq"] == 0
        # then the process reads the bus once for this lot, however many watch it
        assert api.services.bus.subscriber_count - before == 1
        [feed] = [feed for feed in fanout._feeds[api.services.bus].values() if feed.lot_id == lot_id]

        # when two bids are placed
        assert (await a.bid(lot_id, START_PRICE))["__typename"] == "BidPlaced"
        assert (await b.bid(lot_id, START_PRICE + STEP))["__typename"] == "BidPlaced"

        # then every watcher gets both, in order, shaped by its own document and tagged with its own id
        for ws, op_id in zip(kiosks, ("1", "6f1c2a9e-kiosk"), strict=True):
            got = [await next_message(ws) for _ in range(2)]
            assert [m["id"] for m in got] == [op_id, op_id]
            bids = [m["payload"]["data"]["auctionUpdates"] for m in got]
            assert [(u["kind"], u["seq"], u["priceFen"]) for u in bids] == [
                ("bid", 1, START_PRICE),
                ("bid", 2, START_PRICE + STEP),
            ]
        slim = [await next_message(phone) for _ in range(2)]
        assert [m["id"] for m in slim] == ["p", "p"]
        assert [m["payload"]["data"]["auctionUpdates"] for m in slim] == [
            {"seq": 1, "priceFen": START_PRICE},
            {"seq": 2, "priceFen": START_PRICE + STEP},
        ]
        # and the feed's task sent them itself (direct mode), no watcher's own task had to wake for them
        assert len(feed.watchers) == 3
        assert all(w.channel is not None for w in feed.watchers)
    finally:
        for ws in (*kiosks, phone):
            await ws.close()


async def test_a_watcher_whose_queue_overflowed_is_filled_in_from_the_database(api, manual_clock, monkeypatch):
    # given watchers that can hold only two updates each, and one that does not read for a while
    monkeypatch.setattr(fanout, "QUEUE_SIZE", 2)
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [a, b] = await bidders(api, operator, lot_id, 2)
    await at(manual_clock, starts)
    await a.fresh()
    await b.fresh()
    feed_state: dict[str, asyncio.Event] = {}
    original = fanout.Watcher.updates

    async def stalled(self: fanout.Watcher, channel: Any = None) -> Any:
        # this watcher reads nothing until the bids are in, and only through its queue
        await feed_state["go"].wait()
        async for shared in original(self, None):
            yield shared

    feed_state["go"] = asyncio.Event()
    monkeypatch.setattr(fanout.Watcher, "updates", stalled)
    slow = await watcher(api, lot_id, WATCH, "1")
    try:
        assert [u["kind"] for u in await updates(slow)] == ["snapshot"]

        # when six bids are placed while it does not read (its queue keeps only the last two)
        price = START_PRICE
        for n in range(6):
            placed = await (a if n % 2 == 0 else b).bid(lot_id, price)
            assert placed["__typename"] == "BidPlaced", placed
            price += STEP
        feed_state["go"].set()

        # then it still gets all six, in order, none twice
        seen = [u["seq"] for u in await updates(slow, quiet=1.0) if u["kind"] == "bid"]
        assert seen == [1, 2, 3, 4, 5, 6]
    finally:
        await slow.close()


def test_an_auction_update_is_the_same_for_every_watcher():
    """Shared rendering (api/ws.py) sends one execution of a document to every watcher of the lot, anonymous
    kiosks included: so no field of AuctionUpdate may depend on who watches (no permission, no resolver)."""
    from strawberry.types.base import get_object_definition

    from schema.auctions.types import AuctionUpdate

    definition = get_object_definition(AuctionUpdate, strict=True)
    assert fanout.VISIBILITY == "public"
    for field in definition.fields:
        assert not field.permission_classes, field.name
        assert field.base_resolver is None, field.name
