"""Complaints (投诉) to the supervisor.

A complaint goes to the supervisors of the lot's category within complaint_window_days of the day the
complainant knew or should have known; on the documents, the opening or the candidates only after an
objection on the same subject by the same organisation was answered or went overdue (招标投标法实施条例
第六十条). The supervisor accepts or refuses it within 3 working days and decides within 30 working days
of acceptance (working days from the calendar); the chronograph flags each deadline overdue once. Once
it is accepted the supervisor may suspend the lot (domain/complaints/suspension). The decision (upheld,
partly upheld, dismissed) is published as a complaint_decision announcement of the lot; a malicious or
false complaint may add a bad credit record to the complainant.
"""

from __future__ import annotations

import html
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.accounts.models import Organisation
from domain.certificates import acts
from domain.certificates import signatures as act_signatures
from domain.certificates.errors import SIGNATURE_ERRORS
from domain.certificates.signatures import Signed
from domain.common import calendar, clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.complaints.errors import ComplaintTooLate, NotAnInterestedParty, ObjectionRequired
from domain.complaints.events import (
    ComplaintAccepted,
    ComplaintDecided,
    ComplaintFiled,
    ComplaintOverdue,
    ComplaintRefused,
    ComplaintWithdrawn,
)
from domain.complaints.models import Complaint, Objection
from domain.complaints.objections import answer_due
from domain.complaints.shared import (
    MAX_TEXT,
    Evidence,
    checked_evidence,
    keeper_roles,
    managers,
    party,
    public_lot,
    record_once,
    supervises,
    today,
)
from domain.complaints.states import (
    COMPLAINT,
    DECISION_ZH,
    OBJECTION_FIRST,
    OPEN_COMPLAINT,
    SUBJECT_ZH,
    ComplaintStatus,
    ComplaintSubject,
    Decision,
    ObjectionStage,
    ObjectionStatus,
)
from domain.credit import services as credit
from domain.publication.announcements import announce
from domain.publication.models import Lot, Project
from domain.publication.states import AnnouncementType
from domain.tendering.models import Opening, OpeningObjection

# 工程建设项目招标投标活动投诉处理办法 第十一条 / 第二十一条: 3 working days to accept, 30 to decide
ACCEPT_WORKING_DAYS = 3
DECIDE_WORKING_DAYS = 30
_OVERDUE_STAGE = {"flag_accept_overdue": "accept", "flag_decide_overdue": "decide"}  # ComplaintOverdue.stage


async def _prior_objection(subject: ComplaintSubject, lot: Lot, org_id: int, now: datetime) -> int | None:
    """The objection on the same subject by the same organisation, answered or overdue (its id; 0 for
    an on-the-spot objection of the opening record); ObjectionRequired when there is none."""
    stage = OBJECTION_FIRST[subject]
    found = (
        await Objection.filter(
            lot_id=lot.id,
            organisation_id=org_id,
            stage=stage.value,
            status__in=[ObjectionStatus.ANSWERED.value, ObjectionStatus.OVERDUE.value],
        )
        .order_by("id")
        .first()
    )
    if found is not None:
        return int(found.id)
    if stage is ObjectionStage.OPENING:
        opening = await Opening.get_or_none(lot_id=lot.id)
        if opening is not None:
            days = int(lot.config.get("objection_answer_days", 3))
            for spot in await OpeningObjection.filter(opening_id=opening.id, organisation_id=org_id):
                if spot.answered_at is not None or answer_due(spot.raised_at, days) <= now:
                    return None
    raise ObjectionRequired(subject=subject.value, subject_zh=SUBJECT_ZH[subject])


@raises(ComplaintTooLate, ObjectionRequired, NotAnInterestedParty, *SIGNATURE_ERRORS)
@use_case("complaint.file", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def file_complaint(
    actor: Actor,
    lot_id: int,
    subject: str,
    knew_on: date,
    reasons: str,
    requests: str,
    evidence: list[Evidence],
    idempotency_key: str | None = None,
    signed: Signed | None = None,
) -> Complaint:
    """A complaint to the supervisors of the lot's category, within complaint_window_days of knew_on,
    after the objection the subject needs; to be accepted or refused within 3 working days. The
    complainant's certificate signature over it is kept with it when given."""
    try:
        subject_ = ComplaintSubject(subject)
    except ValueError:
        raise InvalidInput(field="subject") from None
    why = required_text(reasons, "reasons", MAX_TEXT)
    asked = required_text(requests, "requests", MAX_TEXT)
    files = checked_evidence(evidence)
    lot, project, tender = await public_lot(lot_id)
    org_id = party(actor, project)
    if tender.published_at is None:  # a published tender always has its time
        raise NotFound()
    if knew_on > today() or knew_on < clock.to_shanghai(tender.published_at).date():
        raise InvalidInput(field="knewOn")
    act_signature = await act_signatures.check(
        actor, acts.complaint_file(lot.trade_code, subject_.value, reasons, requests), signed, required=False
    )
    request = {
        "lot": lot_id,
        "subject": subject_.value,
        "knew_on": knew_on.isoformat(),
        "reasons": why,
        "requests": asked,
        "evidence": files,
    }
    if act_signature is not None:
        request["signature"] = act_signature.signature

    async def create() -> dict[str, Any]:
        now = clock.now()
        # 招标投标法实施条例 第六十条: within 10 days of knowing or when one should have known
        days = int(lot.config.get("complaint_window_days", 10))
        last = calendar.end_of(knew_on + timedelta(days=days))
        filed = COMPLAINT.fire(None, "file", by=actor, now=now, last=last, days=days)
        objection_id = None
        if subject_ in OBJECTION_FIRST:
            objection_id = await _prior_objection(subject_, lot, org_id, now)
        cal = await calendar.current()
        due = cal.add_working_days(now, ACCEPT_WORKING_DAYS)
        made = await Complaint.create(
            lot_id=lot_id,
            category=project.category,
            organisation_id=org_id,
            filed_by=actor.user_id,
            objection_id=objection_id,
            subject=subject_.value,
            knew_on=knew_on,
            reasons=why,
            requests=asked,
            evidence=files,
            status=filed.value,
            filed_at=now,
            accept_due_at=due,
            next_check_at=due,
        )
        await events.record(
            ComplaintFiled(
                object_id=str(made.id),
                lot_id=lot_id,
                organisation_id=org_id,
                subject=subject_.value,
                category=project.category,
                accept_due_at=due,
                audience=Audience(orgs=(org_id,), roles=keeper_roles()),
            ),
            actor,
        )
        if act_signature is not None:
            await act_signatures.record(actor, act_signature, "Complaint", made.id, lot_id)
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.file", request, create)
    return await Complaint.get(id=result["id"])


async def handled(actor: Actor, complaint_id: int) -> tuple[Complaint, Project]:
    """A complaint the actor may handle (a supervisor of its category), locked; NotFound when the actor
    may not see it, PermissionDenied when it may see but not handle it."""
    found = await Complaint.get_or_none(id=complaint_id)
    if found is None:
        raise NotFound()
    lot = await Lot.get(id=found.lot_id)
    project = await Project.get(id=lot.project_id)
    if not supervises(actor, found.category):
        if await _may_see_complaint(actor, found, project):
            raise PermissionDenied()
        raise NotFound()
    return await lock(Complaint.filter(id=complaint_id)).get(), project


def _parties(complaint: Complaint, project: Project) -> tuple[int, ...]:
    return (complaint.organisation_id, *managers(project))


@raises()
@use_case("complaint.accept", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def accept_complaint(actor: Actor, complaint_id: int, idempotency_key: str | None = None) -> Complaint:
    """The supervisor accepts a submitted complaint; the decision is due within 30 working days."""

    async def change() -> dict[str, Any]:
        current, project = await handled(actor, complaint_id)
        accepted = COMPLAINT.fire(current.status, "accept", by=actor)
        now = clock.now()
        due = (await calendar.current()).add_working_days(now, DECIDE_WORKING_DAYS)
        current.status, current.accepted_at, current.decide_due_at = accepted.value, now, due
        current.handled_by, current.overdue_at, current.next_check_at = actor.user_id, None, due
        await current.save()
        await events.record(
            ComplaintAccepted(
                object_id=str(current.id),
                lot_id=current.lot_id,
                organisation_id=current.organisation_id,
                category=current.category,
                decide_due_at=due,
                audience=Audience(orgs=_parties(current, project), roles=keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.accept", {"id": complaint_id}, change)
    return await Complaint.get(id=result["id"])


@raises()
@use_case("complaint.refuse", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def refuse_complaint(
    actor: Actor, complaint_id: int, reason: str, idempotency_key: str | None = None
) -> Complaint:
    """The supervisor does not accept a submitted complaint, with the reason (不予受理)."""
    why = required_text(reason, "reason", MAX_TEXT)

    async def change() -> dict[str, Any]:
        current, _project = await handled(actor, complaint_id)
        refused = COMPLAINT.fire(current.status, "refuse", by=actor)
        current.status, current.refused_reason, current.handled_by = refused.value, why, actor.user_id
        current.next_check_at = None
        await current.save()
        await events.record(
            ComplaintRefused(
                object_id=str(current.id),
                lot_id=current.lot_id,
                organisation_id=current.organisation_id,
                category=current.category,
                reason=why,
                audience=Audience(orgs=(current.organisation_id,), roles=keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.refuse", {"id": complaint_id, "r": why}, change)
    return await Complaint.get(id=result["id"])


@raises()
@use_case("complaint.withdraw", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def withdraw_complaint(actor: Actor, complaint_id: int, idempotency_key: str | None = None) -> Complaint:
    """The complainant withdraws a complaint not yet decided."""
    found = await Complaint.get_or_none(id=complaint_id)
    if found is None or actor.org_id is None or found.organisation_id != actor.org_id:
        raise NotFound()

    async def change() -> dict[str, Any]:
        current = await lock(Complaint.filter(id=complaint_id)).get()
        withdrawn = COMPLAINT.fire(current.status, "withdraw", by=actor)
        current.status, current.withdrawn_at, current.next_check_at = withdrawn.value, clock.now(), None
        await current.save()
        project = await Project.get(id=(await Lot.get(id=current.lot_id)).project_id)
        await events.record(
            ComplaintWithdrawn(
                object_id=str(current.id),
                lot_id=current.lot_id,
                organisation_id=current.organisation_id,
                category=current.category,
                audience=Audience(orgs=_parties(current, project), roles=keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.withdraw", {"id": complaint_id}, change)
    return await Complaint.get(id=result["id"])


def _decision_body(complaint: Complaint, lot: Lot, complainant: str, decision: Decision, reasons: str) -> str:
    subject = ComplaintSubject(complaint.subject)
    return (
        f"<p>投诉人：{html.escape(complainant)}</p>"
        f"<p>被投诉项目：{html.escape(lot.name)}（交易标识码 {lot.trade_code}）</p>"
        f"<p>投诉事项：{SUBJECT_ZH[subject]}</p>"
        f"<p>处理决定：{DECISION_ZH[decision]}。</p>"
        f"<p>理由：{html.escape(reasons)}</p>"
        "<p>投诉人或者其他当事人对本决定不服的，可以依法申请行政复议或者提起行政诉讼。</p>"
    )


@raises()
@use_case("complaint.decide", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def decide_complaint(
    actor: Actor,
    complaint_id: int,
    decision: str,
    reasons: str,
    malicious: bool = False,
    idempotency_key: str | None = None,
) -> Complaint:
    """The supervisor decides an accepted complaint: published at once as a complaint_decision
    announcement of the lot, the parties told; a dismissed complaint found malicious or false adds a
    bad credit record to the complainant (招标投标法实施条例 第七十七条)."""
    try:
        decision_ = Decision(decision)
    except ValueError:
        raise InvalidInput(field="decision") from None
    why = required_text(reasons, "reasons", MAX_TEXT)
    if malicious and decision_ is not Decision.DISMISSED:
        raise InvalidInput(field="malicious")
    request = {"id": complaint_id, "decision": decision_.value, "reasons": why, "malicious": malicious}

    async def change() -> dict[str, Any]:
        current, project = await handled(actor, complaint_id)
        decided = COMPLAINT.fire(current.status, "decide", by=actor)
        lot = await Lot.get(id=current.lot_id)
        complainant = await Organisation.get(id=current.organisation_id)
        # published in the supervisor's name by the platform: supervisors manage no project
        ann = await announce(
            SYSTEM,
            lot,
            AnnouncementType.COMPLAINT_DECISION,
            f"{lot.name}投诉处理决定",
            _decision_body(current, lot, complainant.name, decision_, why),
        )
        now = clock.now()
        current.status, current.decision, current.decision_reasons = decided.value, decision_.value, why
        current.decided_at, current.announcement_id, current.malicious = now, ann.id, malicious
        current.handled_by, current.next_check_at = actor.user_id, None
        await current.save()
        if malicious:
            await credit.add_credit_record(
                actor,
                current.organisation_id,
                credit.CreditKind.BAD.value,
                "虚假恶意投诉",
                f"{lot.name}（交易标识码 {lot.trade_code}）投诉经查缺乏事实根据或捏造事实，属虚假恶意投诉：{why}"[
                    :MAX_TEXT
                ],
                f"投诉处理决定（公告 {ann.id}）",
            )
        await events.record(
            ComplaintDecided(
                object_id=str(current.id),
                lot_id=lot.id,
                organisation_id=current.organisation_id,
                category=current.category,
                decision=decision_.value,
                announcement_id=ann.id,
                malicious=malicious,
                audience=Audience(orgs=_parties(current, project), roles=keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.decide", request, change)
    return await Complaint.get(id=result["id"])


async def upheld_on(lot_id: int, complaint_id: int | None) -> bool:
    """Whether a complaint on the lot (that one, when named) was decided upheld or partly upheld (domain/results
    asks before disqualifying a winner, 实施条例 第五十五条)."""
    query = Complaint.filter(
        lot_id=lot_id, status=ComplaintStatus.DECIDED.value, decision__in=(Decision.UPHELD, Decision.PARTLY_UPHELD)
    )
    if complaint_id is not None:
        query = query.filter(id=complaint_id)
    return await query.exists()


async def flag_complaint_overdue(complaint: Complaint, now: datetime) -> None:
    """Chronograph transition: acceptance not given by accept_due_at, or decision not made by
    decide_due_at, is flagged once each to the supervisors of the category."""
    current = await lock(Complaint.filter(id=complaint.id)).get()
    due: datetime | None = None
    due_at: datetime | None = None
    if current.status == ComplaintStatus.SUBMITTED.value:
        due_at = current.accept_due_at
    elif current.status == ComplaintStatus.ACCEPTED.value:
        due_at = current.decide_due_at
    if due_at is not None:
        step = COMPLAINT.due(current.status, now=now, due_at=due_at)
        if step is None:
            due = due_at
        elif current.overdue_at is None:
            stage = _OVERDUE_STAGE[step.name]
            current.overdue_at = now
            await record_once(
                ComplaintOverdue(
                    object_id=str(current.id),
                    lot_id=current.lot_id,
                    organisation_id=current.organisation_id,
                    category=current.category,
                    stage=stage,
                    due_at=due_at,
                    audience=Audience(roles=keeper_roles()),
                ),
                f"complaint.overdue.{stage}:{current.id}",
            )
    current.next_check_at = due
    await current.save()
    complaint.next_check_at = due


# ---------------------------------------------------------------- reading


async def _may_see_complaint(actor: Actor, complaint: Complaint, project: Project) -> bool:
    if actor.has(Role.OPERATOR) or supervises(actor, complaint.category):
        return True
    return actor.org_id is not None and actor.org_id in _parties(complaint, project)


async def complaint(actor: Actor, complaint_id: int) -> Complaint:
    """A complaint for its complainant, its respondent (tenderer, agency), the supervisors of its category
    and operators; NotFound for anyone else (the public reads the published decision)."""
    found = await Complaint.get_or_none(id=complaint_id)
    if found is None:
        raise NotFound()
    project = await Project.get(id=(await Lot.get(id=found.lot_id)).project_id)
    if not await _may_see_complaint(actor, found, project):
        raise NotFound()
    return found


def my_complaints(actor: Actor) -> QuerySet[Complaint]:
    """Complaints the caller's organisation filed or answers for (as tenderer or agency)."""
    if actor.org_id is None:
        raise PermissionDenied()
    org = actor.org_id
    return Complaint.filter(Q(organisation_id=org) | Q(lot__project__tenderer_id=org) | Q(lot__project__agency_id=org))


def _categories(actor: Actor) -> Q:
    if actor.has(Role.OPERATOR):
        return Q()
    if not actor.has(Role.SUPERVISOR):
        raise PermissionDenied()
    return Q(category__in=sorted(actor.supervised_categories))


def supervised_complaints(actor: Actor, status: str | None = None) -> QuerySet[Complaint]:
    """Every complaint of the supervisor's categories (operators: all)."""
    query = Complaint.filter(_categories(actor))
    return query.filter(status=status) if status else query


def overdue_complaints(actor: Actor) -> QuerySet[Complaint]:
    """Complaints not accepted or not decided in time (flagged by the chronograph), still open."""
    return supervised_complaints(actor).filter(status__in=OPEN_COMPLAINT, overdue_at__isnull=False)
