"""Objections, complaints and suspensions through the services, with a manual clock: windows and
deadlines, refusals that change nothing, a suspension blocking every move, overdue flags once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.common import calendar, chronograph
from domain.common.actors import SYSTEM, Role
from domain.common.clock import SHANGHAI, to_shanghai
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied
from domain.common.models import OutboxEvent
from domain.complaints import complaints, errors, objections, suspension
from domain.complaints.models import Complaint, LotSuspension, Objection
from domain.complaints.shared import Evidence
from domain.credit.models import CreditRecord
from domain.publication import announcements, projects
from domain.publication.errors import LotSuspended
from domain.publication.models import Announcement, Lot
from domain.publication.states import LotStatus
from domain.results import services as results
from domain.tendering import opening
from domain.tendering.models import Opening
from mobile_contract.sealed_bid import new_key, seal
from tests.domain.factories import organisation
from tests.support import commitments as committed
from tests.support.complaints import evidence, interested_party, supervisor
from tests.support.tendering import person, published_tender


def _today(clock) -> date:
    return to_shanghai(clock.now()).date()


async def _events(kind: str) -> int:
    return await OutboxEvent.filter(type=kind, outcome="success").count()


async def test_an_objection_to_the_documents_is_due_10_days_before_the_deadline_and_answered_in_3(db, manual_clock):
    # given an open tender with bids due in 21 days and an interested bidder
    tender = await published_tender()
    bidder = await interested_party()

    # when it objects to the documents now, with evidence
    made = await objections.raise_objection(bidder, tender.lot.id, "documents", "资格条件排斥潜在投标人", evidence())

    # then the tenderer must answer by 24:00 of the third day, and the award is paused meanwhile
    assert made.status == "pending"
    assert made.answer_due_at == calendar.end_of(_today(manual_clock) + timedelta(days=3))
    assert made.evidence[0]["sha256"] == evidence()[0].sha256
    pause = await results.pause_of(tender.lot.id)
    assert pause is not None
    assert pause.reason == "objection_unanswered"

    # when the tenderer answers
    answered = await objections.answer_objection(tender.tenderer, made.id, "资格条件符合法律规定")
    # then nothing pauses the lot any more
    assert answered.status == "answered"
    assert await results.pause_of(tender.lot.id) is None

    # when another objection comes 9 days before the deadline, or from the tenderer itself, or with a bad hash
    manual_clock.advance(timedelta(days=12))
    with pytest.raises(errors.ObjectionWindowClosed):
        await objections.raise_objection(bidder, tender.lot.id, "documents", "太晚了", [])
    with pytest.raises(errors.NotAnInterestedParty):
        await objections.raise_objection(tender.tenderer, tender.lot.id, "publicity", "自己", [])
    bad = [Evidence(name="a.pdf", size=1, sha256="not-a-hash")]
    with pytest.raises(InvalidInput) as err:
        await objections.raise_objection(bidder, tender.lot.id, "documents", "格式", bad)
    # then each is refused and nothing was added
    assert err.value.field == "evidence.0.sha256"
    assert await Objection.all().count() == 1


async def test_an_unanswered_objection_is_flagged_overdue_to_the_supervisor_once(db, manual_clock):
    # given a pending objection
    tender = await published_tender()
    made = await objections.raise_objection(await interested_party(), tender.lot.id, "documents", "理由", [])

    # when the chronograph runs before and after the answer is due, twice after
    await chronograph.fire_due(made.answer_due_at - timedelta(seconds=1))
    assert (await Objection.get(id=made.id)).status == "pending"
    manual_clock.set(made.answer_due_at + timedelta(seconds=1))
    await chronograph.fire_due()
    await chronograph.fire_due()

    # then it is overdue, flagged once to the supervisors, listed for them, and still pauses the award
    current = await Objection.get(id=made.id)
    assert current.status == "overdue"
    assert current.overdue_at is not None
    assert current.next_check_at is None
    assert await _events("objection.overdue") == 1
    event = await OutboxEvent.get(type="objection.overdue")
    assert "supervisor" in event.audience["roles"]
    assert event.payload["category"] == "engineering_construction"
    watcher = await supervisor()
    assert [o.id for o in await objections.overdue_objections(watcher)] == [made.id]
    assert [o.id for o in await objections.overdue_objections(await supervisor("government_procurement"))] == []
    assert (await results.pause_of(tender.lot.id)).reason == "objection_unanswered"

    # and a late answer is still taken
    assert (await objections.answer_objection(tender.tenderer, made.id, "迟复")).status == "answered"


async def test_a_complaint_needs_its_objection_first_and_comes_within_10_days(db, manual_clock):
    # given a tender published on 30 September 2026 and a bidder that knew of the problem that day
    manual_clock.set(datetime(2026, 9, 30, 10, 0, tzinfo=SHANGHAI).astimezone(UTC))
    tender = await published_tender()
    bidder = await interested_party()
    knew = _today(manual_clock)

    # when it complains about the documents without objecting first
    with pytest.raises(errors.ObjectionRequired) as refused:
        await complaints.file_complaint(bidder, tender.lot.id, "documents", knew, "排斥", "修改招标文件", [])
    # then it is told to object first, and nothing is filed
    assert refused.value.code == "OBJECTION_REQUIRED"
    assert "异议" in refused.value.message("zh")
    assert await Complaint.all().count() == 0

    # when it objects, the objection is still pending, and it complains
    objection = await objections.raise_objection(bidder, tender.lot.id, "documents", "排斥", evidence())
    with pytest.raises(errors.ObjectionRequired):
        await complaints.file_complaint(bidder, tender.lot.id, "documents", knew, "排斥", "修改招标文件", [])
    # when the tenderer answered and it complains again
    await objections.answer_objection(tender.tenderer, objection.id, "不予修改")
    filed = await complaints.file_complaint(bidder, tender.lot.id, "documents", knew, "排斥", "修改招标文件", [])
    # then the complaint is filed, to be accepted by the third working day after National Day (Sat 10 Oct)
    assert filed.status == "submitted"
    assert filed.objection_id == objection.id
    assert filed.accept_due_at == datetime(2026, 10, 11, 0, 0, tzinfo=SHANGHAI)
    assert filed.category == "engineering_construction"

    # when a complaint on "other" needs no objection, but comes 11 days after knowing
    manual_clock.advance(timedelta(days=11))
    with pytest.raises(errors.ComplaintTooLate) as late:
        await complaints.file_complaint(bidder, tender.lot.id, "other", knew, "定标", "重新定标", [])
    assert late.value.params["deadline"] == calendar.end_of(knew + timedelta(days=10))
    # and a day in the future or before the tender was published is not a day one knew on
    for day in (_today(manual_clock) + timedelta(days=1), knew - timedelta(days=1)):
        with pytest.raises(InvalidInput):
            await complaints.file_complaint(bidder, tender.lot.id, "other", day, "定标", "重新定标", [])
    assert await Complaint.all().count() == 1


async def test_a_suspended_lot_cannot_move_until_the_suspension_is_lifted(db, manual_clock):
    # given an accepted complaint about a tender whose bids are due
    tender = await published_tender()
    bidder = await interested_party()
    watcher = await supervisor()
    filed = await complaints.file_complaint(bidder, tender.lot.id, "other", _today(manual_clock), "串标", "调查", [])
    with pytest.raises(PermissionDenied):  # the complainant sees its case but cannot handle it
        await complaints.accept_complaint(bidder, filed.id)
    with pytest.raises(NotFound):  # a supervisor of another category does not see it
        await complaints.accept_complaint(await supervisor("government_procurement"), filed.id)
    with pytest.raises(InvalidTransition):  # not accepted yet: no suspension
        await suspension.suspend_lot(watcher, filed.id, "调查串标")
    accepted = await complaints.accept_complaint(watcher, filed.id)
    assert accepted.decide_due_at == (await calendar.current()).add_working_days(accepted.accepted_at, 30)

    # when the supervisor suspends the lot
    await suspension.suspend_lot(watcher, filed.id, "调查串标")
    with pytest.raises(errors.LotAlreadySuspended):
        await suspension.suspend_lot(watcher, filed.id, "再次")

    # then no announcement moves it, move_lot refuses, the award is paused
    draft = await announcements.draft_announcement(
        tender.tenderer,
        announcements.AnnouncementForm(
            project_id=tender.project.id,
            lot_id=tender.lot.id,
            type="termination",
            title="终止",
            body_html="<p>终止</p>",
        ),
    )
    with pytest.raises(LotSuspended) as err:
        await announcements.publish_announcement(tender.tenderer, draft.id)
    assert err.value.code == "LOT_SUSPENDED"
    with pytest.raises(LotSuspended):
        await projects.move_lot(SYSTEM, tender.lot.id, {LotStatus.OPEN}, LotStatus.FAILED)
    assert (await results.pause_of(tender.lot.id)).reason == "lot_suspended"
    # and the chronograph's opening at the deadline is held back (parked until the suspension is lifted)
    manual_clock.set(datetime.fromisoformat(tender.lot.config["bid_deadline"]) + timedelta(seconds=1))
    await chronograph.fire_due()
    assert (await Lot.get(id=tender.lot.id)).status == "open"
    parked = await Opening.get(lot_id=tender.lot.id)
    assert parked.status == "scheduled"
    assert parked.next_check_at is None

    # when the suspension is lifted
    await suspension.lift_suspension(watcher, filed.id)
    await chronograph.fire_due()
    # then the lot moves again (too few bids: it fails)
    assert (await Lot.get(id=tender.lot.id)).status == "failed"
    assert await LotSuspension.filter(lifted_at__isnull=True).count() == 0


async def test_the_decision_is_published_and_a_malicious_complaint_costs_credit(db, manual_clock):
    # given an accepted complaint
    tender = await published_tender()
    bidder = await interested_party()
    watcher = await supervisor()
    filed = await complaints.file_complaint(bidder, tender.lot.id, "other", _today(manual_clock), "捏造", "废标", [])
    await complaints.accept_complaint(watcher, filed.id)

    # when the supervisor dismisses it as malicious
    decided = await complaints.decide_complaint(watcher, filed.id, "dismissed", "投诉事项缺乏事实根据", malicious=True)

    # then the decision is a published announcement of the lot that moved nothing
    ann = await Announcement.get(id=decided.announcement_id)
    assert (ann.type, ann.status, ann.lot_id) == ("complaint_decision", "published", tender.lot.id)
    assert "驳回投诉" in ann.body_text
    assert (await Lot.get(id=tender.lot.id)).status == "open"
    # and both parties are told, and the complainant has a bad credit record
    event = await OutboxEvent.get(type="complaint.decided")
    assert set(event.audience["orgs"]) == {bidder.org_id, tender.project.tenderer_id}
    assert await CreditRecord.filter(organisation_id=bidder.org_id, kind="bad").count() == 1
    # and it is decided once
    with pytest.raises(InvalidTransition):
        await complaints.decide_complaint(watcher, filed.id, "upheld", "再决定")


async def test_late_acceptance_and_late_decision_are_each_flagged_once(db, manual_clock):
    # given a complaint filed on a Monday
    manual_clock.set(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI).astimezone(UTC))
    tender = await published_tender()
    watcher = await supervisor()
    filed = await complaints.file_complaint(
        await interested_party(), tender.lot.id, "other", _today(manual_clock), "理由", "请求", []
    )
    assert filed.accept_due_at == datetime(2026, 11, 6, 0, 0, tzinfo=SHANGHAI)  # end of Thursday

    # when nobody accepts it by then, and the chronograph runs twice
    manual_clock.set(filed.accept_due_at + timedelta(minutes=1))
    await chronograph.fire_due()
    await chronograph.fire_due()
    # then it is flagged once and listed as overdue
    assert await _events("complaint.overdue") == 1
    assert [c.id for c in await complaints.overdue_complaints(watcher)] == [filed.id]

    # when it is accepted late and then not decided in 30 working days
    accepted = await complaints.accept_complaint(watcher, filed.id)
    assert accepted.overdue_at is None
    assert await complaints.overdue_complaints(watcher) == []
    manual_clock.set(accepted.decide_due_at + timedelta(minutes=1))
    await chronograph.fire_due()
    await chronograph.fire_due()
    # then the decision is flagged overdue once too
    flagged = await OutboxEvent.filter(type="complaint.overdue").order_by("id")
    assert [e.payload["stage"] for e in flagged] == ["accept", "decide"]
    assert [c.id for c in await complaints.overdue_complaints(watcher)] == [filed.id]


async def test_an_opening_held_past_its_deadline_by_a_suspension_gets_its_whole_window_after_the_lift(db, manual_clock):
    # given three sealed bids and a complaint that suspends the lot before its deadline
    tender = await published_tender()
    bidders = []
    for price in (800_000_00, 700_000_00, 750_000_00):
        org = await organisation(kinds=["bidder"])
        actor, key = person(org, Role.BIDDER), new_key()
        await committed.register(actor, tender.lot.id)
        await committed.submit(actor, tender.lot.id, seal(key, tender.lot.trade_code, price, {"a.pdf": b"x"}))
        bidders.append((actor, key))
    watcher = await supervisor()
    filed = await complaints.file_complaint(
        await interested_party(), tender.lot.id, "other", _today(manual_clock), "串标", "调查", []
    )
    await complaints.accept_complaint(watcher, filed.id)
    await suspension.suspend_lot(watcher, filed.id, "调查串标")

    # when the deadline passes two hours into the suspension
    deadline = datetime.fromisoformat(tender.lot.config["bid_deadline"])
    manual_clock.set(deadline + timedelta(hours=2))
    await chronograph.fire_due()
    # then nothing opened and no key is taken
    assert (await Opening.get(lot_id=tender.lot.id)).status == "scheduled"
    with pytest.raises(LotSuspended):
        await opening.submit_key(bidders[0][0], tender.lot.id, bidders[0][1])

    # when the supervisor lifts it
    await suspension.lift_suspension(watcher, filed.id)
    lifted = manual_clock.now()
    await chronograph.fire_due()
    # then the opening starts now, with its whole decryption window, and keys are taken
    started = await Opening.get(lot_id=tender.lot.id)
    window = timedelta(minutes=int(tender.lot.config["decryption_window_minutes"]))
    assert started.status == "decrypting"
    assert started.started_at == lifted
    assert started.window_ends_at == lifted + window
    decrypted = await opening.submit_key(bidders[0][0], tender.lot.id, bidders[0][1])
    assert decrypted.price_fen == 800_000_00

    # and a suspension during the window extends it by the time it lasted
    refiled = await complaints.file_complaint(
        await interested_party(), tender.lot.id, "other", _today(manual_clock), "再查", "调查", []
    )
    await complaints.accept_complaint(watcher, refiled.id)
    manual_clock.advance(minutes=10)
    await suspension.suspend_lot(watcher, refiled.id, "再查")
    manual_clock.advance(minutes=30)
    await suspension.lift_suspension(watcher, refiled.id)
    assert (await Opening.get(lot_id=tender.lot.id)).window_ends_at == lifted + window + timedelta(minutes=30)
