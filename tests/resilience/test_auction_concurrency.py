"""Twenty bidders firing at once at one lot: bids are serialised, every acknowledged bid is stored once.

Runs on SQLite (one writer) and on PostgreSQL (the row lock), with the in-process or the Redis broker.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from domain.auctions.models import Auction, AuctionBid, AuctionEntry
from domain.common.models import OutboxEvent
from schema.relay import from_global_id
from tests import factories as f
from tests.scenarios.test_auction import (
    NUMBER,
    START_PRICE,
    STATE,
    STEP,
    WATCH,
    at,
    auction_lot,
    bidders,
    updates,
)
from tests.scenarios.test_live_events import next_message, ws_connect

BIDDERS = 20
VOLLEY = 11  # opening bids per bidder, all at once: at least six of them fall into one second
ROUNDS = 6  # then, per bidder, read the price and raise it by one increment, back to back
REFUSALS = {"BID_TOO_LOW", "ALREADY_LEADING", "BID_RATE_LIMITED"}
BID = """mutation($input: BidPlaceInput!) { bidPlace(input: $input) {
  __typename
  ... on BidPlaced { bid { seq amountFen bidderNo } }
  ... on BidTooLow { currentPriceFen minNextFen seq }
  ... on Error { code message }
} }"""


async def test_twenty_bidders_at_once_get_strictly_increasing_bids_each_stored_once(api, manual_clock):
    # given a live auction with twenty qualified bidders and a kiosk watching it
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    people = await bidders(api, operator, lot_id, BIDDERS)
    await at(manual_clock, starts)
    for bidder in people:
        await bidder.fresh()
    kiosk = await ws_connect(api.ws_url, {})
    try:
        assert (await next_message(kiosk))["type"] == "connection_ack"
        await kiosk.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"lotId": lot_id}}})
        )
        [snapshot] = await updates(kiosk)
        assert (snapshot["kind"], snapshot["seq"]) == ("snapshot", 0)

        # when all of them read the price and raise it by one increment, at the same moment, again and again
        go = asyncio.Event()
        outcomes: list[tuple[int, int, dict[str, Any]]] = []  # (bidder, amount, result)
        top_level: list[dict[str, Any]] = []  # answers without a result: errors[] instead of data

        async def bid(i: int, amount: int) -> None:
            body = await api.gql(
                BID, {"input": {"lotId": lot_id, "amountFen": amount}}, token=people[i].token, expect_errors=True
            )
            if body.get("errors") or not (body.get("data") or {}).get("bidPlace"):
                top_level.append(body)
            else:
                outcomes.append((i, amount, body["data"]["bidPlace"]))

        async def fire(i: int) -> None:
            await go.wait()
            await asyncio.gather(*(bid(i, START_PRICE) for _ in range(VOLLEY)))
            for _ in range(ROUNDS):
                state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]
                await bid(i, state["minNextBidFen"])

        tasks = [asyncio.create_task(fire(i)) for i in range(BIDDERS)]
        await asyncio.sleep(0.05)
        go.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)

        # then every result is an accepted bid or a typed refusal (top-level errors are checked last)
        accepted = [(i, amount, r["bid"]) for i, amount, r in outcomes if r["__typename"] == "BidPlaced"]
        refused = [r for _, _, r in outcomes if r["__typename"] != "BidPlaced"]
        assert len(outcomes) + len(top_level) == BIDDERS * (VOLLEY + ROUNDS)
        assert {r.get("code") for r in refused} <= REFUSALS, {r.get("code") for r in refused} - REFUSALS
        assert len(accepted) >= 2
        # each acknowledgement carries what was bid, and the sequence numbers are 1..N without a gap
        assert all(bid["amountFen"] == amount for _, amount, bid in accepted)
        by_seq = sorted((bid["seq"], bid["amountFen"], bid["bidderNo"]) for _, _, bid in accepted)
        assert [s for s, _, _ in by_seq] == list(range(1, len(accepted) + 1))
        prices = [a for _, a, _ in by_seq]
        assert all(x < y for x, y in itertools.pairwise(prices)), prices
        assert prices[0] == START_PRICE
        assert all(y - x == STEP for x, y in itertools.pairwise(prices))  # everyone raised by one step
        # a bid that was too low was really below the price of its moment
        for _, amount, r in outcomes:
            if r.get("code") == "BID_TOO_LOW":
                assert amount < r["minNextFen"], r
                assert r["currentPriceFen"] == prices[r["seq"] - 1], r

        # and the database holds exactly the acknowledged bids, once each, and the auction agrees with the last
        pk = int(from_global_id(lot_id)[1])
        auction = await Auction.get(lot_id=pk)
        stored = sorted(await AuctionBid.filter(auction_id=auction.id).values_list("seq", "amount_fen", "bidder_no"))
        assert [tuple(row) for row in stored] == by_seq
        assert auction.seq == by_seq[-1][0]
        assert auction.current_price_fen == by_seq[-1][1]
        assert auction.leading_bidder_no == by_seq[-1][2]
        # with exactly one public bid event each, written with the bid
        events = await OutboxEvent.filter(type="auction.bid_placed", outcome="success").values_list(
            "payload", flat=True
        )
        assert sorted((e["seq"], e["price_fen"], e["bidder_no"]) for e in events) == by_seq

        # and the kiosk saw every bid once, in order, although the bids were published out of order
        await api.dispatch()
        seen = [u for u in await updates(kiosk, quiet=0.5) if u["kind"] == "bid"]
        assert [(u["seq"], u["priceFen"], u["leadingBidderNo"]) for u in seen] == by_seq

        # and the bidders over the rate limit (the opening volley) were refused with a typed error too
        assert top_level == [], (
            f"{len(top_level)} bids got a top-level error instead of a typed refusal: {top_level[0]}"
        )
    finally:
        await kiosk.close()


async def test_a_bidder_over_the_rate_limit_gets_a_typed_refusal(api, manual_clock):
    """BID_RATE_LIMITED is a member of BidPlaceResult; a sixth bid within a second must be answered with it."""
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [bidder] = await bidders(api, operator, lot_id, 1)
    await at(manual_clock, starts)
    await bidder.fresh()
    # when one bidder sends twelve bids at once (at least six of them fall into one second)
    answers = await asyncio.gather(
        *(
            api.gql(BID, {"input": {"lotId": lot_id, "amountFen": START_PRICE}}, token=bidder.token, expect_errors=True)
            for _ in range(12)
        )
    )
    # then one is accepted, and the ones over the limit are refused as data, with their code, like any refusal
    assert all("errors" not in a for a in answers), next(a["errors"] for a in answers if "errors" in a)
    codes = sorted(a["data"]["bidPlace"].get("code") or a["data"]["bidPlace"]["__typename"] for a in answers)
    assert codes.count("BidPlaced") == 1, codes
    assert "BID_RATE_LIMITED" in codes, codes


async def test_a_watcher_that_lost_more_than_500_bids_gets_every_one_of_them(api, manual_clock):
    """auctionUpdates promises every bid in sequence, none missing: a reader that lost messages (the broker drops
    the oldest for a slow one) is filled in from the database when the next bid shows the gap, however long."""
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    a, b = await bidders(api, operator, lot_id, 2)
    await at(manual_clock, starts)
    await a.fresh()
    await b.fresh()
    number_of_a = (await api.gql(NUMBER, {"lotId": lot_id}, token=a.token))["data"]["myBidderNumber"]
    kiosk = await ws_connect(api.ws_url, {})
    try:
        assert (await next_message(kiosk))["type"] == "connection_ack"
        await kiosk.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"lotId": lot_id}}})
        )
        [snapshot] = await updates(kiosk)
        assert snapshot["seq"] == 0

        # given 600 bids the kiosk never heard of (stored as place_bid stores them, their live messages lost)
        lost = 600
        auction = await Auction.get(lot_id=int(from_global_id(lot_id)[1]))
        entry = await AuctionEntry.get(auction_id=auction.id, bidder_no=number_of_a)
        await AuctionBid.bulk_create(
            [
                AuctionBid(
                    auction_id=auction.id,
                    entry_id=entry.id,
                    bidder_no=entry.bidder_no,
                    seq=seq,
                    amount_fen=START_PRICE + (seq - 1) * STEP,
                    placed_at=starts,
                    ends_at=None,
                    phase="free",
                )
                for seq in range(1, lost + 1)
            ]
        )
        await Auction.filter(id=auction.id).update(
            seq=lost,
            current_price_fen=START_PRICE + (lost - 1) * STEP,
            leading_entry_id=entry.id,
            leading_bidder_no=entry.bidder_no,
        )

        # when the next bid arrives live
        placed = await b.bid(lot_id, START_PRICE + lost * STEP)
        assert placed["bid"]["seq"] == lost + 1

        # then the kiosk gets all 601, in order, none missing
        seen = [u["seq"] for u in await updates(kiosk, quiet=1.0) if u["kind"] == "bid"]
        assert seen == list(range(1, lost + 2)), (
            f"{len(seen)} bids delivered; missing {sorted(set(range(1, lost + 2)) - set(seen))[:5]}..."
        )
    finally:
        await kiosk.close()


async def test_the_replay_of_an_accepted_bid_is_its_result_even_when_the_bidder_is_over_the_rate_limit(
    api, manual_clock
):
    """README: the replay of a request returns the first result. A phone that lost the answer to an accepted bid
    and resends it (same idempotencyKey) must learn that its bid stands, not that it was "not processed"."""
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [bidder] = await bidders(api, operator, lot_id, 1)
    await at(manual_clock, starts)
    await bidder.fresh()
    request = {"input": {"lotId": lot_id, "amountFen": START_PRICE, "idempotencyKey": "phone-7f3a-bid-1"}}
    first = (await api.gql(BID, request, token=bidder.token))["data"]["bidPlace"]
    assert first["__typename"] == "BidPlaced"
    # when the phone resends it a dozen times at once (a flaky network and an impatient thumb)
    replays = await asyncio.gather(*(api.gql(BID, request, token=bidder.token) for _ in range(12)))
    # then every replay is the first result: the bid with its sequence number
    answers = [r["data"]["bidPlace"] for r in replays]
    assert all(a == first for a in answers), sorted({a.get("code") or a["__typename"] for a in answers})
