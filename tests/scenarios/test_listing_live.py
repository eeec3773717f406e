"""A listing (挂牌) watched live over graphql-transport-ws, as the app and a kiosk watch it: a snapshot, each offer
counted (the count and the listed price, never who offered), the period's end, and the turn into an auction
(挂牌转竞价) with the auction's id so that the watcher moves to the auction's topic."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from domain.common.events import live_message
from domain.common.models import OutboxEvent
from schema.relay import int_id, to_global_id
from tests import factories as f
from tests.scenarios.test_auction import WATCH, at, bidders, updates
from tests.scenarios.test_listing import PRICE, RESERVE, STEP, listing_lot, offer
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.support.bank import Bank

LIVE = """subscription($lotId: ID!) { listingUpdates(lotId: $lotId) {
  __typename lotId kind status seq currentPriceFen minNextOfferFen endsAt reservePriceFen auctionId auctionStartsAt
  serverTime } }"""
WHO = "subscription($lotId: ID!) { listingUpdates(lotId: $lotId) { leadingBidderNo } }"
AUCTION_ID = "query($lotId: ID!) { auction(lotId: $lotId) { id phase } }"


async def subscribe(api: Any, query: str, lot_id: str, token: str | None = None) -> Any:
    ws = await ws_connect(api.ws_url, {"authorization": f"Bearer {token}"} if token else {})
    assert (await next_message(ws))["type"] == "connection_ack"
    await ws.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"lotId": lot_id}}})
    )
    return ws


async def listing_updates(ws: Any, quiet: float = 0.3) -> tuple[list[dict[str, Any]], bool]:
    """The listing updates received until none came for `quiet` seconds, and whether the server completed."""
    got = []
    while True:
        try:
            message = await next_message(ws, within=quiet)
        except TimeoutError:
            return got, False
        if message["type"] == "complete":
            return got, True
        assert message["type"] == "next", message
        got.append(message["payload"]["data"]["listingUpdates"])


async def test_offers_are_counted_live_and_the_turn_into_an_auction_names_the_auction(api, manual_clock):
    # given a scheduled listing with three registrants who paid, watched by a kiosk without a token
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    lot_id, starts, ends = await listing_lot(api, manual_clock, operator)
    a, b, c = await bidders(api, operator, lot_id, 3, bank=bank)
    await api.dispatch()
    kiosk = await subscribe(api, LIVE, lot_id)
    try:
        [snapshot], done = await listing_updates(kiosk)
        assert not done
        assert (snapshot["kind"], snapshot["status"], snapshot["seq"]) == ("SNAPSHOT", "SCHEDULED", 0)
        assert (snapshot["currentPriceFen"], snapshot["minNextOfferFen"], snapshot["reservePriceFen"]) == (
            None,
            PRICE,
            None,
        )

        # when the period opens and three bidders offer, the outbox dispatched twice (at-least-once delivery)
        await at(manual_clock, starts + timedelta(days=1))
        for x in (a, b, c):
            await x.fresh()
        assert (await offer(a, lot_id, PRICE))["__typename"] == "ListingOfferPlaced"
        assert (await offer(b, lot_id, PRICE + STEP))["__typename"] == "ListingOfferPlaced"
        assert (await offer(c, lot_id, PRICE + 3 * STEP))["__typename"] == "ListingOfferPlaced"
        await api.dispatch()
        repeat = await OutboxEvent.filter(type="listing.offer_placed").order_by("-id").first()
        assert repeat is not None
        await api.services.bus.publish(live_message(repeat))

        # then each offer is counted once, in order, with the listed price and the next offer, and nothing of who
        counted, done = await listing_updates(kiosk)
        assert not done
        assert [(u["kind"], u["seq"], u["currentPriceFen"], u["minNextOfferFen"]) for u in counted] == [
            ("OFFER", 1, PRICE, PRICE + STEP),
            ("OFFER", 2, PRICE + STEP, PRICE + 2 * STEP),
            ("OFFER", 3, PRICE + 3 * STEP, PRICE + 4 * STEP),
        ]
        assert all(u["status"] == "OPEN" and u["reservePriceFen"] is None for u in counted)

        # when the listing period ends with three offerers
        await at(manual_clock, ends)
        await api.dispatch()

        # then the watcher is told the listing turned into an auction, with the auction's id and start, and done
        [ended], done = await listing_updates(kiosk)
        assert done
        auction = (await api.gql(AUCTION_ID, {"lotId": lot_id}))["data"]["auction"]
        assert (ended["kind"], ended["status"], ended["seq"]) == ("ENDED", "AUCTION", 3)
        assert ended["auctionId"] == auction["id"]
        assert ended["auctionStartsAt"] is not None
        assert ended["reservePriceFen"] == RESERVE
    finally:
        await kiosk.close()

    # and the app switches to the auction's topic of the same lot, where the highest offer leads
    await a.fresh()
    app = await subscribe(api, WATCH, lot_id, token=a.token)
    try:
        [first] = await updates(app)
        assert (first["kind"], first["phase"], first["priceFen"]) == ("snapshot", "SCHEDULED", PRICE + 3 * STEP)
    finally:
        await app.close()


async def test_a_sale_ends_the_topic_and_an_ended_listing_or_a_lot_without_one_gives_only_what_there_is(
    api, manual_clock
):
    # given a listing with one offer at the reserve, watched by a bidder's app
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    lot_id, starts, ends = await listing_lot(api, manual_clock, operator)
    other_lot, _, _ = await listing_lot(api, manual_clock, operator)
    [buyer] = await bidders(api, operator, lot_id, 1, bank=bank)
    await at(manual_clock, starts)
    await buyer.fresh()
    app = await subscribe(api, LIVE, lot_id, token=buyer.token)
    try:
        [snapshot], _ = await listing_updates(app)
        assert (snapshot["status"], snapshot["seq"]) == ("OPEN", 0)
        assert (await offer(buyer, lot_id, RESERVE))["__typename"] == "ListingOfferPlaced"
        await api.dispatch()
        [counted], _ = await listing_updates(app)

        # when the period ends
        await at(manual_clock, ends)
        await api.dispatch()

        # then the watcher sees the offer, then the sale with the reserve now shown and no auction
        [ended], done = await listing_updates(app)
        assert (counted["kind"], counted["seq"], counted["currentPriceFen"]) == ("OFFER", 1, RESERVE)
        assert (ended["kind"], ended["status"], ended["currentPriceFen"]) == ("ENDED", "SOLD", RESERVE)
        assert (ended["reservePriceFen"], ended["auctionId"], ended["auctionStartsAt"]) == (RESERVE, None, None)
        assert done
    finally:
        await app.close()

    # when someone watches the sold listing, the other one (ended without an offer), and a lot that is no listing
    late = await subscribe(api, LIVE, lot_id)
    other = await subscribe(api, LIVE, other_lot)
    nothing = await subscribe(api, LIVE, to_global_id("Lot", int_id(lot_id, "Lot", "lotId") + 10_000))
    try:
        # then each ended listing gives its last state and completes, the lot without a listing completes at once
        [last], done = await listing_updates(late)
        assert (last["kind"], last["status"], done) == ("SNAPSHOT", "SOLD", True)
        assert await listing_updates(nothing) == ([], True)
        [failed], done = await listing_updates(other)
        assert (failed["status"], failed["seq"], failed["reservePriceFen"], done) == ("FAILED", 0, RESERVE, True)
    finally:
        for ws in (late, other, nothing):
            await ws.close()


async def test_who_offered_is_not_a_field_of_the_topic(api):
    # when a watcher asks the listing topic for the leading bidder
    ws = await subscribe(api, WHO, to_global_id("Lot", 1))
    try:
        # then the document is refused: the topic carries the count and the price only
        message = await next_message(ws)
        assert message["type"] == "error"
        assert "leadingBidderNo" in json.dumps(message)
    finally:
        await ws.close()
