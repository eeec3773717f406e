"""A land-use right sold by online auction, watched live from a kiosk and bid on from three phones."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import pytest

from domain.common import chronograph
from tests import factories as f
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_publication import PROJECT_CREATE, publish

CONFIGURE = """mutation($input: AuctionConfigureInput!) { auctionConfigure(input: $input) {
  __typename ... on AuctionConfigured { auction { phase reservePriceFen } } ... on Error { code message } } }"""
BID = """mutation($input: BidPlaceInput!) { bidPlace(input: $input) {
  __typename
  ... on BidPlaced { bid { seq amountFen bidderNo endsAt } }
  ... on BidTooLow { currentPriceFen minNextFen seq }
  ... on AuctionNotLive { phase }
  ... on Error { code message }
} }"""
STATE = """query($lotId: ID!) { auction(lotId: $lotId) {
  phase seq currentPriceFen leadingBidderNo minNextBidFen reservePriceFen endsAt winnerName } }"""
NUMBER = "query($lotId: ID!) { myBidderNumber(lotId: $lotId) }"
RESYNC = "query($lotId: ID!, $after: Int!) { auctionBids(lotId: $lotId, afterSeq: $after) { seq amountFen bidderNo } }"
WATCH = """subscription($lotId: ID!) { auctionUpdates(lotId: $lotId) {
  kind seq phase priceFen leadingBidderNo endsAt reservePriceFen } }"""
LOT = "query($id: ID!) { node(id: $id) { ... on Lot { status } } }"
REGISTER = """mutation($input: LotRegisterInput!) { lotRegister(input: $input) {
  __typename ... on LotRegistered { registration { deposit { reference amountDueFen } } } } }"""
DEPOSITS = "query { myRegistrations { edges { node { deposit { status refundDueAt } } } } }"

START_PRICE = 100_000_000  # 1,000,000.00 yuan
STEP = 1_000_000


class Bidder:
    def __init__(self, api: Any, phone: str, token: str) -> None:
        self.api, self.phone, self.token = api, phone, token

    async def fresh(self) -> None:
        """Signs in again: the manual clock jumps past the 15-minute access tokens."""
        self.token = await f.login(self.api, self.phone)

    async def bid(
        self,
        lot_id: str,
        amount: int,
        device: str | None = None,
        signature: dict[str, str] | None = None,
        key: str | None = None,
    ) -> dict[str, Any]:
        """bidPlace, from the phone whose X-Device-Id is `device` when given, with the certificate signature
        and the idempotency key when given."""
        headers = {"X-Device-Id": device} if device else None
        fields: dict[str, Any] = {"lotId": lot_id, "amountFen": amount}
        if signature is not None:
            fields["signature"] = signature
        if key is not None:
            fields["idempotencyKey"] = key
        body = await self.api.gql(BID, {"input": fields}, token=self.token, headers=headers)
        return body["data"]["bidPlace"]  # type: ignore[no-any-return]


async def auction_lot(
    api: Any,
    clock: Any,
    operator: str,
    reserve: int,
    security: bool = False,
    countdown_seconds: int = 300,
    config: dict[str, Any] | None = None,
) -> tuple[str, datetime, datetime]:
    """An online-auction lot with its rules (and `config` settings of the lot), published; entry closes in 21
    days, bidding starts an hour later."""
    _, _, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    entry = clock.now() + timedelta(days=21)
    project = {
        "name": "青岛市黄岛区2026-18号地块国有建设用地使用权",
        "category": "LAND_USE_RIGHTS",
        "regionCode": "370211",
        "lots": [
            {
                "name": "2026-18号地块",
                "procedure": "ONLINE_AUCTION",
                "estimatedPriceFen": START_PRICE,
                "config": {"bidDeadline": entry.isoformat(), "depositRequired": security, **(config or {})},
            }
        ],
    }
    created = (await api.gql(PROJECT_CREATE, {"input": project}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    lot_id = created["project"]["lots"][0]["id"]
    starts = entry + timedelta(hours=1)
    rules = {
        "lotId": lot_id,
        "startingPriceFen": START_PRICE,
        "incrementFen": STEP,
        "reservePriceFen": reserve,
        "startsAt": starts.isoformat(),
        "freeBiddingMinutes": 30,
        "countdownSeconds": countdown_seconds,
    }
    configured = (await api.gql(CONFIGURE, {"input": rules}, token=tenderer))["data"]["auctionConfigure"]
    assert configured["__typename"] == "AuctionConfigured", configured
    assert configured["auction"]["reservePriceFen"] is None  # not even the tenderer reads it back
    await publish(
        api, tenderer, created["project"], "TENDER", "2026-18号地块国有建设用地使用权网络竞价出让公告", "<p>出让。</p>"
    )
    return lot_id, starts, starts + timedelta(minutes=30)


async def bidders(api: Any, operator: str, lot_id: str, n: int, bank: Any = None) -> list[Bidder]:
    """n registered bidders; with a bank, each pays its deposit."""
    out = []
    for _ in range(n):
        _, phone, token = await f.approved_org(api, operator)
        registered = await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=token)
        assert registered["data"]["lotRegister"]["__typename"] == "LotRegistered", registered
        if bank is not None:
            deposit = registered["data"]["lotRegister"]["registration"]["deposit"]
            paid = await bank.pay(deposit["reference"], deposit["amountDueFen"])
            assert paid.json() == {"status": "accepted"}, paid.json()
        out.append(Bidder(api, phone, token))
    return out


async def inbox_kinds(api: Any, token: str) -> set[str]:
    body = await api.gql("query { myNotifications(first: 50) { edges { node { kind } } } }", token=token)
    return {e["node"]["kind"] for e in body["data"]["myNotifications"]["edges"]}


async def at(clock: Any, when: datetime) -> None:
    """Moves the clock and lets the chronograph act, as the scheduler would within a second."""
    clock.set(when)
    await chronograph.fire_due()


async def updates(ws: Any, quiet: float = 0.3) -> list[dict[str, Any]]:
    got = []
    while True:
        try:
            message = await next_message(ws, within=quiet)
        except TimeoutError:
            return got
        assert message["type"] == "next", message
        got.append(message["payload"]["data"]["auctionUpdates"])


async def test_three_bidders_free_then_timed_bidding_with_resets_and_a_winner_above_the_reserve(api, manual_clock):
    # given an auction with a reserve of 1,050,000 yuan and three registered bidders
    operator = await f.operator_token(api)
    lot_id, starts, timed = await auction_lot(api, manual_clock, operator, reserve=105_000_000)
    a, b, c = await bidders(api, operator, lot_id, 3)
    # and a kiosk watching without a token
    kiosk = await ws_connect(api.ws_url, {})
    try:
        assert (await next_message(kiosk))["type"] == "connection_ack"
        await kiosk.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"lotId": lot_id}}})
        )
        [snapshot] = await updates(kiosk)
        assert (snapshot["kind"], snapshot["phase"]) == ("snapshot", "SCHEDULED")

        # when bidding is about to open, then opens, everyone qualified gets a bidder number
        await at(manual_clock, starts - timedelta(minutes=5))
        await at(manual_clock, starts)
        for bidder in (a, b, c):
            await bidder.fresh()
        numbers = [
            (await api.gql(NUMBER, {"lotId": lot_id}, token=x.token))["data"]["myBidderNumber"] for x in (a, b, c)
        ]
        assert len(set(numbers)) == 3
        assert all(n and len(n) == 4 for n in numbers)

        # free bidding: A at the start, B too low, B on the step, A with a stale price
        first = await a.bid(lot_id, START_PRICE)
        low = await b.bid(lot_id, START_PRICE + STEP // 2)
        second = await b.bid(lot_id, START_PRICE + STEP)
        stale = await a.bid(lot_id, START_PRICE + STEP)
        assert first["bid"]["seq"] == 1
        assert first["bid"]["endsAt"] is None  # no countdown in free bidding
        assert low["__typename"] == "BidTooLow"
        assert (low["currentPriceFen"], low["minNextFen"]) == (START_PRICE, START_PRICE + STEP)
        assert "1,010,000.00" in low["message"]
        assert second["bid"]["seq"] == 2
        assert stale["__typename"] == "BidTooLow"
        assert (stale["currentPriceFen"], stale["minNextFen"]) == (START_PRICE + STEP, START_PRICE + 2 * STEP)

        # timed bidding: the countdown starts, and each bid restarts it
        await at(manual_clock, timed)
        first_end = timed + timedelta(seconds=300)
        await at(manual_clock, timed + timedelta(seconds=200))
        for bidder in (a, b, c):
            await bidder.fresh()
        third = await c.bid(lot_id, START_PRICE + 3 * STEP)
        assert datetime.fromisoformat(third["bid"]["endsAt"]) == timed + timedelta(seconds=500)
        await at(manual_clock, timed + timedelta(seconds=450))
        fourth = await a.bid(lot_id, START_PRICE + 6 * STEP)
        final_end = timed + timedelta(seconds=750)
        assert datetime.fromisoformat(fourth["bid"]["endsAt"]) == final_end
        assert final_end > first_end

        # at the end, a bid is refused and the chronograph closes the auction
        manual_clock.set(final_end)
        late = await b.bid(lot_id, START_PRICE + 7 * STEP)
        await chronograph.fire_due()
        state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]

        # then the highest bid above the reserve won, and the reserve is now public
        assert late["__typename"] == "AuctionNotLive"
        assert state["phase"] == "SOLD"
        assert state["currentPriceFen"] == START_PRICE + 6 * STEP
        assert state["reservePriceFen"] == 105_000_000
        assert state["winnerName"]
        assert state["leadingBidderNo"] == numbers[0]
        resync = (await api.gql(RESYNC, {"lotId": lot_id, "after": 1}))["data"]["auctionBids"]
        assert [r["seq"] for r in resync] == [2, 3, 4]

        # and the kiosk saw every bid once, in order, with bidder numbers only, then the end (phase changes
        # travel through the outbox; the dispatcher also repeats every bid, which the kiosk must not see twice)
        await api.dispatch()
        seen = await updates(kiosk)
        bids = [u for u in seen if u["kind"] == "bid"]
        assert [u["seq"] for u in bids] == [1, 2, 3, 4]
        assert [u["priceFen"] for u in bids] == sorted(u["priceFen"] for u in bids)
        assert {u["leadingBidderNo"] for u in bids} <= set(numbers)
        phases = [u["phase"] for u in seen if u["kind"] == "phase"]
        assert phases[-1] == "SOLD"
        assert seen[-1]["reservePriceFen"] == 105_000_000

        # and the result is announced, awarding the lot, and each phone was told what concerns it
        await api.dispatch()
        lot = await api.gql(LOT, {"id": lot_id})
        assert lot["data"]["node"]["status"] == "AWARDED"
        for bidder in (a, b):
            await bidder.fresh()
        kinds_a = await inbox_kinds(api, a.token)
        kinds_b = await inbox_kinds(api, b.token)
        assert {"AUCTION_STARTING_SOON", "AUCTION_WON", "AUCTION_ENDED"} <= kinds_a
        assert {"AUCTION_STARTING_SOON", "AUCTION_OUTBID", "AUCTION_ENDED"} <= kinds_b
        assert "AUCTION_WON" not in kinds_b
    finally:
        await kiosk.close()


async def test_an_auction_below_the_reserve_fails(api, manual_clock):
    # given one bid at the starting price, below the reserve
    operator = await f.operator_token(api)
    lot_id, starts, timed = await auction_lot(api, manual_clock, operator, reserve=120_000_000)
    [only] = await bidders(api, operator, lot_id, 1)
    await at(manual_clock, starts)
    await only.fresh()
    assert (await only.bid(lot_id, START_PRICE))["__typename"] == "BidPlaced"
    again = await only.bid(lot_id, START_PRICE + STEP)
    # when the countdown runs out
    await at(manual_clock, timed)
    await at(manual_clock, timed + timedelta(seconds=300))
    state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]
    # then
    assert again["code"] == "ALREADY_LEADING"
    assert state["phase"] == "FAILED"
    await api.dispatch()
    assert (await api.gql(LOT, {"id": lot_id}))["data"]["node"]["status"] == "TERMINATED"
    assert state["winnerName"] is None
    assert state["reservePriceFen"] == 120_000_000


async def test_a_bidder_without_registration_is_not_qualified(api, manual_clock):
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    await bidders(api, operator, lot_id, 1)
    _, phone, _ = await f.approved_org(api, operator)
    await at(manual_clock, starts)
    outsider = Bidder(api, phone, await f.login(api, phone))
    refused = await outsider.bid(lot_id, START_PRICE)
    assert refused["code"] == "NOT_QUALIFIED"


@pytest.mark.parametrize("amount", [0, -5])
async def test_a_nonsense_amount_is_a_field_error(api, manual_clock, amount):
    operator = await f.operator_token(api)
    lot_id, starts, _ = await auction_lot(api, manual_clock, operator, reserve=START_PRICE)
    [bidder] = await bidders(api, operator, lot_id, 1)
    await at(manual_clock, starts)
    await bidder.fresh()
    refused = await bidder.bid(lot_id, amount)
    assert refused["code"] == "INVALID_INPUT"
    await asyncio.sleep(0)


async def test_bidders_qualify_by_their_deposits_and_the_losers_get_them_back_after_the_sale(api, manual_clock):
    # given an auction asking 2% security, two bidders who paid and one who did not
    from tests.support.bank import Bank

    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    lot_id, starts, timed = await auction_lot(api, manual_clock, operator, reserve=START_PRICE, security=True)
    winner, loser = await bidders(api, operator, lot_id, 2, bank=bank)
    [unpaid] = await bidders(api, operator, lot_id, 1)
    # when bidding opens, two of them bid and the auction sells
    await at(manual_clock, starts)
    for bidder in (winner, loser, unpaid):
        await bidder.fresh()
    refused = await unpaid.bid(lot_id, START_PRICE)
    await loser.bid(lot_id, START_PRICE)
    await winner.bid(lot_id, START_PRICE + STEP)
    await at(manual_clock, timed)
    await at(manual_clock, timed + timedelta(seconds=300))
    await api.dispatch()
    # then the unpaid bidder was never qualified; the loser's deposit is due back, the winner's kept for the contract
    assert refused["code"] == "NOT_QUALIFIED"
    for bidder in (winner, loser):
        await bidder.fresh()
    [w] = (await api.gql(DEPOSITS, token=winner.token))["data"]["myRegistrations"]["edges"]
    [lo] = (await api.gql(DEPOSITS, token=loser.token))["data"]["myRegistrations"]["edges"]
    assert w["node"]["deposit"]["status"] == "paid"
    assert lo["node"]["deposit"]["status"] == "refund_due"
    assert lo["node"]["deposit"]["refundDueAt"]
