"""Auction watchers over graphql-transport-ws and the live bus by lot (issue 21): the server listens only to the
lots its watchers watch, and each bid is published once (by the server after its commit; by the outbox worker
only when the server could not)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from domain.common.topics import ANY, auction
from notifications.broker import RedisBroker
from notifications.dispatch import Dispatcher
from notifications.live import LiveConsumer
from schema.relay import int_id
from tests import factories as f
from tests.scenarios.test_auction import START_PRICE, STEP, WATCH, at, auction_lot, bidders, updates
from tests.scenarios.test_live_events import next_message, ws_connect


async def watch(api: Any, lot_id: str) -> Any:
    ws = await ws_connect(api.ws_url, {})
    assert (await next_message(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"lotId": lot_id}}})
    )
    [snapshot] = await updates(ws)
    assert snapshot["kind"] == "snapshot"
    return ws


async def settled(bus: Any, channels: set[str]) -> bool:
    for _ in range(500):
        if bus.channels == channels:
            return True
        await asyncio.sleep(0.01)
    return False


def dispatcher(api: Any) -> tuple[Dispatcher, LiveConsumer]:
    """The server's consumers with the live one of notifications/live.py."""
    live = LiveConsumer(api.services.bus)
    return Dispatcher([live if c.name == "live" else c for c in api.services.dispatcher.consumers]), live


async def test_the_server_listens_to_the_lots_its_watchers_watch_and_no_other(api, manual_clock):
    # given two live auctions with a bidder each
    operator = await f.operator_token(api)
    lot_a, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    lot_b, _, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [a] = await bidders(api, operator, lot_a, 1)
    [b] = await bidders(api, operator, lot_b, 1)
    await at(manual_clock, starts)
    await a.fresh()
    await b.fresh()
    bus = api.services.bus
    pk_a, pk_b = int_id(lot_a, "Lot", "lotId"), int_id(lot_b, "Lot", "lotId")
    before = bus.received[auction(pk_b)] if isinstance(bus, RedisBroker) else 0

    # when a kiosk watches lot A only
    kiosk = await watch(api, lot_a)
    try:
        # then the server listens to lot A's topic only
        assert bus.channels == {auction(pk_a)}

        # when both lots get a bid
        assert (await b.bid(lot_b, START_PRICE))["__typename"] == "BidPlaced"
        assert (await a.bid(lot_a, START_PRICE))["__typename"] == "BidPlaced"

        # then the kiosk gets lot A's bid, and (with Redis) the server read nothing of lot B
        [update] = await updates(kiosk)
        assert (update["kind"], update["seq"], update["priceFen"]) == ("bid", 1, START_PRICE)
        if isinstance(bus, RedisBroker):
            assert bus.received[auction(pk_b)] == before
    finally:
        await kiosk.close()

    # and once no one watches, the server stops listening to lot A
    assert await settled(bus, set())


async def test_each_bid_is_published_once_and_the_worker_publishes_what_the_server_could_not(
    api, manual_clock, monkeypatch
):
    # given a live auction, two bidders and a kiosk watching
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [a, b] = await bidders(api, operator, lot_id, 2)
    await at(manual_clock, starts)
    await a.fresh()
    await b.fresh()
    pk = int_id(lot_id, "Lot", "lotId")
    await dispatcher(api)[0].drain()  # the phase changes so far
    kiosk = await watch(api, lot_id)
    # and a subscriber of every message on the bus, counting the lot's bids
    bus = api.services.bus
    everything = await bus.open(
        lambda m: m["type"] == "auction.bid_placed" and m["payload"]["lot_id"] == pk, topics=(ANY,)
    )
    try:
        # when two bids are placed and the outbox worker then dispatches them
        assert (await a.bid(lot_id, START_PRICE))["__typename"] == "BidPlaced"
        assert (await b.bid(lot_id, START_PRICE + STEP))["__typename"] == "BidPlaced"
        work, live = dispatcher(api)
        await work.drain()

        # then each bid went out once, by the server, and the worker skipped them
        got = [await asyncio.wait_for(anext(everything), timeout=5) for _ in range(2)]
        assert [m["payload"]["seq"] for m in got] == [1, 2]
        assert live.skipped == 2

        # when the server cannot publish a third bid (its broker is down)
        publish = bus.publish

        async def down(message: dict[str, Any]) -> None:
            raise ConnectionError("Redis is restarting")

        monkeypatch.setattr(bus, "publish", down)
        assert (await a.bid(lot_id, START_PRICE + 2 * STEP))["__typename"] == "BidPlaced"
        monkeypatch.setattr(bus, "publish", publish)
        await work.drain()

        # then the worker published it, once
        [third] = [await asyncio.wait_for(anext(everything), timeout=5)]
        assert third["payload"]["seq"] == 3
        assert live.skipped == 2
        await asyncio.sleep(0.05)  # anything repeated would have come back by now
        assert everything.unread == 0

        # and the kiosk saw each bid once, in order
        seen = await updates(kiosk)
        assert [(u["kind"], u["seq"]) for u in seen] == [("bid", 1), ("bid", 2), ("bid", 3)]
    finally:
        await everything.aclose()
        await kiosk.close()
