"""Complaint notices in the inboxes, over HTTP: a complaint reaches the supervisor of the lot's category and
not another category's; its acceptance and the lot's suspension reach the complainant and the tenderer,
in the language each asks for."""

from __future__ import annotations

from typing import Any

from tests import factories as f
from tests.scenarios.test_complaints import gql
from tests.scenarios.test_deposits import supervisor_phone
from tests.scenarios.test_results import today
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.support.complaints import COMPLAINT_ACCEPT, COMPLAINT_FILE, COMPLAINT_SUSPEND, evidence_input

INBOX = "query { myNotifications(first: 20) { edges { node { kind title body objectType } } } }"


async def inbox(api: Any, token: str, language: str = "zh-CN") -> list[dict[str, Any]]:
    """The caller's notices, but for the approval of its organisation."""
    body = await api.gql(INBOX, token=token, headers={"accept-language": language})
    return [e["node"] for e in body["data"]["myNotifications"]["edges"] if e["node"]["kind"] != "ENTITY_REVIEWED"]


async def test_a_complaint_and_the_suspension_it_brings_reach_the_right_inboxes(api, manual_clock):
    # given an open tender, a registered bidder, a supervisor of its category and one of another category
    operator = await f.operator_token(api)
    watching = await supervisor_phone(api, operator)
    form = f.registration(kinds=["SUPERVISOR"], supervisedCategories=["GOVERNMENT_PROCUREMENT"])
    body = await api.gql(f.REGISTER, {"input": form}, token=operator)
    org_id = body["data"]["organisationRegister"]["organisation"]["id"]
    await api.gql(f.APPROVE, {"input": {"organisationId": org_id}}, token=operator)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    _, bidder = await registered_bidder(api, operator, lot_id)

    # when the bidder complains about a matter that needs no objection first
    complaint = {
        "lotId": lot_id,
        "subject": "OTHER",
        "knewOn": today(manual_clock),
        "reasons": "招标人与某投标人存在利害关系",
        "requests": "暂停招标并调查",
        "evidence": evidence_input(),
    }
    filed = await gql(api, COMPLAINT_FILE, "complaintFile", bidder, input=complaint)
    assert filed["__typename"] == "ComplaintFiled", filed
    await api.dispatch()
    # then the supervisor of engineering construction is asked to accept it; the other one hears nothing
    supervisor = await f.login(api, watching)
    [asked] = await inbox(api, supervisor)
    assert asked["kind"] == "COMPLAINT"
    assert asked["title"] == "收到投诉"
    assert code in asked["body"]
    assert await inbox(api, await f.login(api, str(form["phone"]))) == []

    # when the supervisor accepts it and suspends the lot
    complaint_id = filed["complaint"]["id"]
    accepted = await gql(api, COMPLAINT_ACCEPT, "complaintAccept", supervisor, input={"complaintId": complaint_id})
    assert accepted["__typename"] == "ComplaintUpdated", accepted
    suspend = {"complaintId": complaint_id, "reason": "投诉调查期间暂停"}
    suspended = await gql(api, COMPLAINT_SUSPEND, "complaintSuspendLot", supervisor, input=suspend)
    assert suspended["__typename"] == "LotSuspensionChanged", suspended
    await api.dispatch()

    # then the complainant reads both in Chinese, the tenderer in English
    mine = {n["kind"]: n for n in await inbox(api, bidder)}
    assert mine["COMPLAINT"]["title"] == "投诉已受理"
    assert mine["LOT_SUSPENSION"]["body"].endswith(f"（{code}）已被行政监督部门暂停：投诉调查期间暂停")
    theirs = {n["kind"]: n for n in await inbox(api, await f.login(api, tenderer_phone), "en")}
    assert theirs["COMPLAINT"]["title"] == "Complaint accepted"
    assert theirs["LOT_SUSPENSION"]["title"] == "Lot suspended"
    assert theirs["LOT_SUSPENSION"]["objectType"] == "Lot"
