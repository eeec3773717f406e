"""State-owned property listed (挂牌) for ten days and more: one offer sells at it, three offers turn into an online
auction with the same bidders (挂牌转竞价), none fails it; an offer once the listing ended is a typed error. A sale, by
listing or by the auction after it, is awarded to its buyer, and the transfer contract (产权交易合同) is signed by the
transferor and the buyer with their certificates, announced, accepted and its performance published."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests import factories as f
from tests.scenarios.test_auction import NUMBER, STATE, Bidder, at, bidders, inbox_kinds
from tests.scenarios.test_publication import PROJECT_CREATE, publish
from tests.support import contract_flow
from tests.support.bank import Bank

CONFIGURE = """mutation($input: ListingConfigureInput!) { listingConfigure(input: $input) {
  __typename ... on ListingConfigured { listing { status reservePriceFen startsAt endsAt minNextOfferFen } }
  ... on Error { code message } ... on FieldError { field } } }"""
OFFER = """mutation($input: ListingOfferPlaceInput!) { listingOfferPlace(input: $input) {
  __typename
  ... on ListingOfferPlaced { offer { seq amountFen bidderNo } }
  ... on BidTooLow { currentPriceFen minNextFen }
  ... on ListingNotOpen { status }
  ... on Error { code message }
} }"""
LISTING = """query($lotId: ID!) { listing(lotId: $lotId) {
  status seq currentPriceFen leadingBidderNo minNextOfferFen reservePriceFen auctionStartsAt winnerName } }"""
OFFERS = "query($lotId: ID!) { listingOffers(lotId: $lotId) { seq amountFen bidderNo } }"
MY_NUMBER = "query($lotId: ID!) { myListingBidderNumber(lotId: $lotId) }"
AUCTION = """query($lotId: ID!) { auction(lotId: $lotId) {
  fromListing phase seq currentPriceFen leadingBidderNo minNextBidFen startsAt } }"""
RESULT = """query($lotId: ID!) { node(id: $lotId) { ... on Lot { status tradeCode } } }"""
AWARD = """query($lotId: ID!) { lotResult(lotId: $lotId) { award { priceFen confirmationNo winner } } }"""
ANNOUNCEMENTS = """query { announcements(first: 20) { edges { node { title type } } } }"""

TRANSFERORS: dict[str, str] = {}  # a listed lot's transferor's phone
PRICE = 50_000_000  # 500,000.00 yuan
STEP = 500_000
RESERVE = 52_000_000


async def listing_lot(api: Any, clock: Any, operator: str) -> tuple[str, datetime, datetime]:
    """A listing of state-owned property with a 2% deposit, published now: the listing period runs from day 20 to
    day 31; the auction that may follow starts 30 minutes after it, with 30 minutes of free bidding. The transferor's
    phone is in TRANSFERORS under the lot's id."""
    _, phone, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    starts = clock.now() + timedelta(days=20)
    ends = starts + timedelta(days=11)
    project = {
        "name": "青岛市某国有企业闲置厂房产权转让",
        "category": "STATE_OWNED_PROPERTY",
        "regionCode": "370211",
        "lots": [
            {
                "name": "1号厂房",
                "procedure": "LISTING",
                "estimatedPriceFen": PRICE,
                "config": {"bidDeadline": ends.isoformat(), "depositRequired": True},
            }
        ],
    }
    created = (await api.gql(PROJECT_CREATE, {"input": project}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    lot_id = created["project"]["lots"][0]["id"]
    TRANSFERORS[lot_id] = phone
    rules = {
        "lotId": lot_id,
        "listingPriceFen": PRICE,
        "incrementFen": STEP,
        "reservePriceFen": RESERVE,
        "startsAt": starts.isoformat(),
        "auctionFreeMinutes": 30,
        "auctionGapMinutes": 30,
    }
    short = {**rules, "startsAt": (ends - timedelta(days=9)).isoformat()}
    refused = (await api.gql(CONFIGURE, {"input": short}, token=tenderer))["data"]["listingConfigure"]
    assert (refused["__typename"], refused["field"]) == ("ConfigOutOfBounds", "startsAt")  # 第十八条: >= 10 days
    configured = (await api.gql(CONFIGURE, {"input": rules}, token=tenderer))["data"]["listingConfigure"]
    assert configured["__typename"] == "ListingConfigured", configured
    assert configured["listing"]["status"] == "SCHEDULED"
    assert configured["listing"]["reservePriceFen"] is None  # not even the tenderer reads it back
    await publish(api, tenderer, created["project"], "TENDER", "1号厂房产权转让挂牌公告", "<p>挂牌转让。</p>")
    return lot_id, starts, ends


async def offer(bidder: Bidder, lot_id: str, amount: int) -> dict[str, Any]:
    body = await bidder.api.gql(OFFER, {"input": {"lotId": lot_id, "amountFen": amount}}, token=bidder.token)
    return body["data"]["listingOfferPlace"]  # type: ignore[no-any-return]


async def listing(api: Any, lot_id: str) -> dict[str, Any]:
    return (await api.gql(LISTING, {"lotId": lot_id}))["data"]["listing"]  # type: ignore[no-any-return]


async def sale_to_contract(api: Any, clock: Any, tmp_path: Any, lot_id: str, buyer: Bidder, price: int) -> None:
    """The sold lot is awarded to `buyer` at `price`; the transferor and the buyer sign the transfer contract, which is
    announced, accepted and performed."""
    result = (await api.gql(AWARD, {"lotId": lot_id}))["data"]["lotResult"]
    assert result["award"]["priceFen"] == price, result
    code = (await api.gql(RESULT, {"lotId": lot_id}))["data"]["node"]["tradeCode"]
    parties = await contract_flow.contract_parties(api, clock, TRANSFERORS[lot_id], buyer.phone)
    contract = await contract_flow.signed_contract(api, parties, tmp_path, lot_id, code, price)
    assert (contract["originalFen"], contract["status"]) == (price, "ACTIVE")
    done = await contract_flow.accepted_and_performed(api, clock, parties, tmp_path, lot_id)
    assert done["status"] == "COMPLETED"
    titles = [e["node"]["title"] for e in (await api.gql(ANNOUNCEMENTS))["data"]["announcements"]["edges"]]
    assert any(t.endswith("合同公告") for t in titles)
    assert any(t.endswith("履约信息") for t in titles)


async def test_one_offer_at_the_end_sells_at_that_offer_and_a_late_offer_is_refused(api, manual_clock, tmp_path):
    # given a listing, two registrants who paid their deposits
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    lot_id, starts, ends = await listing_lot(api, manual_clock, operator)
    buyer, other = await bidders(api, operator, lot_id, 2, bank=bank)

    # when an offer comes before the period, then one during it
    early = await offer(buyer, lot_id, PRICE)
    await at(manual_clock, starts + timedelta(days=3))
    for b in (buyer, other):
        await b.fresh()
    low = await offer(buyer, lot_id, PRICE - STEP)
    placed = await offer(buyer, lot_id, RESERVE)
    again = await offer(buyer, lot_id, RESERVE + STEP)
    during = await listing(api, lot_id)

    # and the period ends with that single offer
    await at(manual_clock, ends)
    await other.fresh()
    late = await offer(other, lot_id, RESERVE + STEP)
    await api.dispatch()
    ended = await listing(api, lot_id)

    # then the offer before the period and the one after it were refused as such, the rest by the price rules
    assert (early["__typename"], early["status"]) == ("ListingNotOpen", "scheduled")
    assert (low["__typename"], low["minNextFen"]) == ("BidTooLow", PRICE)
    assert (placed["__typename"], placed["offer"]["seq"], placed["offer"]["amountFen"]) == (
        "ListingOfferPlaced",
        1,
        RESERVE,
    )
    assert again["code"] == "ALREADY_LEADING"
    assert (during["currentPriceFen"], during["minNextOfferFen"], during["reservePriceFen"]) == (
        RESERVE,
        RESERVE + STEP,
        None,
    )
    assert (late["__typename"], late["code"], late["status"]) == ("ListingNotOpen", "LISTING_NOT_OPEN", "sold")
    # and the lone offer at the reserve bought the lot at that offer (第十九条（一）), announced, the lot awarded
    assert ended["status"] == "SOLD"
    assert (ended["currentPriceFen"], ended["reservePriceFen"]) == (RESERVE, RESERVE)
    assert ended["winnerName"]
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["node"]["status"] == "AWARDED"
    titles = [e["node"]["title"] for e in (await api.gql(ANNOUNCEMENTS))["data"]["announcements"]["edges"]]
    assert any("挂牌出让成交结果公告" in t for t in titles)
    await buyer.fresh()
    assert "LISTING_ENDED" in await inbox_kinds(api, buyer.token)

    # when the transferor and the buyer sign the transfer contract (产权交易合同) at the price, then it is performed
    # then it is in force, announced, and completed with its performance published
    await sale_to_contract(api, manual_clock, tmp_path, lot_id, buyer, RESERVE)


async def test_three_offers_turn_into_an_auction_with_the_same_bidders_which_runs_to_its_end(
    api, manual_clock, tmp_path
):
    # given a listing with four registrants who paid, one of whom never offers
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    lot_id, starts, ends = await listing_lot(api, manual_clock, operator)
    a, b, c, silent = await bidders(api, operator, lot_id, 4, bank=bank)

    # when three of them offer during the period
    await at(manual_clock, starts + timedelta(days=1))
    for x in (a, b, c, silent):
        await x.fresh()
    first = await offer(a, lot_id, PRICE)
    stale = await offer(b, lot_id, PRICE)
    second = await offer(b, lot_id, PRICE + STEP)
    third = await offer(c, lot_id, PRICE + 3 * STEP)
    numbers = {
        name: (await api.gql(MY_NUMBER, {"lotId": lot_id}, token=x.token))["data"]["myListingBidderNumber"]
        for name, x in (("a", a), ("b", b), ("c", c), ("silent", silent))
    }

    # and the period ends
    await at(manual_clock, ends)
    await api.dispatch()
    turned = await listing(api, lot_id)
    auction = (await api.gql(AUCTION, {"lotId": lot_id}))["data"]["auction"]

    # then the listing became an auction, starting from the highest offer, which leads
    assert [r["__typename"] for r in (first, second, third)] == ["ListingOfferPlaced"] * 3
    assert (stale["__typename"], stale["currentPriceFen"], stale["minNextFen"]) == ("BidTooLow", PRICE, PRICE + STEP)
    assert numbers["silent"] is None
    assert len({numbers["a"], numbers["b"], numbers["c"]}) == 3
    assert turned["status"] == "AUCTION"
    assert datetime.fromisoformat(turned["auctionStartsAt"]) == ends + timedelta(minutes=30)
    assert turned["reservePriceFen"] == RESERVE
    assert auction["fromListing"] is True
    assert (auction["phase"], auction["seq"]) == ("SCHEDULED", 0)
    assert (auction["currentPriceFen"], auction["leadingBidderNo"]) == (PRICE + 3 * STEP, numbers["c"])
    assert auction["minNextBidFen"] == PRICE + 4 * STEP
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["node"]["status"] == "OPEN"

    # when the auction runs with the same bidders (and their numbers), the silent registrant not among them
    auction_starts = ends + timedelta(minutes=30)
    await at(manual_clock, auction_starts - timedelta(minutes=5))
    await at(manual_clock, auction_starts)
    for x in (a, b, c, silent):
        await x.fresh()
    entered = {
        name: (await api.gql(NUMBER, {"lotId": lot_id}, token=x.token))["data"]["myBidderNumber"]
        for name, x in (("a", a), ("b", b), ("c", c), ("silent", silent))
    }
    outsider = await silent.bid(lot_id, PRICE + 4 * STEP)
    leader = await c.bid(lot_id, PRICE + 4 * STEP)
    raised = await a.bid(lot_id, PRICE + 4 * STEP)
    topped = await b.bid(lot_id, PRICE + 6 * STEP)
    timed = auction_starts + timedelta(minutes=30)
    await at(manual_clock, timed)
    await at(manual_clock, timed + timedelta(seconds=300))
    await api.dispatch()
    state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]

    # then the bidders kept their listing numbers, the auction ended with the highest bid, and the lot is awarded
    assert entered == numbers
    assert outsider["code"] == "NOT_QUALIFIED"
    assert leader["code"] == "ALREADY_LEADING"  # the highest listing offer leads from the start
    assert (raised["bid"]["seq"], topped["bid"]["seq"]) == (1, 2)
    assert state["phase"] == "SOLD"
    assert (state["currentPriceFen"], state["leadingBidderNo"]) == (PRICE + 6 * STEP, numbers["b"])
    assert state["winnerName"]
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["node"]["status"] == "AWARDED"
    await b.fresh()
    await a.fresh()
    assert {"LISTING_ENDED", "AUCTION_WON", "AUCTION_OUTBID"} <= await inbox_kinds(api, b.token)
    assert {"LISTING_ENDED", "AUCTION_OUTBID"} <= await inbox_kinds(api, a.token)

    # when the transferor and the auction's winner sign the transfer contract at the hammer price
    # then it is in force, announced, and completed with its performance published
    await sale_to_contract(api, manual_clock, tmp_path, lot_id, b, PRICE + 6 * STEP)


async def test_a_listing_without_an_offer_fails(api, manual_clock):
    # given a listing with one registrant who never offers
    operator = await f.operator_token(api)
    lot_id, _, ends = await listing_lot(api, manual_clock, operator)
    [idle] = await bidders(api, operator, lot_id, 1)

    # when the period ends
    await at(manual_clock, ends + timedelta(seconds=1))
    await api.dispatch()
    await idle.fresh()
    late = await offer(idle, lot_id, PRICE)

    # then the listing failed (挂牌不成交), announced as a termination, and a late offer is refused as such
    assert (await listing(api, lot_id))["status"] == "FAILED"
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["node"]["status"] == "TERMINATED"
    assert (late["code"], late["status"]) == ("LISTING_NOT_OPEN", "failed")
    assert (await api.gql(AUCTION, {"lotId": lot_id}))["data"]["auction"] is None


async def test_an_auction_from_a_listing_without_a_bid_sells_to_the_highest_offer(api, manual_clock):
    # given two offers, the higher at the reserve (第十九条（二）: the highest offer wins when no one bids on)
    operator = await f.operator_token(api)
    bank = await Bank.open(api, operator)
    lot_id, starts, ends = await listing_lot(api, manual_clock, operator)
    a, b = await bidders(api, operator, lot_id, 2, bank=bank)
    await at(manual_clock, starts)
    for x in (a, b):
        await x.fresh()
    await offer(a, lot_id, PRICE)
    await offer(b, lot_id, RESERVE)

    # when the auction that follows gets no bid
    auction_starts = ends + timedelta(minutes=30)
    await at(manual_clock, ends)
    await at(manual_clock, auction_starts)
    await at(manual_clock, auction_starts + timedelta(minutes=30))
    await at(manual_clock, auction_starts + timedelta(minutes=30, seconds=300))
    await api.dispatch()
    state = (await api.gql(STATE, {"lotId": lot_id}))["data"]["auction"]

    # then b, whose offer led, bought at it
    assert (state["phase"], state["currentPriceFen"], state["seq"]) == ("SOLD", RESERVE, 0)
    assert (await api.gql(RESULT, {"lotId": lot_id}))["data"]["node"]["status"] == "AWARDED"
