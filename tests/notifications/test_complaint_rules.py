"""Who hears of objections, complaints, suspensions and reports: the tenderer of an objection, the objector
of its answer, the supervisors of the lot's category (never another category's) of what they must act on,
the parties of an accepted or decided complaint, the registered bidders of a suspension, the signed-in
reporter of its report; each in Chinese and English, times in Beijing time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.accounts.models import Organisation
from domain.common import chronograph
from domain.common.actors import Actor, Role
from domain.common.clock import SHANGHAI
from domain.common.models import OutboxEvent
from domain.complaints import complaints, objections, reports, suspension
from domain.notifications.services import NewNotification
from domain.publication.models import Project
from domain.registration import services as registration
from notifications.rules import notifications_for
from tests.domain.factories import organisation, user
from tests.support import commitments as committed
from tests.support.complaints import CATEGORY, evidence, interested_party, supervisor
from tests.support.tendering import Tender, published_tender

OTHER_CATEGORY = "government_procurement"
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)


async def users_of(*orgs: int) -> list[int]:
    """One active user per organisation, their ids."""
    return [(await user(await Organisation.get(id=org_id))).id for org_id in orgs]


async def watcher(category: str = CATEGORY) -> tuple[Actor, list[int]]:
    """A supervisor of the category, signed in, and the user its organisation's notices reach."""
    actor = await supervisor(category)
    assert actor.org_id is not None
    await Organisation.filter(id=actor.org_id).update(supervised_categories=[category])
    return actor, await users_of(actor.org_id)


async def party() -> tuple[Actor, list[int]]:
    actor = await interested_party()
    assert actor.org_id is not None
    return actor, await users_of(actor.org_id)


async def managed_tender() -> tuple[Tender, list[int]]:
    """A published tender with an agency; the users of its tenderer and agency."""
    tender = await published_tender()
    agency = await organisation(kinds=["agency"])
    await Project.filter(id=tender.project.id).update(agency_id=agency.id)
    return tender, await users_of(tender.project.tenderer_id, agency.id)


async def notices(kind: str) -> list[NewNotification]:
    return await notifications_for(list(await OutboxEvent.filter(type=kind).order_by("id")))


def recipients(made: list[NewNotification]) -> list[int]:
    return sorted(n.user_id for n in made)


async def test_an_objection_goes_to_the_tenderer_its_answer_to_the_objector_and_its_delay_to_the_category(
    db, manual_clock
):
    # given a tender with an agency, an objector, another bidder and supervisors of two categories
    manual_clock.set(MONDAY)
    tender, managers = await managed_tender()
    objector, objector_users = await party()
    _, bystander = await party()
    _, ours = await watcher()
    _, theirs = await watcher(OTHER_CATEGORY)
    code = tender.lot.trade_code

    # when the objector objects to the documents
    made = await objections.raise_objection(objector, tender.lot.id, "documents", "资格条件排斥潜在投标人", evidence())
    raised = await notices("objection.raised")
    # then the tenderer and its agency are told to answer by 24:00 of Thursday 5 November, Beijing time
    assert recipients(raised) == sorted(managers)
    assert {(n.kind, n.object_type, n.object_id, n.time_critical) for n in raised} == {
        ("objection", "Objection", str(made.id), False)
    }
    assert raised[0].title_zh == "收到异议"
    assert raised[0].body_zh == f"“第1标段”（{code}）收到对招标文件的异议，请于2026-11-06 00:00:00前答复。"
    assert raised[0].body_en == (
        f"An objection to the tender documents of “第1标段” ({code}) was raised. Answer it by 2026-11-06 00:00:00."
    )

    # when nobody answers in time
    manual_clock.set(made.answer_due_at + timedelta(seconds=1))
    await chronograph.fire_due()
    overdue = await notices("objection.overdue")
    # then the objector, the tenderer, the agency and the supervisors of engineering construction hear of it
    assert recipients(overdue) == sorted([*objector_users, *managers, *ours])
    assert not set(recipients(overdue)) & {*theirs, *bystander}
    assert {(n.kind, n.time_critical) for n in overdue} == {("objection_overdue", False)}
    assert overdue[0].title_zh == "异议逾期未答复"
    assert overdue[0].body_zh == f"“第1标段”（{code}）的招标文件异议逾期未答复（应于2026-11-06 00:00:00前答复）。"
    assert "was to be answered by 2026-11-06 00:00:00" in overdue[0].body_en

    # when the tenderer answers late
    await objections.answer_objection(tender.tenderer, made.id, "资格条件符合法律规定")
    answered = await notices("objection.answered")
    # then only the objector is told
    assert recipients(answered) == objector_users
    assert answered[0].title_zh == "异议已获答复"
    assert answered[0].body_zh == f"您对“第1标段”（{code}）提出的招标文件异议已获招标人答复。"
    assert answered[0].body_en == f"The tenderer answered your objection to the tender documents of “第1标段” ({code})."


async def test_a_complaint_reaches_the_category_supervisors_then_the_parties_and_a_refusal_the_complainant(
    db, manual_clock
):
    # given a tender, two complainants, a bystander and supervisors of two categories
    manual_clock.set(MONDAY)
    tender, managers = await managed_tender()
    complainant, complainant_users = await party()
    refused_one, refused_users = await party()
    _, bystander = await party()
    handler, ours = await watcher()
    _, theirs = await watcher(OTHER_CATEGORY)
    code = tender.lot.trade_code
    knew = MONDAY.astimezone(SHANGHAI).date()

    # when both complain about another matter
    filed = await complaints.file_complaint(complainant, tender.lot.id, "other", knew, "串通投标", "调查", [])
    other = await complaints.file_complaint(refused_one, tender.lot.id, "other", knew, "理由", "请求", [])
    made = await notices("complaint.filed")
    # then only the supervisors of the lot's category hear, once per complaint, to decide by Thursday's end
    assert recipients(made) == sorted(ours * 2)
    assert {(n.kind, n.object_type) for n in made} == {("complaint", "Complaint")}
    assert [n.object_id for n in made] == [str(filed.id), str(other.id)]
    assert made[0].title_zh == "收到投诉"
    assert made[0].body_zh == f"收到对“第1标段”（{code}）的投诉（其他事项），请于2026-11-06 00:00:00前决定是否受理。"
    assert made[0].body_en == (
        f"A complaint about “第1标段” ({code}) was filed (other matters). Accept or refuse it by 2026-11-06 00:00:00."
    )
    assert not set(recipients(made)) & {*theirs, *complainant_users, *managers}

    # when the supervisor accepts the first and refuses the second
    accepted = await complaints.accept_complaint(handler, filed.id)
    await complaints.refuse_complaint(handler, other.id, "投诉事项不属于本部门受理范围")
    told = await notices("complaint.accepted")
    refused = await notices("complaint.refused")
    # then the first complainant, the tenderer and the agency learn when the decision is due
    assert accepted.decide_due_at is not None
    due = accepted.decide_due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    assert recipients(told) == sorted([*complainant_users, *managers])
    assert told[0].title_zh == "投诉已受理"
    assert told[0].body_zh == f"对“第1标段”（{code}）的投诉已受理，将于{due}前作出处理决定。"
    assert told[0].body_en == f"The complaint about “第1标段” ({code}) was accepted; the decision is due by {due}."
    # and only the second complainant learns of the refusal, with the reason
    assert recipients(refused) == refused_users
    assert refused[0].title_zh == "投诉不予受理"
    assert refused[0].body_zh == f"您对“第1标段”（{code}）的投诉不予受理：投诉事项不属于本部门受理范围"
    assert refused[0].body_en.startswith(f"Your complaint about “第1标段” ({code}) was not accepted: ")

    # when the supervisor decides the accepted one
    decided = await complaints.decide_complaint(handler, filed.id, "partly_upheld", "部分事实成立")
    published = await notices("complaint.decided")
    # then its parties are pointed to the published decision
    assert recipients(published) == sorted([*complainant_users, *managers])
    assert not set(recipients(published)) & {*bystander, *refused_users, *ours, *theirs}
    assert {(n.object_type, n.object_id) for n in published} == {("Announcement", str(decided.announcement_id))}
    assert published[0].title_zh == "投诉处理决定已公布"
    assert published[0].body_zh == f"“第1标段”（{code}）投诉处理决定已公布：投诉部分成立。"
    assert published[0].body_en == (
        f"The decision on the complaint about “第1标段” ({code}) is published: complaint partly upheld."
    )


async def test_late_acceptance_and_late_decision_reach_only_the_supervisors_of_the_category(db, manual_clock):
    # given a complaint filed on a Monday, its parties, and supervisors of two categories
    manual_clock.set(MONDAY)
    tender, managers = await managed_tender()
    complainant, complainant_users = await party()
    handler, ours = await watcher()
    _, theirs = await watcher(OTHER_CATEGORY)
    code = tender.lot.trade_code
    filed = await complaints.file_complaint(
        complainant, tender.lot.id, "other", MONDAY.astimezone(SHANGHAI).date(), "理由", "请求", []
    )

    # when nobody accepts it in 3 working days, then it is accepted and not decided in 30
    manual_clock.set(filed.accept_due_at + timedelta(minutes=1))
    await chronograph.fire_due()
    accepted = await complaints.accept_complaint(handler, filed.id)
    assert accepted.decide_due_at is not None
    manual_clock.set(accepted.decide_due_at + timedelta(minutes=1))
    await chronograph.fire_due()
    late = await notices("complaint.overdue")

    # then each delay reaches the supervisors of engineering construction only, not time-critical
    assert recipients(late) == sorted(ours * 2)
    assert not set(recipients(late)) & {*theirs, *complainant_users, *managers}
    assert {(n.kind, n.time_critical) for n in late} == {("complaint_overdue", False)}
    due = accepted.decide_due_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    assert [(n.title_zh, n.body_zh) for n in late] == [
        ("投诉受理逾期", f"对“第1标段”（{code}）的投诉受理已逾期，应于2026-11-06 00:00:00前完成。"),
        ("投诉处理逾期", f"对“第1标段”（{code}）的投诉处理已逾期，应于{due}前完成。"),
    ]
    assert late[1].body_en == f"The decision on the complaint about “第1标段” ({code}) was due by {due}."


async def test_a_suspension_and_its_lifting_reach_the_registered_bidders_and_the_tenderer(db, manual_clock):
    # given a tender with two registered bidders (one withdrew), a bystander, and an accepted complaint
    tender, managers = await managed_tender()
    registered, registered_users = await party()
    withdrawn, withdrawn_users = await party()
    _, bystander = await party()
    handler, supervisors = await watcher()
    await committed.register(registered, tender.lot.id)
    await committed.register(withdrawn, tender.lot.id)
    await registration.withdraw(withdrawn, tender.lot.id)
    complainant, complainant_users = await party()
    today = manual_clock.now().astimezone(SHANGHAI).date()
    filed = await complaints.file_complaint(complainant, tender.lot.id, "other", today, "串标", "暂停", [])
    await complaints.accept_complaint(handler, filed.id)
    code = tender.lot.trade_code

    # when the supervisor suspends the lot and later lifts the suspension
    await suspension.suspend_lot(handler, filed.id, "调查串通投标")
    await suspension.lift_suspension(handler, filed.id)
    suspended = await notices("lot.suspended")
    lifted = await notices("lot.suspension_lifted")

    # then the registered bidder, the tenderer and the agency hear of both, nobody else
    for made in (suspended, lifted):
        assert recipients(made) == sorted([*registered_users, *managers])
        assert not set(recipients(made)) & {*withdrawn_users, *bystander, *supervisors, *complainant_users}
        assert {(n.kind, n.object_type, n.object_id) for n in made} == {("lot_suspension", "Lot", str(tender.lot.id))}
    assert suspended[0].title_zh == "标段已暂停"
    assert suspended[0].body_zh == f"“第1标段”（{code}）已被行政监督部门暂停：调查串通投标"
    assert suspended[0].body_en == f"“第1标段” ({code}) was suspended by the supervisory authority: 调查串通投标"
    assert lifted[0].title_zh == "标段已恢复"
    assert lifted[0].body_zh == f"“第1标段”（{code}）已恢复招标投标活动。"
    assert lifted[0].body_en == f"The suspension of “第1标段” ({code}) was lifted; tendering resumes."


async def test_a_report_status_reaches_its_signed_in_reporter_only(db, manual_clock):
    # given a report by a signed-in user and an anonymous one about the same lot
    tender = await published_tender()
    org = await organisation(kinds=["bidder"])
    reporter = await user(org)
    signed_in = Actor(user_id=reporter.id, org_id=org.id, roles=frozenset({Role.BIDDER}))
    handler, supervisors = await watcher()
    mine = await reports.file_report(signed_in, "疑似围标", [], lot_id=tender.lot.id)
    anonymous = await reports.file_report(Actor(), "匿名举报", [], lot_id=tender.lot.id)

    # when the supervisor investigates and closes both
    for filed in (mine, anonymous):
        await reports.investigate_report(handler, filed.report.id)
        await reports.close_report(handler, filed.report.id, "经查属实，已移交处理")
    made = await notices("report.status_changed")

    # then the signed-in reporter hears of each step of its own report, nobody hears of the anonymous one
    assert [n.user_id for n in made] == [reporter.id, reporter.id]
    assert not set(recipients(made)) & set(supervisors)
    assert {(n.kind, n.object_type, n.object_id) for n in made} == {("report_status", "Report", str(mine.report.id))}
    assert [(n.title_zh, n.body_zh) for n in made] == [
        ("举报状态已更新", "您的举报状态已更新为调查中。"),
        ("举报状态已更新", "您的举报状态已更新为已办结。"),
    ]
    assert [n.body_en for n in made] == ["Your report is now under investigation.", "Your report is now closed."]
