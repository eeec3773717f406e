"""Government procurement by reverse auction (反向竞价): from the announcement to the contract, the price going down by
steps under a sealed ceiling (最高限价), the lowest bid winning; the purchaser and the supplier sign the procurement
contract (政府采购合同) at the winning bid with their certificates, it is announced, accepted and performed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from domain.common import chronograph
from tests import factories as f
from tests.scenarios.test_auction import CONFIGURE, LOT, NUMBER, at, bidders, inbox_kinds, updates
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_publication import PROJECT_CREATE, publish
from tests.support import contract_flow

STATE = """query($lotId: ID!) { auction(lotId: $lotId) {
  descending phase seq currentPriceFen leadingBidderNo minNextBidFen maxNextBidFen reservePriceFen endsAt winnerName
} }"""
WATCH = """subscription($lotId: ID!) { auctionUpdates(lotId: $lotId) {
  kind seq phase priceFen leadingBidderNo reservePriceFen } }"""
ANNOUNCEMENTS = """query { announcements(first: 20) { edges { node { title type bodyHtml } } } }"""
BID = """mutation($input: BidPlaceInput!) { bidPlace(input: $input) {
  __typename
  ... on BidPlaced { bid { seq amountFen bidderNo endsAt } }
  ... on BidTooHigh { currentPriceFen maxNextFen seq }
  ... on Error { code message }
} }"""

BUDGET = 100_000_000  # 1,000,000.00 yuan: the starting price, public
STEP = 1_000_000  # 降价幅度 10,000.00 yuan
CEILING = 97_000_000  # 最高限价 970,000.00 yuan: sealed
BUYERS: dict[str, str] = {}  # a lot's purchaser's phone
TRADE_CODE = """query($id: ID!) { node(id: $id) { ... on Lot { tradeCode } } }"""


async def reverse_lot(api: Any, clock: Any, operator: str) -> tuple[str, str, datetime, datetime]:
    """A procurement lot bought by reverse auction, published now; entries close in 5 days, bidding starts an hour
    later with 30 minutes of free bidding. Returns the lot, the buyer's token, the start and the countdown's start;
    the buyer's phone is in BUYERS under the lot's id."""
    _, buyer_phone, buyer = await f.approved_org(api, operator, kinds=["TENDERER"])
    entry = clock.now() + timedelta(days=5)
    project = {
        "name": "青岛市某医院办公设备采购",
        "category": "GOVERNMENT_PROCUREMENT",
        "regionCode": "370211",
        "lots": [
            {
                "name": "台式计算机 200 台",
                "procedure": "REVERSE_AUCTION",
                "estimatedPriceFen": BUDGET,
                "config": {"bidDeadline": entry.isoformat(), "depositRequired": False},
            }
        ],
    }
    created = (await api.gql(PROJECT_CREATE, {"input": project}, token=buyer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    lot_id = created["project"]["lots"][0]["id"]
    BUYERS[lot_id] = buyer_phone
    starts = entry + timedelta(hours=1)
    rules = {
        "lotId": lot_id,
        "startingPriceFen": BUDGET,
        "incrementFen": STEP,
        "reservePriceFen": CEILING,
        "startsAt": starts.isoformat(),
        "freeBiddingMinutes": 30,
    }
    over = {**rules, "reservePriceFen": BUDGET + STEP}
    refused = (await api.gql(CONFIGURE, {"input": over}, token=buyer))["data"]["auctionConfigure"]
    assert refused["code"] == "INVALID_INPUT"  # a ceiling above the starting price
    configured = (await api.gql(CONFIGURE, {"input": rules}, token=buyer))["data"]["auctionConfigure"]
    assert configured["__typename"] == "AuctionConfigured", configured
    assert configured["auction"]["reservePriceFen"] is None  # sealed, even to the buyer
    await publish(api, buyer, created["project"], "TENDER", "台式计算机采购反向竞价公告", "<p>反向竞价采购。</p>")
    return lot_id, buyer, starts, starts + timedelta(minutes=30)


async def test_a_reverse_auction_runs_down_under_its_sealed_ceiling_and_the_lowest_bid_wins(
    api, manual_clock, tmp_path
):
    # given a reverse auction with a sealed ceiling and three registered suppliers, watched from a kiosk
    operator = await f.operator_token(api)
    lot_id, _, starts, timed = await reverse_lot(api, manual_clock, operator)
    a, b, c = await bidders(api, operator, lot_id, 3)
    kiosk = await ws_connect(api.ws_url, {})
    try:
        assert (await next_message(kiosk))["type"] == "connection_ack"
        await kiosk.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"lotId": lot_id}}})
        )
        [snapshot] = await updates(kiosk)
        assert (snapshot["kind"], snapshot["phase"]) == ("snapshot", "SCHEDULED")

        # when bidding opens
        await at(manual_clock, starts - timedelta(minutes=5))
        await at(manual_clock, starts)
        for x in (a, b, c):
            await x.fresh()
        numbers = [
            (await api.gql(NUMBER, {"lotId": lot_id}, token=x.token))["data"]["myBidderNumber"] for x in (a, b, c)
        ]
        opening = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]

        # free bidding: A at the public starting price (above the sealed ceiling), A at the ceiling, B not under it,
        # B one step under, C three steps under
        async def bid(x: Any, amount: int) -> dict[str, Any]:
            body = await api.gql(BID, {"input": {"lotId": lot_id, "amountFen": amount}}, token=x.token)
            return body["data"]["bidPlace"]  # type: ignore[no-any-return]

        above = await bid(a, BUDGET)
        first = await bid(a, CEILING)
        same = await bid(b, CEILING)
        second = await bid(b, CEILING - STEP)
        third = await bid(c, CEILING - 4 * STEP)
        during = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]

        # timed bidding: B under C restarts the countdown, then the countdown runs out
        await at(manual_clock, timed)
        await at(manual_clock, timed + timedelta(seconds=100))
        for x in (a, b, c):
            await x.fresh()
        fourth = await bid(b, CEILING - 6 * STEP)
        end = datetime.fromisoformat(fourth["bid"]["endsAt"])
        await at(manual_clock, end)
        await api.dispatch()
        state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]

        # then the bid above the sealed ceiling was refused without a figure that would reveal it
        assert opening["descending"] is True
        assert (opening["maxNextBidFen"], opening["reservePriceFen"]) == (BUDGET, None)
        assert above["__typename"] == "BidAboveCeiling"
        assert "970" not in above["message"]
        assert set(above) == {"__typename", "code", "message"}
        # and the price went down by whole steps, each bid under the last
        assert (first["bid"]["seq"], second["bid"]["seq"], third["bid"]["seq"]) == (1, 2, 3)
        assert (same["__typename"], same["currentPriceFen"], same["maxNextFen"]) == (
            "BidTooHigh",
            CEILING,
            CEILING - STEP,
        )
        assert (during["currentPriceFen"], during["maxNextBidFen"], during["reservePriceFen"]) == (
            CEILING - 4 * STEP,
            CEILING - 5 * STEP,
            None,
        )
        assert end == timed + timedelta(seconds=100 + 300)
        # and the lowest bid won; the ceiling is public now
        assert state["phase"] == "SOLD"
        assert (state["currentPriceFen"], state["leadingBidderNo"]) == (CEILING - 6 * STEP, numbers[1])
        assert state["reservePriceFen"] == CEILING
        assert state["winnerName"]
        # and the kiosk saw every bid going down, then the end with the ceiling
        seen = await updates(kiosk)
        prices = [u["priceFen"] for u in seen if u["kind"] == "bid"]
        assert prices == [CEILING, CEILING - STEP, CEILING - 4 * STEP, CEILING - 6 * STEP]
        assert [u for u in seen if u["kind"] == "phase"][-1]["reservePriceFen"] == CEILING

        # and the result flowed through the same results machinery: announced, the lot awarded, everyone told
        assert (await api.gql(LOT, {"id": lot_id}))["data"]["node"]["status"] == "AWARDED"
        notices = [e["node"] for e in (await api.gql(ANNOUNCEMENTS))["data"]["announcements"]["edges"]]
        [result] = [n for n in notices if n["type"] == "RESULT"]
        assert "反向竞价成交结果公告" in result["title"]
        assert "最高限价：人民币 970,000.00 元" in result["bodyHtml"]
        await b.fresh()
        await c.fresh()
        assert {"AUCTION_WON", "AUCTION_ENDED"} <= await inbox_kinds(api, b.token)
        assert "AUCTION_OUTBID" in await inbox_kinds(api, c.token)
    finally:
        await kiosk.close()

    # when the purchaser drafts the procurement contract at the winning bid and both parties sign it
    code = (await api.gql(TRADE_CODE, {"id": lot_id}))["data"]["node"]["tradeCode"]
    parties = await contract_flow.contract_parties(api, manual_clock, BUYERS[lot_id], b.phone)
    contract = await contract_flow.signed_contract(api, parties, tmp_path, lot_id, code, CEILING - 6 * STEP)
    done = await contract_flow.accepted_and_performed(api, manual_clock, parties, tmp_path, lot_id)
    # then it is in force at the winning bid, announced, and completed with its performance published
    assert (contract["originalFen"], contract["status"]) == (CEILING - 6 * STEP, "ACTIVE")
    assert done["status"] == "COMPLETED"
    types = [e["node"]["type"] for e in (await api.gql(ANNOUNCEMENTS))["data"]["announcements"]["edges"]]
    assert {"CONTRACT", "PERFORMANCE"} <= set(types)


async def test_a_reverse_auction_without_a_bid_under_the_ceiling_fails(api, manual_clock):
    # given two suppliers, the only bid above the sealed ceiling
    operator = await f.operator_token(api)
    lot_id, _, starts, timed = await reverse_lot(api, manual_clock, operator)
    first, _ = await bidders(api, operator, lot_id, 2)
    await at(manual_clock, starts)
    await first.fresh()
    refused = await api.gql(BID, {"input": {"lotId": lot_id, "amountFen": CEILING + STEP}}, token=first.token)

    # when the countdown runs out
    await at(manual_clock, timed)
    await at(manual_clock, timed + timedelta(seconds=300))
    await chronograph.fire_due()
    await api.dispatch()
    state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]

    # then
    assert refused["data"]["bidPlace"]["code"] == "BID_ABOVE_CEILING"
    assert (state["phase"], state["winnerName"], state["reservePriceFen"]) == ("FAILED", None, CEILING)
    assert (await api.gql(LOT, {"id": lot_id}))["data"]["node"]["status"] == "TERMINATED"


async def test_a_reverse_auction_with_fewer_suppliers_than_its_min_bids_fails_at_the_start(api, manual_clock):
    # given one registered supplier, where the procedure asks for two (minBids)
    operator = await f.operator_token(api)
    lot_id, _, starts, _ = await reverse_lot(api, manual_clock, operator)
    [only] = await bidders(api, operator, lot_id, 1)

    # when bidding should start
    await at(manual_clock, starts)
    await only.fresh()
    refused = await api.gql(BID, {"input": {"lotId": lot_id, "amountFen": CEILING}}, token=only.token)
    await api.dispatch()

    # then there is no competition to run: the auction failed and the lot is terminated
    assert (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]["phase"] == "FAILED"
    assert refused["data"]["bidPlace"]["code"] == "AUCTION_NOT_LIVE"
    assert (await api.gql(LOT, {"id": lot_id}))["data"]["node"]["status"] == "TERMINATED"
