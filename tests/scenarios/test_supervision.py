"""Supervision from phones: collusion alerts to the category's supervisors, trading statistics, and a lot's
evidence package."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from domain.common import chronograph
from mobile_contract.sealed_bid import new_key, seal
from tests import factories as f
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_sealed_bids import SUBMIT, registered_bidder, sealed_lot

DECRYPT = """mutation($input: BidDecryptInput!) { bidDecrypt(input: $input) {
  __typename ... on Error { code message } } }"""
ALERTS = """query($status: CollusionAlertStatus) { collusionAlerts(status: $status, first: 20) { edges { node {
  id lotId signal status category organisations { id name } evidenceJson history { fromStatus toStatus note } } } } }"""
UPDATE = """mutation($input: CollusionAlertUpdateInput!) { collusionAlertUpdate(input: $input) {
  __typename ... on CollusionAlertUpdated { alert { status history { note } } } ... on Error { code message } } }"""
INBOX = "query { myNotifications(first: 20) { edges { node { kind title body objectType objectId } } } }"
ORG = "query { me { organisation { id } } }"


async def other_supervisor_phone(api: Any, operator: str) -> str:
    form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=["GOVERNMENT_PROCUREMENT"])
    body = await api.gql(f.REGISTER, {"input": form}, token=operator)
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    return str(form["phone"])


async def opened_lot_with_one_phone_for_two_bidders(api: Any, manual_clock: Any) -> dict[str, Any]:
    """A sealed tender whose first two bidders submit and decrypt from one device, at near-identical prices."""
    operator = await f.operator_token(api)
    watching = await supervisor_phone(api, operator)
    elsewhere = await other_supervisor_phone(api, operator)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot = project["lots"][0]
    bidders = [await registered_bidder(api, operator, lot["id"]) for _ in range(3)]
    devices = ["phone-7f3a", "phone-7f3a", "phone-0c41"]
    prices = [1_250_000_000, 1_250_800_000, 1_120_000_000]
    keys = [new_key() for _ in bidders]
    for (_, token), device, price, key in zip(bidders, devices, prices, keys, strict=True):
        sealed = seal(key, lot["tradeCode"], price, {"商务标.pdf": device.encode() + str(price).encode()})
        body = await api.gql(
            SUBMIT, {"input": {"lotId": lot["id"], "sealedBid": sealed}}, token=token, headers={"X-Device-Id": device}
        )
        assert body["data"]["bidSubmit"]["__typename"] == "BidSubmitted", body
    await api.dispatch()
    manual_clock.advance(timedelta(days=25, seconds=1))
    await chronograph.fire_due()
    orgs = []
    for (phone, _), device, key in zip(bidders, devices, keys, strict=True):
        token = await f.login(api, phone)
        orgs.append((await api.gql(ORG, token=token))["data"]["me"]["organisation"]["id"])
        sent = await api.gql(
            DECRYPT, {"input": {"lotId": lot["id"], "key": key}}, token=token, headers={"X-Device-Id": device}
        )
        assert sent["data"]["bidDecrypt"]["__typename"] == "BidDecrypted", sent
    manual_clock.advance(timedelta(minutes=61))
    await chronograph.fire_due()
    await api.dispatch()
    await api.dispatch()
    return {
        "lot": lot,
        "orgs": orgs,
        "prices": prices,
        "bidders": bidders,
        "watching": watching,
        "elsewhere": elsewhere,
    }


async def test_two_bidders_on_one_phone_raise_an_alert_to_the_categorys_supervisor_only(api, manual_clock):
    # given a closed opening where two bidders used one phone and bid within 0.1% of each other
    seen = await opened_lot_with_one_phone_for_two_bidders(api, manual_clock)
    lot, orgs, prices = seen["lot"], seen["orgs"], seen["prices"]
    # when the supervisors of engineering construction and of government procurement look
    supervisor = await f.login(api, seen["watching"])
    other = await f.login(api, seen["elsewhere"])
    queue = (await api.gql(ALERTS, {"status": "NEW"}, token=supervisor))["data"]["collusionAlerts"]["edges"]
    others = (await api.gql(ALERTS, token=other))["data"]["collusionAlerts"]["edges"]
    inbox = (await api.gql(INBOX, token=supervisor))["data"]["myNotifications"]["edges"]
    other_inbox = (await api.gql(INBOX, token=other))["data"]["myNotifications"]["edges"]
    bidder = await f.login(api, seen["bidders"][2][0])
    refused = await api.gql(ALERTS, token=bidder, expect_errors=True)
    # then the right supervisor has an alert for one device, with the two bidders and their prices as evidence
    alerts = {a["node"]["signal"]: a["node"] for a in queue}
    assert "SAME_DEVICE" in alerts, alerts
    device = alerts["SAME_DEVICE"]
    assert device["lotId"] == lot["id"]
    assert device["category"] == "engineering_construction"
    assert sorted(o["id"] for o in device["organisations"]) == sorted(orgs[:2])
    (finding,) = json.loads(device["evidenceJson"])
    assert finding["device_id"] == "phone-7f3a"
    assert sorted(finding["pricesFen"].values()) == prices[:2]
    assert {act["action"] for act in finding["acts"]} == {"sealed_bid.submit", "opening.decrypt"}
    assert (prices[1] - prices[0]) / prices[1] < 0.001
    kinds = [n["node"]["kind"] for n in inbox]
    assert "COLLUSION_ALERT" in kinds
    notice = next(n["node"] for n in inbox if n["node"]["kind"] == "COLLUSION_ALERT")
    assert lot["tradeCode"] in notice["body"]
    # and not the other category's supervisor, nor a bidder
    assert others == []
    assert "COLLUSION_ALERT" not in [n["node"]["kind"] for n in other_inbox]
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # when the supervisor takes it up, then refers it; a dismissal after that is refused
    step = {
        "alertId": device["id"],
        "status": "INVESTIGATING",
        "note": "调取两家投标人的设备登记信息",
        "idempotencyKey": "a-1",
    }
    taken = (await api.gql(UPDATE, {"input": step}, token=supervisor))["data"]["collusionAlertUpdate"]
    replay = (await api.gql(UPDATE, {"input": step}, token=supervisor))["data"]["collusionAlertUpdate"]
    referred = {"alertId": device["id"], "status": "REFERRED", "note": "移送公安机关"}
    done = (await api.gql(UPDATE, {"input": referred}, token=supervisor))["data"]["collusionAlertUpdate"]
    late = {"alertId": device["id"], "status": "DISMISSED", "note": "撤销"}
    refused_move = (await api.gql(UPDATE, {"input": late}, token=supervisor))["data"]["collusionAlertUpdate"]
    foreign = (await api.gql(UPDATE, {"input": referred}, token=other))["data"]["collusionAlertUpdate"]
    # then
    assert taken["alert"]["status"] == "INVESTIGATING"
    assert replay == taken
    assert done["alert"]["history"] == [{"note": "调取两家投标人的设备登记信息"}, {"note": "移送公安机关"}]
    assert refused_move["code"] == "ALERT_TRANSITION_NOT_ALLOWED"
    assert foreign["code"] == "NOT_FOUND"
