"""Sealed bids from phones: receipts, replace and withdraw until the deadline, and nobody reads a price."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from typing import Any

from joserfc import jwe
from joserfc.jwk import OctKey
from tortoise import Tortoise, connections

from domain.common import chronograph
from mobile_contract.sealed_bid import HEADER, document, new_key, seal
from tests import factories as f
from tests.scenarios.test_publication import PROJECT_CREATE, publish, road_project
from tests.support import documents as docs
from tests.support.commitments import commit_over_api

SUBMIT = """mutation($input: BidSubmitInput!) { bidSubmit(input: $input) {
  __typename ... on BidSubmitted { receipt { id sha256 submittedAt size status } } ... on Error { code message } } }"""
WITHDRAW = """mutation($input: BidWithdrawInput!) { bidWithdraw(input: $input) {
  __typename ... on BidWithdrawn { receipt { status } } ... on Error { code message } } }"""
MINE = "query($lotId: ID!) { mySealedBids(lotId: $lotId) { sha256 status } }"
REGISTER = """mutation($input: LotRegisterInput!) { lotRegister(input: $input) { __typename } }"""
PRICE = 987_654_321_07  # digits that appear nowhere else


async def sealed_lot(api: Any, clock: Any, operator: str) -> tuple[dict[str, Any], str, str]:
    """An open tender without security, deadline in 25 days; its tenderer's token and phone."""
    _, phone, tenderer = await f.approved_org(api, operator, kinds=["TENDERER"])
    form = road_project(
        clock.now() + timedelta(days=25),
        config={"bidDeadline": (clock.now() + timedelta(days=25)).isoformat(), "depositRequired": False},
    )
    created = (await api.gql(PROJECT_CREATE, {"input": form}, token=tenderer))["data"]["projectCreate"]
    assert created["__typename"] == "ProjectCreated", created
    await publish(
        api, tenderer, created["project"], "TENDER", "2026年青岛市道路维修工程施工招标公告", "<p>黄岛区。</p>"
    )
    return created["project"], tenderer, phone


async def registered_bidder(api: Any, operator: str, lot_id: str) -> tuple[str, str]:
    _, phone, token = await f.approved_org(api, operator)
    await commit_over_api(api, token, lot_id, "registration")  # an open tender: 信用承诺制 by default
    assert (await api.gql(REGISTER, {"input": {"lotId": lot_id}}, token=token))["data"]["lotRegister"][
        "__typename"
    ] == "LotRegistered"
    await commit_over_api(api, token, lot_id, "bid")
    return phone, token


async def submit(api: Any, token: str, lot_id: str, sealed: str) -> dict[str, Any]:
    body = await api.gql(SUBMIT, {"input": {"lotId": lot_id, "sealedBid": sealed}}, token=token)
    return body["data"]["bidSubmit"]  # type: ignore[no-any-return]


async def test_a_bidder_seals_replaces_and_withdraws_until_the_deadline(api, manual_clock):
    # given a registered bidder with a key only its phone holds
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    phone, bidder = await registered_bidder(api, operator, lot["id"])
    key = new_key()
    first = seal(key, lot["tradeCode"], PRICE, {"商务标.pdf": b"%PDF-1.7 ..."})
    # when it submits, replaces, withdraws and submits again
    receipt = await submit(api, bidder, lot["id"], first)
    second = seal(key, lot["tradeCode"], PRICE - 100, {"商务标.pdf": b"%PDF-1.7 v2"})
    replaced = await submit(api, bidder, lot["id"], second)
    withdrawn = (await api.gql(WITHDRAW, {"input": {"lotId": lot["id"]}}, token=bidder))["data"]["bidWithdraw"]
    again = await submit(api, bidder, lot["id"], second)
    # then each submission has a receipt: the SHA-256 of exactly what was sent, and the server time
    assert receipt["__typename"] == "BidSubmitted", receipt
    assert receipt["receipt"]["sha256"] == hashlib.sha256(first.encode()).hexdigest()
    assert receipt["receipt"]["submittedAt"]
    assert replaced["receipt"]["status"] == "SUBMITTED"
    assert withdrawn["receipt"]["status"] == "WITHDRAWN"
    history = (await api.gql(MINE, {"lotId": lot["id"]}, token=bidder))["data"]["mySealedBids"]
    assert [h["status"] for h in history] == ["SUBMITTED", "WITHDRAWN", "SUPERSEDED"]
    assert again["__typename"] == "BidSubmitted"
    # when the deadline passes, nothing more is accepted
    manual_clock.advance(timedelta(days=25))
    bidder = await f.login(api, phone)
    late = await submit(api, bidder, lot["id"], seal(key, lot["tradeCode"], PRICE, {}))
    late_withdrawal = (await api.gql(WITHDRAW, {"input": {"lotId": lot["id"]}}, token=bidder))["data"]["bidWithdraw"]
    assert late["code"] == "BID_DEADLINE_PASSED"
    assert late_withdrawal["code"] == "BID_DEADLINE_PASSED"


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_plaintext_or_wrongly_sealed_bid_is_refused_and_nothing_is_stored(api, manual_clock):
    # given
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, bidder = await registered_bidder(api, operator, lot["id"])
    wrong = [
        json.dumps({"priceFen": PRICE}),  # plain JSON
        f"{_b64({'alg': 'HS256'})}.{_b64({'priceFen': PRICE})}.c2ln",  # a JWS
        f"{_b64({'alg': 'dir', 'enc': 'A128CBC-HS256', 'cty': 'application/vnd.palmtrade.bid.v1+json'})}"
        f"..{_b64(b'x' * 16)}.{_b64(b'secret')}.{_b64(b't' * 16)}",  # another algorithm
        f"{_b64({'alg': 'none', 'enc': 'A256GCM', 'cty': 'application/vnd.palmtrade.bid.v1+json'})}"
        f"..{_b64(b'x' * 12)}.{_b64(json.dumps({'priceFen': PRICE}).encode())}.{_b64(b't' * 16)}",
    ]
    # when / then
    for token in wrong:
        refused = await submit(api, bidder, lot["id"], token)
        assert refused["code"] == "BID_NOT_SEALED", (token, refused)
    assert (await api.gql(MINE, {"lotId": lot["id"]}, token=bidder))["data"]["mySealedBids"] == []


async def test_an_unpadded_sealed_bid_is_refused_and_padded_ones_are_one_length(api, manual_clock):
    # given a registered bidder, and a bid sealed the old way: its JSON encrypted unpadded
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, bidder = await registered_bidder(api, operator, lot["id"])
    key = new_key()
    plain = json.dumps(document(lot["tradeCode"], PRICE, {}), ensure_ascii=False).encode()
    unpadded = jwe.encrypt_compact(HEADER, plain, OctKey.import_key(key))

    # when it is submitted, then it is refused as the NotSealed member with its own code, and nothing is kept
    refused = await submit(api, bidder, lot["id"], unpadded)
    assert refused["__typename"] == "NotSealed"
    assert refused["code"] == "BID_NOT_PADDED"
    assert (await api.gql(MINE, {"lotId": lot["id"]}, token=bidder))["data"]["mySealedBids"] == []
    # and padded bids of 1 fen and of 999,999,999,999 fen are received at the same size
    low = await submit(api, bidder, lot["id"], seal(key, lot["tradeCode"], 1, {}))
    high = await submit(api, bidder, lot["id"], seal(key, lot["tradeCode"], 999_999_999_999, {}))
    assert low["__typename"] == high["__typename"] == "BidSubmitted"
    assert low["receipt"]["size"] == high["receipt"]["size"]


async def test_only_a_registered_bidder_may_bid(api, manual_clock):
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, _, stranger = await f.approved_org(api, operator)
    refused = await submit(api, stranger, lot["id"], seal(new_key(), lot["tradeCode"], PRICE, {}))
    assert refused["code"] == "NOT_REGISTERED"


async def _everything_in_the_database() -> str:
    """Every row of every table, as text: where a leaked price would be."""
    conn = connections.get("default")
    dump = []
    for model in Tortoise.apps["palmtrade"].values():
        rows = await conn.execute_query_dict(f'SELECT * FROM "{model._meta.db_table}"')
        dump.append(json.dumps(rows, default=str, ensure_ascii=False))
    return "\n".join(dump)


async def test_no_role_and_no_table_can_read_a_sealed_price_before_the_opening(api, manual_clock):
    # given a sealed bid with a distinctive price and document name
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    _, bidder = await registered_bidder(api, operator, lot["id"])
    _, rival = await registered_bidder(api, operator, lot["id"])
    sealed = seal(new_key(), lot["tradeCode"], PRICE, {"绝密报价单.xlsx": b"price sheet"})
    receipt = await submit(api, bidder, lot["id"], sealed)
    await api.dispatch()
    secrets_ = [str(PRICE), f"{PRICE / 100:,.2f}", "绝密报价单"]
    # when every role asks everything it may ask
    asks = [
        (bidder, MINE, {"lotId": lot["id"]}),
        (rival, MINE, {"lotId": lot["id"]}),
        (tenderer, MINE, {"lotId": lot["id"]}),
        (operator, "query { auditTrail(first: 100) { edges { node { action digest objectId } } } }", {}),
        (operator, "query($id: ID!) { node(id: $id) { id } }", {"id": receipt["receipt"]["id"]}),
        (bidder, "query { myNotifications { edges { node { title body } } } }", {}),
        (
            tenderer,
            "query($lotId: ID!) { lotRegistrations(lotId: $lotId) { edges { node { status } } } }",
            {"lotId": lot["id"]},
        ),
    ]
    answers = [json.dumps(await api.gql(q, v, token=t, expect_errors=True), ensure_ascii=False) for t, q, v in asks]
    stored = await _everything_in_the_database()
    # then the price and the documents appear nowhere: not in answers, not in any table
    for secret in secrets_:
        assert all(secret not in answer for answer in answers), secret
        assert secret not in stored, secret
    assert sealed in stored  # the ciphertext is kept, and it is all that is kept


INBOX = "query { myNotifications(first: 50) { edges { node { kind title body } } } }"
LOT_STATUS = "query($id: ID!) { node(id: $id) { ... on Lot { status } } }"
CANCEL = """mutation($input: CancellationPublishInput!) { cancellationPublish(input: $input) {
  __typename ... on Error { code message } } }"""


async def termination_decision(api: Any, token: str, lot_id: str, path: Any) -> str:
    """The tenderer's termination decision uploaded for the lot; its document's global id."""
    path.write_bytes(b"%PDF-1.7\n terminate\n%%EOF\n")
    granted = await docs.grant(api, token, "CANCELLATION_DOCUMENT", lot_id, path)
    assert granted["__typename"] == "UploadGrant", granted
    await docs.tus_upload(granted, path)
    done = (await api.gql(docs.UPLOAD, {"id": granted["upload"]["id"]}, token=token))["data"]["documentUpload"]
    assert done["status"] == "COMPLETE", done
    return str(done["documentId"])


async def returned_notices(api: Any, token: str) -> list[dict[str, Any]]:
    body = await api.gql(INBOX, token=token)
    return [e["node"] for e in body["data"]["myNotifications"]["edges"] if e["node"]["title"] == "投标文件已退回"]


async def test_a_lot_that_fails_at_its_deadline_returns_its_sealed_bids_unopened_and_tells_each_bidder(
    api, manual_clock
):
    # given a sealed tender (three bids needed) with two sealed bids, the second bidder's replaced once
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(2)]
    key = new_key()
    assert (await submit(api, bidders[0][1], lot["id"], seal(key, lot["tradeCode"], PRICE, {})))[
        "__typename"
    ] == "BidSubmitted"
    for price in (PRICE + 1, PRICE + 2):
        assert (await submit(api, bidders[1][1], lot["id"], seal(key, lot["tradeCode"], price, {})))[
            "__typename"
        ] == "BidSubmitted"

    await api.dispatch()  # the opening is scheduled at the deadline

    # when the deadline passes with two bids (流标) and the dispatcher delivers what followed
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()
    await api.dispatch()

    # then the lot failed unopened and is ended by its failure notice (流标公告), every bid that stood went back to its
    # bidder unopened (the replaced one stays superseded), and each bidder is told once
    assert (await api.gql(LOT_STATUS, {"id": lot["id"]}))["data"]["node"]["status"] == "TERMINATED"
    tokens = [await f.login(api, phone) for phone, _ in bidders]
    mine = [(await api.gql(MINE, {"lotId": lot["id"]}, token=t))["data"]["mySealedBids"] for t in tokens]
    assert [[b["status"] for b in bids] for bids in mine] == [["RETURNED"], ["RETURNED", "SUPERSEDED"]]
    notices = [await returned_notices(api, t) for t in tokens]
    assert [len(n) for n in notices] == [1, 1]
    assert all(n[0]["kind"] == "LOT_ENDED" and "未经开启即退回" in n[0]["body"] for n in notices)


async def test_a_lot_terminated_before_its_opening_returns_its_sealed_bids_unopened_and_tells_each_bidder(
    api, manual_clock, tmp_path
):
    # given a sealed tender with two sealed bids and a registrant without one
    operator = await f.operator_token(api)
    project, tenderer, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(3)]
    for _, token in bidders[:2]:
        assert (await submit(api, token, lot["id"], seal(new_key(), lot["tradeCode"], PRICE, {})))[
            "__typename"
        ] == "BidSubmitted"

    # when the tenderer terminates the tender before its deadline (终止招标) and the dispatcher delivers it
    decision = await termination_decision(api, tenderer, lot["id"], tmp_path / "终止决定.pdf")
    form = {
        "projectId": project["id"],
        "lotId": lot["id"],
        "ground": "TENDER_TERMINATED",
        "explanation": "项目建设计划调整，终止本次招标。",
        "documentIds": [decision],
    }
    cancelled = (await api.gql(CANCEL, {"input": form}, token=tenderer))["data"]["cancellationPublish"]
    assert cancelled["__typename"] == "CancellationPublished", cancelled
    await api.dispatch()
    await api.dispatch()

    # then both sealed bids are returned unopened and their bidders told once; the registrant without a bid is not
    mine = [(await api.gql(MINE, {"lotId": lot["id"]}, token=t))["data"]["mySealedBids"] for _, t in bidders]
    assert [[b["status"] for b in bids] for bids in mine] == [["RETURNED"], ["RETURNED"], []]
    assert [len(await returned_notices(api, t)) for _, t in bidders] == [1, 1, 0]
