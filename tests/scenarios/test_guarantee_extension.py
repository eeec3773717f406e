"""A guarantee a moved deadline left short, over HTTP: the clarification moves the deadline, the holder is told, its bid
is refused (a confirmation, a new bid) with GUARANTEE_VALIDITY_SHORT, it asks its guarantor for an extension (保函展期),
the guarantor's system answers (a wrong letter first, refused; then the amended letter), and the bid counts again. A
bid sealed before a move that changed no document keeps its place, and is opened without security when its guarantee
still falls short at the deadline (the guarantor refused to extend it)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.common import chronograph
from domain.common.models import OutboxEvent
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_clarifications import CLARIFY, CONFIRM
from tests.scenarios.test_guarantees import AMOUNT, Tender, open_tender, registered_bidder
from tests.scenarios.test_opening import decrypt
from tests.scenarios.test_results import inbox
from tests.scenarios.test_sealed_bids import submit
from tests.support.commitments import commit_over_api
from tests.support.guarantor import MINE_EXTENDED, apply, request_extension

REFUSED = """mutation($input: BidSubmitInput!) { bidSubmit(input: $input) { __typename
  ... on BidSubmitted { receipt { status } } ... on Error { code message }
  ... on GuaranteeValidityShortfall { requiredUntil } } }"""
CONFIRM_TYPED = CONFIRM.replace(
    "... on Error { code message }", "... on Error { code message } ... on GuaranteeValidityShortfall { requiredUntil }"
)
MY_BIDS = """query($lotId: ID!) { mySealedBids(lotId: $lotId) { status securityShortfall { code message } } }"""
RECORD = """query($lotId: ID!) { openingRecord(lotId: $lotId) { status bids
  lines { bidder status priceFen securityShortfall { code message } } } }"""
SECURED = """query { myRegistrations { edges { node { securityInPlace } } } }"""
TASKS = "{ myTasks { kind role objectType objectId deadline operation } }"


async def _tasks(api: Any, token: str, kind: str) -> list[dict[str, Any]]:
    return [t for t in (await api.gql(TASKS, token=token))["data"]["myTasks"] if t["kind"] == kind]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def _guaranteed_bidder(api: Any, t: Tender, valid_until: datetime) -> tuple[str, str, dict[str, Any]]:
    """(phone, token, issued guarantee) of a registered bidder that signed the bid-stage commitment."""
    _, phone, token = await registered_bidder(api, t)
    await commit_over_api(api, token, t.lot_id, "bid")
    applied = await apply(api, token, t.lot_id, t.guarantor.org_id, AMOUNT, valid_until)
    assert applied["__typename"] == "GuaranteeApplied", applied
    done = await t.guarantor.issue_for(applied["guarantee"])
    assert done["__typename"] == "GuaranteeIssued", done
    return phone, token, done["guarantee"]


async def _mine(api: Any, token: str, lot_id: str) -> dict[str, Any]:
    body = await api.gql(MINE_EXTENDED, {"lotId": lot_id}, token=token)
    [node] = [e["node"] for e in body["data"]["myGuarantees"]["edges"]]
    return node  # type: ignore[no-any-return]


async def _clarify(api: Any, t: Tender, **given: Any) -> dict[str, Any]:
    tenderer = await f.login(api, t.tenderer_phone)
    fields = {
        "lotId": t.lot_id,
        "title": "关于第一标段招标文件的澄清与修改（第1号）",
        "bodyHtml": "<p>修改。</p>",
        **given,
    }
    published = (await api.gql(CLARIFY, {"input": fields}, token=tenderer))["data"]["clarificationPublish"]
    assert published["__typename"] == "ClarificationPublished", published
    return published["clarification"]  # type: ignore[no-any-return]


async def test_a_short_guarantee_refuses_the_bid_until_its_guarantor_extends_it(api, manual_clock):
    # given an open tender due in 25 days and three bidders guaranteed until the deadline plus 90 days, two with bids
    t = await open_tender(api, manual_clock)
    bidders = [await _guaranteed_bidder(api, t, t.valid_until) for _ in range(3)]
    (a_phone, _, a_guarantee), (_, _, _), (c_phone, _, c_guarantee) = bidders
    keys = [new_key() for _ in bidders]
    for (_, token, _), key, price in zip(bidders[:2], keys[:2], (12_000_000_00, 12_100_000_00), strict=True):
        assert (await submit(api, token, t.lot_id, seal(key, t.project["lots"][0]["tradeCode"], price, {})))[
            "__typename"
        ] == "BidSubmitted"

    # when ten days before the deadline a change of the documents moves it to fifteen days out
    manual_clock.advance(timedelta(days=15))
    moved = await _clarify(api, t, changesDocuments=True)
    await api.dispatch()
    deadline = _at(moved["deadlineAfter"])
    required = deadline + timedelta(days=90)
    assert deadline == t.deadline + timedelta(days=5)
    # then the holders are told their guarantee falls short, and it shows so
    a_token, c_token = await f.login(api, a_phone), await f.login(api, c_phone)
    told = [n for n in await inbox(api, a_token) if n["title"] == "保函有效期不足"]
    assert len(told) == 1
    shown = await _mine(api, a_token, t.lot_id)
    assert shown["validityShort"] is True
    assert _at(shown["requiredUntil"]) == required
    # and the flagged bid cannot be confirmed, nor a new bid sealed, each with the typed reason
    refused = (await api.gql(CONFIRM_TYPED, {"input": {"lotId": t.lot_id}}, token=a_token))["data"]["bidConfirm"]
    assert refused["__typename"] == "GuaranteeValidityShortfall", refused
    assert refused["code"] == "GUARANTEE_VALIDITY_SHORT"
    assert _at(refused["requiredUntil"]) == required
    assert "展期" in refused["message"]
    sealed = seal(keys[2], t.project["lots"][0]["tradeCode"], 12_200_000_00, {})
    late = (await api.gql(REFUSED, {"input": {"lotId": t.lot_id, "sealedBid": sealed}}, token=c_token))["data"]
    assert late["bidSubmit"]["code"] == "GUARANTEE_VALIDITY_SHORT"
    secured = (await api.gql(SECURED, token=a_token))["data"]["myRegistrations"]["edges"]
    assert [e["node"]["securityInPlace"] for e in secured] == [False]
    # and its guided tasks ask it to have the guarantee extended by the new deadline
    [owed] = await _tasks(api, a_token, "EXTEND_GUARANTEE")
    assert (owed["role"], owed["objectType"], owed["operation"]) == ("bidder", "Guarantee", "guaranteeExtensionRequest")
    assert owed["objectId"] == a_guarantee["id"]
    assert _at(owed["deadline"]) == deadline

    # when the bidder asks its guarantor to extend it, the request retried with its key
    asked = [await request_extension(api, a_token, a_guarantee["id"], required, key="ext-a") for _ in range(2)]
    # then one request is recorded and the guarantor's system sees it
    assert [r["__typename"] for r in asked] == ["GuaranteeExtensionRequested"] * 2
    assert await OutboxEvent.filter(type="guarantee.extension_requested").count() == 1
    t.guarantor.token = await t.guarantor.sign_in()
    [pending] = await t.guarantor.extension_requests()
    assert _at(pending["extensionUntil"]) == required
    # and the task moves from the applicant to the guarantor: answer it by the deadline
    assert await _tasks(api, a_token, "EXTEND_GUARANTEE") == []
    [answer] = await _tasks(api, t.guarantor.token, "ANSWER_EXTENSION")
    assert (answer["role"], answer["operation"], answer["objectId"]) == ("guarantor", "guaranteeExtend", pending["id"])
    assert _at(answer["deadline"]) == deadline

    # when the guarantor's system first answers with a letter that keeps the old expiry
    wrong = await t.guarantor.extend_for(pending, validUntil=a_guarantee["validUntil"])
    # then it is refused, naming the field, and nothing changed
    assert wrong["__typename"] == "LetterMismatch"
    assert wrong["field"] == "validUntil"
    assert (await _mine(api, a_token, t.lot_id))["validityShort"] is True

    # when it sends the amended letter, twice
    amended = t.guarantor.amended(pending)
    extended = [await t.guarantor.extend(pending["id"], amended) for _ in range(2)]
    # then the guarantee covers again with its new letter, extended once; the holder is told the shortfall is settled
    assert [e["__typename"] for e in extended] == ["GuaranteeExtended"] * 2
    now_shown = extended[0]["guarantee"]
    assert _at(now_shown["validUntil"]) == required
    assert now_shown["letterSha256"] != a_guarantee["letterSha256"]
    assert now_shown["letterNo"] == a_guarantee["letterNo"]
    assert now_shown["validityShort"] is False
    assert now_shown["extendedAt"]
    assert await _tasks(api, t.guarantor.token, "ANSWER_EXTENSION") == []
    assert await OutboxEvent.filter(type="guarantee.extended").count() == 1
    await api.dispatch()
    assert [n["title"] for n in await inbox(api, a_token)].count("保函已展期") == 1
    # and asking again is refused: it covers already
    again = await request_extension(api, a_token, a_guarantee["id"], required + timedelta(days=1))
    assert again["code"] == "GUARANTEE_ALREADY_COVERS"

    # when the bidder confirms its bid
    confirmed = (await api.gql(CONFIRM, {"input": {"lotId": t.lot_id}}, token=a_token))["data"]["bidConfirm"]
    # then it stands, and the bidder's security is in place
    assert confirmed["__typename"] == "BidConfirmed", confirmed
    assert confirmed["receipt"]["status"] == "SUBMITTED"
    secured = (await api.gql(SECURED, token=a_token))["data"]["myRegistrations"]["edges"]
    assert [e["node"]["securityInPlace"] for e in secured] == [True]

    # when the third bidder's guarantee is extended too, it may seal its bid
    assert (await request_extension(api, c_token, c_guarantee["id"], required))["__typename"] == (
        "GuaranteeExtensionRequested"
    )
    [c_pending] = await t.guarantor.extension_requests()
    assert (await t.guarantor.extend_for(c_pending))["__typename"] == "GuaranteeExtended"
    assert (await submit(api, c_token, t.lot_id, sealed))["__typename"] == "BidSubmitted"


async def test_a_bid_sealed_before_the_move_is_opened_without_security_when_its_guarantee_still_falls_short(
    api, manual_clock
):
    # given an open tender and three sealed bids: two guaranteed until the deadline plus 90 days, one 30 days longer
    t = await open_tender(api, manual_clock)
    trade_code = t.project["lots"][0]["tradeCode"]
    validities = (t.valid_until, t.valid_until, t.valid_until + timedelta(days=30))
    bidders = [await _guaranteed_bidder(api, t, until) for until in validities]
    keys = [new_key() for _ in bidders]
    for (_, token, _), key, price in zip(bidders, keys, (12_000_000_00, 12_100_000_00, 12_200_000_00), strict=True):
        assert (await submit(api, token, t.lot_id, seal(key, trade_code, price, {})))["__typename"] == "BidSubmitted"

    # when a clarification that changes no document moves the deadline 5 days later
    manual_clock.advance(timedelta(days=15))
    moved = await _clarify(api, t, changesDocuments=False, bidDeadline=(t.deadline + timedelta(days=5)).isoformat())
    required = _at(moved["deadlineAfter"]) + timedelta(days=90)
    tokens = [await f.login(api, phone) for phone, _, _ in bidders]
    # and the first holder's guarantee is extended, while the guarantor refuses the second's
    t.guarantor.token = await t.guarantor.sign_in()
    for token, (_, _, guarantee) in zip(tokens[:2], bidders[:2], strict=True):
        assert (await request_extension(api, token, guarantee["id"], required))["__typename"] == (
            "GuaranteeExtensionRequested"
        )
    first, second = sorted(await t.guarantor.extension_requests(), key=lambda g: g["id"] != bidders[0][2]["id"])
    assert (await t.guarantor.extend_for(first))["__typename"] == "GuaranteeExtended"
    declined = await t.guarantor.decline_extension(second["id"], "反担保措施不足，不予展期")
    assert declined["__typename"] == "GuaranteeExtensionDeclined", declined
    assert declined["guarantee"]["extensionDeclineReason"] == "反担保措施不足，不予展期"
    # then the bids were never flagged: all three stand sealed
    for token in tokens:
        assert [
            b["status"] for b in (await api.gql(MY_BIDS, {"lotId": t.lot_id}, token=token))["data"]["mySealedBids"]
        ] == ["SUBMITTED"]

    # when the new deadline passes and the opening starts
    await api.dispatch()
    manual_clock.advance(timedelta(days=15, minutes=1))
    await chronograph.fire_due()
    tokens = [await f.login(api, phone) for phone, _, _ in bidders]
    # then all three are opened, the second recorded without security, with the reason
    mine = [(await api.gql(MY_BIDS, {"lotId": t.lot_id}, token=tk))["data"]["mySealedBids"][0] for tk in tokens]
    assert [b["status"] for b in mine] == ["SUBMITTED"] * 3
    assert [b["securityShortfall"] and b["securityShortfall"]["code"] for b in mine] == [
        None,
        "GUARANTEE_VALIDITY_SHORT",
        None,
    ]
    assert "保函有效期不足" in mine[1]["securityShortfall"]["message"]
    for token, key in zip(tokens, keys, strict=True):
        assert (await decrypt(api, token, t.lot_id, key))["__typename"] == "BidDecrypted"
    record = (await api.gql(RECORD, {"lotId": t.lot_id}, token=tokens[0]))["data"]["openingRecord"]
    assert record["bids"] == 3
    by_price = {line["priceFen"]: line["securityShortfall"] for line in record["lines"]}
    assert by_price[12_000_000_00] is None
    assert by_price[12_100_000_00]["code"] == "GUARANTEE_VALIDITY_SHORT"
    assert by_price[12_200_000_00] is None
