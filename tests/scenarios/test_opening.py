"""The remote opening (不见面开标) from phones: keys handed over in the window, the record watched live."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_live_events import next_message, ws_connect
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot, submit

DECRYPT = """mutation($input: BidDecryptInput!) { bidDecrypt(input: $input) {
  __typename ... on BidDecrypted { priceFen documents } ... on Error { code message } } }"""
OBJECT = """mutation($input: OpeningObjectInput!) { openingObject(input: $input) {
  __typename ... on OpeningObjected { objectionId } ... on Error { code message } } }"""
ANSWER = """mutation($input: OpeningAnswerInput!) { openingAnswer(input: $input) {
  __typename ... on Error { code message } } }"""
RECORD = """query($lotId: ID!) { openingRecord(lotId: $lotId) {
  status bids lines { bidder status priceFen documents } objections { text answer } } }"""
WATCH = "subscription($lotId: ID!) { openingUpdates(lotId: $lotId) { kind bidder priceFen } }"
LOT = "query($id: ID!) { node(id: $id) { ... on Lot { status } } }"


async def decrypt(api: Any, token: str, lot_id: str, key: dict[str, Any]) -> dict[str, Any]:
    body = await api.gql(DECRYPT, {"input": {"lotId": lot_id, "key": key}}, token=token)
    return body["data"]["bidDecrypt"]  # type: ignore[no-any-return]


async def test_four_sealed_bids_opened_remotely_one_replaced_one_never_decrypted(api, manual_clock):
    # given a sealed tender, four registered bidders, each with its own key
    operator = await f.operator_token(api)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    lot_id, code = lot["id"], lot["tradeCode"]
    bidders = [await registered_bidder(api, operator, lot_id) for _ in range(4)]
    keys = [new_key() for _ in bidders]
    prices = [1_250_000_000, 1_199_000_000, 1_230_000_000, 1_260_000_000]
    for (_, token), key, price in zip(bidders, keys, prices, strict=True):
        assert (await submit(api, token, lot_id, seal(key, code, price, {"商务标.pdf": b"x"})))[
            "__typename"
        ] == "BidSubmitted"
    # the second bidder replaces its bid with a lower price and a new key
    keys[1] = new_key()
    prices[1] = 1_188_000_000
    await submit(api, bidders[1][1], lot_id, seal(keys[1], code, prices[1], {"商务标.pdf": b"y", "技术标.pdf": b"z"}))
    await api.dispatch()  # the tender's publication scheduled the opening

    # when the deadline passes, the opening starts and the lot moves to evaluation
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    tokens = [await f.login(api, phone) for phone, _ in bidders]
    assert (await api.gql(LOT, {"id": lot_id}))["data"]["node"]["status"] == "EVALUATING"
    watcher = await ws_connect(api.ws_url, {"authorization": f"Bearer {tokens[0]}"})
    try:
        assert (await next_message(watcher))["type"] == "connection_ack"
        watch = {"query": WATCH, "variables": {"lotId": lot_id}}
        await watcher.send(json.dumps({"id": "1", "type": "subscribe", "payload": watch}))
        await asyncio.sleep(0.2)
        # three bidders hand over their keys; the third first tries a wrong one
        first = await decrypt(api, tokens[0], lot_id, keys[0])
        second = await decrypt(api, tokens[1], lot_id, keys[1])
        wrong = await decrypt(api, tokens[2], lot_id, keys[0])
        third = await decrypt(api, tokens[2], lot_id, keys[2])
        objection = {"lotId": lot_id, "text": "第二名报价明显低于成本"}
        objected = await api.gql(OBJECT, {"input": objection}, token=tokens[0])
        answer = {"objectionId": objected["data"]["openingObject"]["objectionId"], "answer": "已记录，交评标委员会审查"}
        answered = await api.gql(ANSWER, {"input": answer}, token=await f.login(api, tenderer_phone))
        await api.dispatch()
        lines = []
        for _ in range(3):
            message = await next_message(watcher)
            assert message["type"] == "next", message
            lines.append(message["payload"]["data"]["openingUpdates"])
    finally:
        await watcher.close()

    # then
    assert first == {"__typename": "BidDecrypted", "priceFen": prices[0], "documents": 1}
    assert second["priceFen"] == 1_188_000_000
    assert second["documents"] == 2
    assert wrong["code"] == "BID_KEY_INVALID"
    assert third["priceFen"] == prices[2]
    assert objected["data"]["openingObject"]["__typename"] == "OpeningObjected"
    assert answered["data"]["openingAnswer"]["__typename"] == "OpeningAnswered"
    assert [(u["kind"], u["priceFen"]) for u in lines] == [
        ("decrypted", prices[0]),
        ("decrypted", prices[1]),
        ("decrypted", prices[2]),
    ]
    hidden = (await api.gql(RECORD, {"lotId": lot_id}))["data"]["openingRecord"]
    assert hidden is None  # not public while the window is open

    # when the window closes, the fourth bid is invalid and the record is public
    manual_clock.advance(timedelta(minutes=60))
    await chronograph.fire_due()
    record = (await api.gql(RECORD, {"lotId": lot_id}))["data"]["openingRecord"]
    assert record["status"] == "closed"
    assert record["bids"] == 4
    assert sorted(line["priceFen"] for line in record["lines"] if line["priceFen"]) == sorted(prices[:3])
    assert [line["status"] for line in record["lines"]].count("INVALID") == 1
    assert record["objections"] == [{"text": "第二名报价明显低于成本", "answer": "已记录，交评标委员会审查"}]
    late = await decrypt(api, await f.login(api, bidders[3][0]), lot_id, keys[3])
    assert late["code"] == "DECRYPTION_CLOSED"


async def test_two_bids_at_the_deadline_fail_the_lot_and_nothing_is_opened(api, manual_clock):
    # given a tender that needs three bids and gets two
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(2)]
    keys = [new_key() for _ in bidders]
    for (_, token), key in zip(bidders, keys, strict=True):
        await submit(api, token, lot["id"], seal(key, lot["tradeCode"], 1_000_000_00, {}))
    await api.dispatch()
    # when the deadline passes
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    await api.dispatch()
    # then the lot failed (流标), a termination announcement ended it, and no key can open a bid
    assert (await api.gql(LOT, {"id": lot["id"]}))["data"]["node"]["status"] == "TERMINATED"
    record = (await api.gql(RECORD, {"lotId": lot["id"]}))["data"]["openingRecord"]
    assert record["status"] == "failed"
    assert record["lines"] == []
    refused = await decrypt(api, await f.login(api, bidders[0][0]), lot["id"], keys[0])
    assert refused["code"] == "DECRYPTION_CLOSED"


FAULT = """mutation($input: OpeningPlatformFaultInput!) { openingPlatformFault(input: $input) {
  __typename ... on OpeningPlatformFaultRecorded { receipt { status } } ... on Error { code message } } }"""


async def test_a_platform_fault_is_recorded_as_such_and_not_held_against_the_bidder(api, manual_clock):
    # given three sealed bids and an opening in its window
    operator_phone = f.new_phone()
    from api.seed import create_operator

    await create_operator(phone=operator_phone, name="运营管理员", password=f.PASSWORD)
    operator = await f.login(api, operator_phone)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(3)]
    keys = [new_key() for _ in bidders]
    for (_, token), key in zip(bidders, keys, strict=True):
        await submit(api, token, lot["id"], seal(key, lot["tradeCode"], 1_000_000_00, {}))
    await api.dispatch()
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    tokens = [await f.login(api, phone) for phone, _ in bidders]
    for token, key in zip(tokens[:2], keys[:2], strict=True):
        await decrypt(api, token, lot["id"], key)
    # when the operator records that the third could not decrypt because of the platform (撤回)
    me = await api.gql("query { me { organisation { id } } }", token=tokens[2])
    org_id = me["data"]["me"]["organisation"]["id"]
    operator = await f.login(api, operator_phone)
    fault = {"lotId": lot["id"], "organisationId": org_id, "reason": "解密服务 10:02-10:15 不可用"}
    recorded = await api.gql(FAULT, {"input": fault}, token=operator)
    again = await api.gql(FAULT, {"input": fault}, token=operator)
    refused = await api.gql(FAULT, {"input": fault}, token=tokens[0], expect_errors=True)
    # and the window closes
    manual_clock.advance(timedelta(minutes=60))
    await chronograph.fire_due()
    record = (await api.gql(RECORD, {"lotId": lot["id"]}))["data"]["openingRecord"]
    # then the record shows two decrypted bids and one platform fault, no bidder failure
    assert recorded["data"]["openingPlatformFault"]["receipt"]["status"] == "PLATFORM_FAULT"
    assert again["data"]["openingPlatformFault"]["code"] == "NO_UNDECRYPTED_BID"
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert sorted(line["status"] for line in record["lines"]) == ["DECRYPTED", "DECRYPTED", "PLATFORM_FAULT"]
