"""Objections, complaints and reports over HTTP: an objection during the publicity pauses the award until
answered; a complaint is accepted (working days across New Year's Day), suspends the lot, is upheld and
published; a late complaint and one without its objection are refused; an anonymous report is followed
by its tracking code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.common import calendar, chronograph
from domain.common.clock import SHANGHAI
from domain.common.models import CalendarDay
from tests import factories as f
from tests.scenarios.test_deposits import operator_phone, supervisor_phone
from tests.scenarios.test_opening import LOT
from tests.scenarios.test_results import AWARD, PRICES, PUBLISH, bid, opened, today
from tests.scenarios.test_sealed_bids import registered_bidder, sealed_lot
from tests.support.complaints import (
    COMPLAINT,
    COMPLAINT_ACCEPT,
    COMPLAINT_DECIDE,
    COMPLAINT_FILE,
    COMPLAINT_LIFT,
    COMPLAINT_SUSPEND,
    OBJECTION_ANSWER,
    OBJECTION_RAISE,
    REPORT_CLOSE,
    REPORT_FILE,
    REPORT_INVESTIGATE,
    REPORT_STATUS,
    SUPERVISED_REPORTS,
    evidence_input,
)

PUBLIC_ANNOUNCEMENT = """query($id: ID!) { node(id: $id) { ... on Announcement { type typeName title bodyHtml } } }"""
SUSPENSION = """query($lotId: ID!) { lotSuspension(lotId: $lotId) { reason liftedAt } }"""


async def status_of(api: Any, lot_id: str) -> str:
    return str((await api.gql(LOT, {"id": lot_id}))["data"]["node"]["status"])


async def gql(api: Any, doc: str, field: str, token: str | None = None, **variables: Any) -> dict[str, Any]:
    body = await api.gql(doc, variables, token=token)
    return body["data"][field]  # type: ignore[no-any-return]


async def test_an_objection_during_the_publicity_pauses_the_award_until_it_is_answered(api, manual_clock):
    # given a lot whose candidates are publicised, and its bidders
    operator = await f.operator_token(api)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot_id, code = project["lots"][0]["id"], project["lots"][0]["tradeCode"]
    phones = []
    for price in PRICES[:3]:
        phone, token = await registered_bidder(api, operator, lot_id)
        await bid(api, token, lot_id, code, price)
        phones.append(phone)
    await opened(api, manual_clock, lot_id, phones)
    tenderer = await f.login(api, tenderer_phone)
    published = await gql(api, PUBLISH, "candidatesPublish", tenderer, input={"lotId": lot_id})
    assert published["__typename"] == "CandidatesPublished", published

    # when the third bidder objects to the candidates during the publicity, with evidence (and retries)
    third = await f.login(api, phones[2])
    form = {
        "lotId": lot_id,
        "stage": "PUBLICITY",
        "reasons": "第一中标候选人业绩造假",
        "evidence": evidence_input("业绩证明.pdf"),
        "idempotencyKey": "obj-1",
    }
    raised = await gql(api, OBJECTION_RAISE, "objectionRaise", third, input=form)
    again = await gql(api, OBJECTION_RAISE, "objectionRaise", third, input=form)
    # then the tenderer has 3 days to answer, once
    assert raised["__typename"] == "ObjectionRaised", raised
    assert again == raised
    assert raised["objection"]["status"] == "PENDING"

    # when the publicity is over and the tenderer awards
    manual_clock.advance(timedelta(days=3, seconds=1))
    tenderer = await f.login(api, tenderer_phone)
    paused = await gql(api, AWARD, "resultAward", tenderer, input={"lotId": lot_id})
    # then the award is paused by the objection and nothing moved
    assert paused["__typename"] == "LotPaused", paused
    assert paused["reason"] == "objection_unanswered"
    assert await status_of(api, lot_id) == "PUBLICITY"

    # when the tenderer answers and awards again
    answer = {"objectionId": raised["objection"]["id"], "answer": "经核查，业绩真实有效"}
    answered = await gql(api, OBJECTION_ANSWER, "objectionAnswer", tenderer, input=answer)
    awarded = await gql(api, AWARD, "resultAward", tenderer, input={"lotId": lot_id})
    # then the lot is awarded
    assert answered["objection"]["status"] == "ANSWERED"
    assert awarded["__typename"] == "LotAwarded", awarded
    assert await status_of(api, lot_id) == "AWARDED"


async def test_a_complaint_is_accepted_suspends_the_lot_is_upheld_and_published(api, manual_clock):
    # given a tender published on Thursday 31 December 2026, New Year's Day 2027 set as a holiday by the
    # operators (the shipped schedule covers 2026), a bidder and the supervisor of the lot's category
    manual_clock.set(datetime(2026, 12, 31, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    await CalendarDay.create(day=date(2027, 1, 1), working=False, name="元旦", set_by=None, set_at=manual_clock.now())
    operator_at = await operator_phone()
    operator = await f.login(api, operator_at)
    supervisor_at = await supervisor_phone(api, operator)
    project, _, tenderer_phone = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    bidder_phone, bidder = await registered_bidder(api, operator, lot_id)

    # when the bidder complains about something that needs no objection first
    form = {
        "lotId": lot_id,
        "subject": "OTHER",
        "knewOn": today(manual_clock),
        "reasons": "招标人与某投标人存在利害关系",
        "requests": "暂停招标并调查",
        "evidence": evidence_input(),
        "idempotencyKey": "c-1",
    }
    filed = await gql(api, COMPLAINT_FILE, "complaintFile", bidder, input=form)
    # then it must be accepted by the third working day after the holiday and the weekend: Wednesday 6 January
    assert filed["__typename"] == "ComplaintFiled", filed
    complaint_id = filed["complaint"]["id"]
    assert datetime.fromisoformat(filed["complaint"]["acceptDueAt"]) == datetime(2027, 1, 7, tzinfo=SHANGHAI)

    # when the supervisor accepts it on Tuesday 5 January and suspends the lot
    manual_clock.set(datetime(2027, 1, 5, 9, 0, tzinfo=SHANGHAI).astimezone(UTC))
    supervisor = await f.login(api, supervisor_at)
    accepted = await gql(api, COMPLAINT_ACCEPT, "complaintAccept", supervisor, input={"complaintId": complaint_id})
    suspend = {"complaintId": complaint_id, "reason": "投诉调查期间暂停"}
    suspended = await gql(api, COMPLAINT_SUSPEND, "complaintSuspendLot", supervisor, input=suspend)
    # then the decision is due in 30 working days, and anyone sees the lot is suspended
    assert accepted["__typename"] == "ComplaintUpdated", accepted
    assert accepted["complaint"]["status"] == "ACCEPTED"
    expected = (await calendar.current()).add_working_days(manual_clock.now(), 30)
    assert datetime.fromisoformat(accepted["complaint"]["decideDueAt"]) == expected
    assert suspended["__typename"] == "LotSuspensionChanged", suspended
    assert (await gql(api, SUSPENSION, "lotSuspension", lotId=lot_id))["reason"] == "投诉调查期间暂停"

    # when the bid deadline passes while the lot is suspended
    manual_clock.set(datetime(2027, 1, 26, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    await chronograph.fire_due()
    # then the lot did not move
    assert await status_of(api, lot_id) == "OPEN"

    # when the supervisor upholds the complaint
    supervisor = await f.login(api, supervisor_at)
    decide = {"complaintId": complaint_id, "decision": "UPHELD", "reasons": "招标人与投标人存在控股关系，投诉成立"}
    decided = await gql(api, COMPLAINT_DECIDE, "complaintDecide", supervisor, input=decide)
    await api.dispatch()
    # then the decision is published for anyone, and both parties see the case; the public does not
    assert decided["__typename"] == "ComplaintUpdated", decided
    assert decided["complaint"]["decision"] == "UPHELD"
    public = await gql(api, PUBLIC_ANNOUNCEMENT, "node", id=decided["complaint"]["announcementId"])
    assert public["type"] == "COMPLAINT_DECISION"
    assert public["typeName"] == "投诉处理决定公告"
    assert "投诉成立" in public["bodyHtml"]
    tenderer = await f.login(api, tenderer_phone)
    bidder = await f.login(api, bidder_phone)
    for token in (tenderer, bidder, supervisor):
        assert (await gql(api, COMPLAINT, "complaint", token, id=complaint_id))["status"] == "DECIDED"
    stranger = (await f.approved_org(api, await f.login(api, operator_at)))[2]
    assert (await gql(api, COMPLAINT, "complaint", stranger, id=complaint_id)) is None

    # when the suspension is lifted
    lifted = await gql(api, COMPLAINT_LIFT, "complaintLiftSuspension", supervisor, input={"complaintId": complaint_id})
    await chronograph.fire_due()
    # then the lot moves on (one bid at the deadline: it fails)
    assert lifted["suspension"]["liftedAt"]
    assert await gql(api, SUSPENSION, "lotSuspension", lotId=lot_id) is None
    assert await status_of(api, lot_id) == "FAILED"


async def test_a_late_complaint_and_one_without_its_objection_are_refused(api, manual_clock):
    # given an open tender and a bidder that knew of a problem today
    operator = await f.operator_token(api)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]
    phone, bidder = await registered_bidder(api, operator, lot_id)
    knew = today(manual_clock)
    form = {"lotId": lot_id, "knewOn": knew, "reasons": "评分标准倾向特定品牌", "requests": "修改招标文件"}

    # when it complains about the documents without objecting to the tenderer first
    missing = await gql(api, COMPLAINT_FILE, "complaintFile", bidder, input={**form, "subject": "DOCUMENTS"})
    # then it is told that an objection must come first
    assert missing["__typename"] == "ObjectionRequired", missing
    assert missing["code"] == "OBJECTION_REQUIRED"
    assert missing["subject"] == "documents"
    assert "异议" in missing["message"]

    # when it complains 11 days after it knew
    manual_clock.advance(timedelta(days=11))
    bidder = await f.login(api, phone)
    late = await gql(api, COMPLAINT_FILE, "complaintFile", bidder, input={**form, "subject": "OTHER"})
    # then it is too late, and the period's end is given
    assert late["__typename"] == "ComplaintTooLate", late
    assert late["days"] == 10
    assert datetime.fromisoformat(late["deadline"]).astimezone(SHANGHAI).date().isoformat() > knew
    assert (await gql(api, "query { myComplaints { edges { node { id } } } }", "myComplaints", bidder))["edges"] == []


async def test_an_anonymous_report_is_followed_by_its_tracking_code(api, manual_clock):
    # given an open tender and the supervisor of its category
    operator = await f.operator_token(api)
    supervisor_at = await supervisor_phone(api, operator)
    project, _, _ = await sealed_lot(api, manual_clock, operator)
    lot_id = project["lots"][0]["id"]

    # when someone reports without signing in
    form = {"lotId": lot_id, "text": "有投标人借用资质投标", "evidence": evidence_input("照片.jpg")}
    filed = await gql(api, REPORT_FILE, "reportFile", input=form)
    # then it gets a tracking code once, and follows the report with it
    assert filed["__typename"] == "ReportFiled", filed
    code = filed["trackingCode"]
    assert code.startswith("JB")
    assert (await gql(api, REPORT_STATUS, "reportStatus", code=code))["status"] == "RECEIVED"
    assert await gql(api, REPORT_STATUS, "reportStatus", code="JB0000000000000000") is None

    # when the supervisor investigates and closes it
    supervisor = await f.login(api, supervisor_at)
    [edge] = (await gql(api, SUPERVISED_REPORTS, "supervisedReports", supervisor))["edges"]
    assert edge["node"]["anonymous"] is True
    report_id = edge["node"]["id"]
    investigating = await gql(api, REPORT_INVESTIGATE, "reportInvestigate", supervisor, input={"reportId": report_id})
    assert investigating["report"]["status"] == "INVESTIGATING"
    assert (await gql(api, REPORT_STATUS, "reportStatus", code=code))["status"] == "INVESTIGATING"
    closing = {"reportId": report_id, "outcome": "经查属实，已移交处理"}
    closed = await gql(api, REPORT_CLOSE, "reportClose", supervisor, input=closing)
    # then the reporter reads the outcome with its code
    assert closed["report"]["status"] == "CLOSED"
    progress = await gql(api, REPORT_STATUS, "reportStatus", code=code)
    assert (progress["status"], progress["outcome"]) == ("CLOSED", "经查属实，已移交处理")
