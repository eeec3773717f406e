"""Issue 7's proof, from the tender announcement to the award, as the apps drive it over HTTP and WebSocket:
four bidders put up security and seal bids (one replaces its bid), the expert draw is committed before the
deadline, one bidder never decrypts while another watches the opening live, the committee is recomputed
from the public draw, scores, and reports; the candidates are publicised, the lot is awarded and announced,
the notices arrive, the deposit of the bidder that is no candidate falls due and the winner confirms."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from typing import Any

from pypdf import PdfReader

from domain.common import chronograph
from domain.documents import records
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_deposits import AMOUNT, my_deposit, operator_phone, registered
from tests.scenarios.test_expert_draw import COMMIT, DRAWS, SPECIALTY, add_expert, new_secret, recompute, reveal
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_opening import RECORD, WATCH, decrypt
from tests.scenarios.test_publication import LIST
from tests.scenarios.test_registration import open_lot
from tests.scenarios.test_results import AWARD, CONFIRM, PUBLISH, RESULT, inbox, status_of
from tests.scenarios.test_sealed_bids import submit
from tests.schema.test_scoring import BIDS, START, SUBMIT
from tests.support import documents as docs
from tests.support.bank import Bank
from tests.support.commitments import commit_over_api
from tests.support.evaluation_signing import certify, sign_as

PRICES = [1_250_000_000, 1_199_000_000, 1_230_000_000, 1_260_000_000]
REPLACED_PRICE = 1_188_000_000  # the second bidder's new bid: the lowest
WEIGHTS = {"price": 30, "technical": 50, "commercial": 20}  # the national default of comprehensive scoring
TECHNICAL = {1_250_000_000: 4_600, 1_188_000_000: 3_800, 1_230_000_000: 4_200}  # each valid bid's base points
COMMERCIAL = 1_500
NUDGES = [0, 3, 5, 8, 1]  # per member; their sum, 17, is no multiple of 5


async def sealed_bid(api: Any, token: str, lot_id: str, code: str, price: int) -> tuple[dict[str, Any], str]:
    """Seals a bid on the 'phone' and submits it: the key that opens it and the receipt's SHA-256."""
    key = new_key()
    files = {"商务标.pdf": f"%PDF-1.7 {price}".encode(), "技术标.pdf": b"%PDF-1.7 tech"}
    await commit_over_api(api, token, lot_id, "BID")  # an open tender: 信用承诺制 (a replacement signs it again)
    done = await submit(api, token, lot_id, seal(key, code, price, files))
    assert done["__typename"] == "BidSubmitted", done
    return key, str(done["receipt"]["sha256"])


def points(member: int, price: int) -> tuple[int, int]:
    """What the member-th expert gives a bid: the bid's base points, nudged so the means need flooring."""
    return TECHNICAL[price] + NUDGES[member] * 7, COMMERCIAL - NUDGES[member]


def expected_totals(members: int) -> dict[int, int]:
    """Each valid bid's total by the comprehensive formula (domain/evaluation/scoring.py), by price."""
    lowest = min(TECHNICAL)
    totals = {}
    for price in TECHNICAL:
        sheets = [points(m, price) for m in range(members)]
        technical = sum(t for t, _ in sheets) // members
        commercial = sum(c for _, c in sheets) // members
        totals[price] = WEIGHTS["price"] * 100 * lowest // price + technical + commercial
    return totals


async def score_sheet(api: Any, expert: str, lot_id: str, member: int) -> dict[str, Any]:
    """The member reads the bids it is to judge and hands in a complete sheet, every bid compliant."""
    bids = (await api.gql(BIDS, {"lotId": lot_id}, token=expert))["data"]["evaluationBids"]
    assert sorted(b["priceFen"] for b in bids) == sorted(TECHNICAL)
    entries = []
    for b in bids:
        technical, commercial = points(member, b["priceFen"])
        entries.append(
            {
                "sealedBidId": b["sealedBidId"],
                "compliant": True,
                "technicalCenti": technical,
                "commercialCenti": commercial,
            }
        )
    body = await api.gql(SUBMIT, {"input": {"lotId": lot_id, "entries": entries}}, token=expert)
    return body["data"]["evaluationSheetSubmit"]  # type: ignore[no-any-return]


async def subscribe(api: Any, watcher: Any, lot_id: str) -> None:
    """Subscribes to the lot's opening updates and waits until the server listens for them."""
    before = api.services.bus.subscriber_count
    watch = {"query": WATCH, "variables": {"lotId": lot_id}}
    await watcher.send(json.dumps({"id": "1", "type": "subscribe", "payload": watch}))
    for _ in range(100):
        if api.services.bus.subscriber_count > before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the openingUpdates subscription was not set up")


async def updates_until_closed(watcher: Any) -> list[dict[str, Any]]:
    """The opening updates the watcher receives, up to the server's `complete` after `closed`."""
    seen = []
    while (message := await next_message(watcher))["type"] == "next":
        seen.append(message["payload"]["data"]["openingUpdates"])
    assert message["type"] == "complete", message
    return seen


async def test_a_tender_from_its_announcement_to_the_award(api, manual_clock):
    # given an open tender asking 2% security, a bank, and an expert pool of the lot's specialty
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    bank = await Bank.open(api, operator)
    project, _, tenderer_at = await open_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    pool = [await add_expert(api, operator, f"专家{n}", [SPECIALTY]) for n in range(7)]

    # when four bidders register, pay their deposits through the bank and seal their bids
    bidders = [await registered(api, operator, lot_id) for _ in PRICES]
    phones = [phone for _, phone, _ in bidders]
    keys, receipts = [], []
    for (_, phone, reference), price in zip(bidders, PRICES, strict=True):
        assert (await bank.pay(reference, AMOUNT)).json() == {"status": "accepted"}
        key, receipt = await sealed_bid(api, await f.login(api, phone), lot_id, code, price)
        keys.append(key)
        receipts.append(receipt)
    # and the second replaces its bid with a lower price under a new key
    keys[1], receipts[1] = await sealed_bid(api, await f.login(api, phones[1]), lot_id, code, REPLACED_PRICE)
    prices = [PRICES[0], REPLACED_PRICE, *PRICES[2:]]
    # and the operator commits to the expert draw before the deadline
    secret, commitment = new_secret()
    form = {"lotId": lot_id, "specialty": SPECIALTY, "size": 5, "commitment": commitment}
    committed = (await api.gql(COMMIT, {"input": form}, token=operator))["data"]["expertDrawCommit"]
    await api.dispatch()  # the tender's publication scheduled the opening

    # then every deposit is in place and the commitment is public, with nothing drawn yet
    for _, phone, _ in bidders:
        deposit = await my_deposit(api, await f.login(api, phone))
        assert (deposit["status"], deposit["securityInPlace"]) == ("paid", True)
    assert committed["__typename"] == "ExpertDrawCommitted", committed
    [public] = (await api.gql(DRAWS, {"lotId": lot_id}))["data"]["expertDraws"]
    assert (public["commitment"], public["status"], public["selected"]) == (commitment, "COMMITTED", None)

    # when the deadline passes on the manual clock, the opening starts
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    tokens = [await f.login(api, phone) for phone in phones]
    assert await status_of(api, lot_id) == "EVALUATING"
    # and the first bidder watches the opening record live while three decrypt; the fourth never does
    watcher = await ws_connect(api.ws_url, {"authorization": f"Bearer {tokens[0]}"})
    try:
        assert (await next_message(watcher))["type"] == "connection_ack"
        await subscribe(api, watcher, lot_id)
        opened = [await decrypt(api, token, lot_id, key) for token, key in zip(tokens[:3], keys[:3], strict=True)]
        await api.dispatch()
        # and the window closes
        manual_clock.advance(timedelta(minutes=61))
        await chronograph.fire_due()
        await api.dispatch()
        live = await updates_until_closed(watcher)
    finally:
        await watcher.close()

    # then the watcher saw each price as it was opened, then the close; the silent bid is invalid
    assert [o["priceFen"] for o in opened] == prices[:3]
    assert [(u["kind"], u["priceFen"]) for u in live] == [
        *(("decrypted", p) for p in prices[:3]),
        ("closed", None),
    ]
    record = (await api.gql(RECORD, {"lotId": lot_id}))["data"]["openingRecord"]
    assert (record["status"], record["bids"]) == ("closed", 4)
    assert sorted(line["status"] for line in record["lines"]) == ["DECRYPTED", "DECRYPTED", "DECRYPTED", "INVALID"]
    assert sorted(line["priceFen"] for line in record["lines"] if line["priceFen"]) == sorted(prices[:3])

    # when the operator reveals the draw's secret
    operator = await f.login(api, operator_at)
    revealed = await reveal(api, operator, secret, lotId=lot_id, round=1)

    # then the committee is what the public inputs give, recomputed here with hashlib and hmac alone
    assert revealed["__typename"] == "ExpertDrawRevealed", revealed
    [drawn] = (await api.gql(DRAWS, {"lotId": lot_id}, token=operator))["data"]["expertDraws"]
    assert [e["poolNumber"] for e in drawn["eligible"]] == sorted(pool)
    committee = recompute(drawn, receipts)
    assert [e["poolNumber"] for e in drawn["selected"]] == committee
    [anonymous] = (await api.gql(DRAWS, {"lotId": lot_id}))["data"]["expertDraws"]
    assert (anonymous["secret"], anonymous["seed"], anonymous["expertsShown"]) == (secret, drawn["seed"], False)

    # when the operator starts the evaluation and each member signs in by SMS and hands in a sheet
    started = (await api.gql(START, {"input": {"lotId": lot_id}}, token=operator))["data"]["evaluationStart"]
    assert started["__typename"] == "EvaluationStarted", started
    members = [await f.expert_token(api, expert) for expert in committee]
    sheets = [await score_sheet(api, who, lot_id, member) for member, who in enumerate(members)]

    # then the last sheet makes the report; rank 1 is the best total by the weights, not the lowest price
    assert started["evaluation"]["method"] == "COMPREHENSIVE"
    assert started["evaluation"]["weights"] == WEIGHTS
    assert all(s["__typename"] == "ScoreSheetSubmitted" for s in sheets), sheets
    report = sheets[-1]["evaluation"]
    assert (report["status"], report["submitted"]) == ("REPORTED", 5)
    totals = expected_totals(len(committee))
    ranking = sorted(totals, key=lambda p: (-totals[p], p))
    assert ranking[0] != REPLACED_PRICE
    assert [(c["rank"], c["priceFen"], c["scoreCenti"]) for c in report["candidates"]] == [
        (n, p, totals[p]) for n, p in enumerate(ranking, start=1)
    ]
    winner_price = ranking[0]
    winner = prices.index(winner_price)
    losers = [n for n in range(3) if n != winner]

    # when the tenderer publishes the candidates before the committee signed the report, and again when all but one
    # member signed it (a tender waits for the report signed by every member: 实施条例 第五十三条)
    tenderer = await f.login(api, tenderer_at)
    leaves = await certify(api, operator, members)
    unsigned = (await api.gql(PUBLISH, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["candidatesPublish"]
    signed = [await sign_as(api, who, leaf, lot_id) for who, leaf in zip(members[:-1], leaves[:-1], strict=True)]
    almost = (await api.gql(PUBLISH, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["candidatesPublish"]
    # then both are refused and the lot stays in evaluation
    assert (unsigned["__typename"], unsigned["code"]) == ("EvaluationReportNotFinal", "EVALUATION_REPORT_NOT_FINAL")
    assert [s["reportFinal"] for s in signed] == [False] * (len(members) - 1), signed
    assert almost["code"] == "EVALUATION_REPORT_NOT_FINAL"
    assert await status_of(api, lot_id) == "EVALUATING"
    # when the last member signs the report
    last = await sign_as(api, members[-1], leaves[-1], lot_id)
    assert (last["__typename"], last["reportFinal"]) == ("EvaluationSigned", True), last

    # when the tenderer publishes the candidates and tries to award before the publicity ends
    published = (await api.gql(PUBLISH, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["candidatesPublish"]
    early = (await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["resultAward"]
    await api.dispatch()

    # then the publicity runs 3 days and the early award is refused with its end
    assert published["__typename"] == "CandidatesPublished", published
    assert [c["priceFen"] for c in published["result"]["candidates"]] == ranking
    assert (early["__typename"], early["code"]) == ("PublicityNotOver", "PUBLICITY_NOT_OVER")
    assert early["endsAt"] == published["result"]["publicity"]["endsAt"]
    assert await status_of(api, lot_id) == "PUBLICITY"

    # when the publicity is over and the tenderer, signed in again, awards the lot
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_at)
    awarded = (await api.gql(AWARD, {"input": {"lotId": lot_id}}, token=tenderer))["data"]["resultAward"]
    await api.dispatch()

    # then the result is public: on the lot and as a published result announcement of the deal
    assert awarded["__typename"] == "LotAwarded", awarded
    award = awarded["result"]["award"]
    assert (award["status"], award["priceFen"], award["confirmationNo"]) == ("AWARDED", winner_price, f"CJ{code}")
    assert await status_of(api, lot_id) == "AWARDED"
    result = (await api.gql(RESULT, {"lotId": lot_id}))["data"]["lotResult"]
    assert (result["award"]["winner"], result["award"]["priceFen"]) == (award["winner"], winner_price)
    announced = await api.gql(LIST, {"filter": {"tradeCode": code, "types": ["RESULT"]}})
    [announcement] = [e["node"] for e in announced["data"]["announcements"]["edges"]]
    assert (announcement["type"], announcement["lotStatus"]) == ("RESULT", "AWARDED")
    # and anyone can now see who the committee was, and still recompute it
    [shown] = (await api.gql(DRAWS, {"lotId": lot_id}))["data"]["expertDraws"]
    assert shown["expertsShown"] is True
    assert [e["poolNumber"] for e in shown["selected"]] == recompute(shown, receipts) == committee
    # and the winner has its award notice, a loser its result notice
    tokens = [await f.login(api, phone) for phone in phones]
    mine = await inbox(api, tokens[winner])
    assert [n["title"] for n in mine if n["kind"] == "AWARD_NOTICE"] == ["中标通知书"]
    assert award["confirmationNo"] in next(n["body"] for n in mine if n["kind"] == "AWARD_NOTICE")
    theirs = [n["kind"] for n in await inbox(api, tokens[losers[0]])]
    assert (theirs.count("RESULT_NOTICE"), theirs.count("AWARD_NOTICE")) == (1, 0)
    # and the never-decrypting bidder's deposit is due back now; the three candidates' stay until the contract (the
    # others may still be awarded in turn: 实施条例 第五十五条、第五十七条)
    assert (await my_deposit(api, tokens[3]))["status"] == "refund_due"
    for n in (winner, *losers):
        assert (await my_deposit(api, tokens[n]))["status"] == "paid"

    # when the winner acknowledges the result confirmation
    confirmed = (await api.gql(CONFIRM, {"input": {"lotId": lot_id}}, token=tokens[winner]))["data"]["resultConfirm"]

    # then the lot's confirmation is the winner's
    assert confirmed["__typename"] == "ResultConfirmed", confirmed
    document = (await api.gql(RESULT, {"lotId": lot_id}, token=tokens[winner]))["data"]["lotResult"]["confirmation"]
    assert (document["confirmationNo"], document["priceFen"]) == (award["confirmationNo"], winner_price)
    assert document["confirmedAt"] == confirmed["result"]["confirmation"]["confirmedAt"]

    # when the worker renders the lot's records
    assert await records.render_due(manual_clock.now()) == 3
    # then the winner downloads its award notice (中标通知书) and a loser the opening record, as PDFs with the
    # Chinese text and the figures in them; the losers never see the award notice or the report
    for purpose, token, expected in (
        ("AWARD_NOTICE", tokens[winner], [award["confirmationNo"], "中标通知书"]),
        ("OPENING_RECORD", tokens[losers[0]], ["开标记录", code]),
        ("EVALUATION_REPORT", tenderer, ["评标报告", code]),
    ):
        [doc] = (await api.gql(docs.LIST, {"purpose": purpose, "ownerId": lot_id}, token=token))["data"]["documents"]
        fetched = await docs.fetch((await docs.link(api, token, doc["id"]))["link"]["url"])
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(fetched.content)).pages)
        assert all(word in text for word in expected), text[:300]
    for purpose in ("AWARD_NOTICE", "EVALUATION_REPORT"):
        assert (await api.gql(docs.LIST, {"purpose": purpose, "ownerId": lot_id}, token=tokens[losers[0]]))["data"][
            "documents"
        ] == []
