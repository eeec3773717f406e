"""Objections (异议) to the tenderer, complaints (投诉) to the supervisor, reports (举报) from anyone.

An objection is raised on the tender documents (at least 10 days before the bid deadline), at the
opening (during its decryption window; the on-the-spot objections of domain/tendering/opening count
too) or on the candidates (during the candidate publicity). The tenderer or its agency answers within
the lot's objection_answer_days (calendar days, to 24:00 Beijing time); the chronograph flags an
unanswered one overdue to the supervisors of the lot's category, once. While one is unanswered the
lot cannot be awarded (an award blocker of domain/results).

A complaint goes to the supervisors of the lot's category within complaint_window_days of the day the
complainant knew or should have known; on the documents, the opening or the candidates only after an
objection on the same subject by the same organisation was answered or went overdue (招标投标法实施条例
第六十条). The supervisor accepts or refuses it within 3 working days and decides within 30 working days
of acceptance (working days from domain/complaints/calendar); the chronograph flags each deadline
overdue once. Once it is accepted the supervisor may suspend the lot: every transition of the lot is
refused (LOT_SUSPENDED in domain/publication) and the award paused until the suspension is lifted. The
decision (upheld, partly upheld, dismissed) is published as a complaint_decision announcement of the
lot; a malicious or false complaint may add a bad credit record to the complainant.

A report is filed by anyone, also without signing in, about a lot or an organisation; the reporter
gets a tracking code once (only its SHA-256 is kept) and follows the status with it.
"""

from __future__ import annotations

import hashlib
import html
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.accounts.models import Organisation
from domain.certificates import acts
from domain.certificates import signatures as act_signatures
from domain.certificates.signatures import Signed
from domain.common import chronograph, clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import DomainError, InvalidInput, InvalidTransition, NotFound, PermissionDenied, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.models import OutboxEvent
from domain.common.storage import lock
from domain.complaints import calendar
from domain.complaints.models import Complaint, LotSuspension, Objection, Report
from domain.credit import services as credit
from domain.publication import services as publication
from domain.publication.models import Announcement, Lot, Project
from domain.publication.services import LotSuspended
from domain.publication.states import AnnouncementStatus, AnnouncementType, LotStatus
from domain.results import services as results
from domain.supervision import scope
from domain.tendering import opening as openings
from domain.tendering.models import Opening, OpeningObjection, SealedBid

__all__ = ["LotSuspended"]

# 招标投标法实施条例 第二十二条: objections to the documents at least 10 days before the bid deadline
DOCUMENTS_OBJECTION_DAYS = 10
# 工程建设项目招标投标活动投诉处理办法 第十一条 / 第二十一条: 3 working days to accept, 30 to decide
ACCEPT_WORKING_DAYS = 3
DECIDE_WORKING_DAYS = 30
MAX_TEXT = 4000
MAX_EVIDENCE = 20
MAX_FILE = 2 * 1024**3
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_EVENT_NAMESPACE = uuid.UUID("5b0e7c8a-2f14-4d6b-a3c1-9e8d7f6a5b40")


class ObjectionStage(StrEnum):
    DOCUMENTS = "documents"  # 对招标文件的异议
    OPENING = "opening"  # 对开标的异议
    PUBLICITY = "publicity"  # 对评标结果（中标候选人）的异议


class ObjectionStatus(StrEnum):
    PENDING = "pending"
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"
    OVERDUE = "overdue"  # not answered in time: flagged to the supervisors; may still be answered


UNANSWERED = (ObjectionStatus.PENDING.value, ObjectionStatus.OVERDUE.value)


class ComplaintSubject(StrEnum):
    DOCUMENTS = "documents"
    OPENING = "opening"
    CANDIDATES = "candidates"
    OTHER = "other"  # e.g. the award itself: no objection needed first


# the objection a complaint on a subject needs first
OBJECTION_FIRST: dict[ComplaintSubject, ObjectionStage] = {
    ComplaintSubject.DOCUMENTS: ObjectionStage.DOCUMENTS,
    ComplaintSubject.OPENING: ObjectionStage.OPENING,
    ComplaintSubject.CANDIDATES: ObjectionStage.PUBLICITY,
}


class ComplaintStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for acceptance (3 working days)
    ACCEPTED = "accepted"  # to be decided (30 working days)
    REFUSED = "refused"  # not accepted, with the reason
    DECIDED = "decided"
    WITHDRAWN = "withdrawn"


OPEN_COMPLAINT = (ComplaintStatus.SUBMITTED.value, ComplaintStatus.ACCEPTED.value)


class Decision(StrEnum):
    UPHELD = "upheld"  # 投诉成立
    PARTLY_UPHELD = "partly_upheld"  # 部分成立
    DISMISSED = "dismissed"  # 驳回


DECISION_ZH = {Decision.UPHELD: "投诉成立", Decision.PARTLY_UPHELD: "投诉部分成立", Decision.DISMISSED: "驳回投诉"}
SUBJECT_ZH = {
    ComplaintSubject.DOCUMENTS: "招标文件",
    ComplaintSubject.OPENING: "开标",
    ComplaintSubject.CANDIDATES: "评标结果（中标候选人）",
    ComplaintSubject.OTHER: "其他事项",
}
STAGE_ZH = {ObjectionStage.DOCUMENTS: "招标文件", ObjectionStage.OPENING: "开标", ObjectionStage.PUBLICITY: "评标结果"}


class ReportStatus(StrEnum):
    RECEIVED = "received"
    INVESTIGATING = "investigating"
    CLOSED = "closed"


# ---------------------------------------------------------------- errors


class ObjectionWindowClosed(DomainError):
    code = "OBJECTION_WINDOW_CLOSED"
    message_zh = "当前不在{stage_zh}异议的提出期限内"
    message_en = "Objections on the {stage} cannot be raised now"
    exposed: ClassVar[dict[str, str]] = {"stage": "str"}


class NotAnInterestedParty(DomainError):
    code = "NOT_AN_INTERESTED_PARTY"
    message_zh = "招标人及其代理机构不能对本标段提出异议或投诉"
    message_en = "The tenderer and its agency cannot object to or complain about their own lot"


class ComplaintTooLate(DomainError):
    code = "COMPLAINT_TOO_LATE"
    message_zh = "投诉应当自知道或者应当知道之日起 {days} 日内提出，期限已于 {deadline} 届满"
    message_en = "A complaint is due within {days} days of knowing; the period ended at {deadline}"
    exposed: ClassVar[dict[str, str]] = {"deadline": "datetime", "days": "int"}


class ObjectionRequired(DomainError):
    code = "OBJECTION_REQUIRED"
    message_zh = "对{subject_zh}的投诉，应当先向招标人提出异议，并在招标人答复或答复期满后再投诉"
    message_en = "A complaint about the {subject} needs an objection to the tenderer first, answered or overdue"
    exposed: ClassVar[dict[str, str]] = {"subject": "str"}


class LotAlreadySuspended(DomainError):
    code = "LOT_ALREADY_SUSPENDED"
    message_zh = "该标段已处于暂停状态"
    message_en = "The lot is already suspended"


class NotSuspended(DomainError):
    code = "NOT_SUSPENDED"
    message_zh = "该投诉未暂停标段，无需解除"
    message_en = "This complaint has no suspension in force to lift"


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class ObjectionRaised(DomainEvent):
    """To the tenderer (and its agency): answer within answer_due_at."""

    type = "objection.raised"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int
    answer_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class ObjectionAnswered(DomainEvent):
    """To the objector: the tenderer answered."""

    type = "objection.answered"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int
    late: bool


@dataclass(frozen=True, kw_only=True)
class ObjectionWithdrawn(DomainEvent):
    type = "objection.withdrawn"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int


@dataclass(frozen=True, kw_only=True)
class ObjectionOverdue(DomainEvent):
    """To the supervisors of the category and the tenderer: not answered in time."""

    type = "objection.overdue"
    object_type = "Objection"
    lot_id: int
    stage: str
    organisation_id: int
    answer_due_at: datetime
    category: str


@dataclass(frozen=True, kw_only=True)
class ComplaintFiled(DomainEvent):
    """To the supervisors of the category: accept or refuse by accept_due_at."""

    type = "complaint.filed"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    subject: str
    category: str
    accept_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class ComplaintAccepted(DomainEvent):
    """To the complainant and the respondent: decision due by decide_due_at."""

    type = "complaint.accepted"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    decide_due_at: datetime


@dataclass(frozen=True, kw_only=True)
class ComplaintRefused(DomainEvent):
    type = "complaint.refused"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class ComplaintWithdrawn(DomainEvent):
    type = "complaint.withdrawn"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str


@dataclass(frozen=True, kw_only=True)
class ComplaintDecided(DomainEvent):
    """To the complainant and the respondent: the decision, published as an announcement."""

    type = "complaint.decided"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    decision: str
    announcement_id: int
    malicious: bool


@dataclass(frozen=True, kw_only=True)
class ComplaintOverdue(DomainEvent):
    """To the supervisors of the category: acceptance (stage accept) or decision (stage decide) is late."""

    type = "complaint.overdue"
    object_type = "Complaint"
    lot_id: int
    organisation_id: int
    category: str
    stage: str
    due_at: datetime


@dataclass(frozen=True, kw_only=True)
class LotSuspendedEvent(DomainEvent):
    """The lot is suspended (暂停招标投标活动): public, as every bidder must know the lot is paused."""

    type = "lot.suspended"
    object_type = "Lot"
    lot_id: int
    complaint_id: int | None
    reason: str
    trade_code: str


@dataclass(frozen=True, kw_only=True)
class LotSuspensionLifted(DomainEvent):
    type = "lot.suspension_lifted"
    object_type = "Lot"
    lot_id: int
    complaint_id: int | None
    trade_code: str


@dataclass(frozen=True, kw_only=True)
class ReportReceived(DomainEvent):
    """To the supervisors (of the category when the report concerns a lot)."""

    type = "report.received"
    object_type = "Report"
    lot_id: int | None
    organisation_id: int | None
    category: str | None
    anonymous: bool


@dataclass(frozen=True, kw_only=True)
class ReportStatusChanged(DomainEvent):
    """To the reporter when signed in (an anonymous one follows with the code) and the supervisors."""

    type = "report.status_changed"
    object_type = "Report"
    status: str
    category: str | None


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True, slots=True)
class Evidence:
    name: str
    size: int
    sha256: str


def checked_evidence(items: list[Evidence]) -> list[dict[str, Any]]:
    """Attachments as name, size and SHA-256 (64 hex digits), each checked; InvalidInput names the field."""
    if len(items) > MAX_EVIDENCE:
        raise InvalidInput(field="evidence")
    out = []
    for i, item in enumerate(items):
        digest = item.sha256.strip().lower()
        if not _SHA256.match(digest):
            raise InvalidInput(field=f"evidence.{i}.sha256")
        if not 0 < item.size <= MAX_FILE:
            raise InvalidInput(field=f"evidence.{i}.size")
        out.append({"name": required_text(item.name, f"evidence.{i}.name", 255), "size": item.size, "sha256": digest})
    return out


def _today() -> date:
    return clock.to_shanghai(clock.now()).date()


def _managers(project: Project) -> tuple[int, ...]:
    return tuple(o for o in (project.tenderer_id, project.agency_id) if o)


def supervises(actor: Actor, category: str | None) -> bool:
    """A supervisor of the category (any supervisor for a report about no lot)."""
    return (category is None and actor.has(Role.SUPERVISOR)) or scope.supervises(actor, category)


def _keeper_roles() -> tuple[str, ...]:
    return (Role.SUPERVISOR.value, Role.OPERATOR.value)


async def _public_lot(lot_id: int) -> tuple[Lot, Project, Announcement]:
    """A lot whose tender is published, its project and that tender announcement; else NotFound."""
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    tender = (
        await Announcement.filter(
            lot_id=lot_id, type=AnnouncementType.TENDER.value, status=AnnouncementStatus.PUBLISHED.value
        )
        .order_by("published_at")
        .first()
    )
    if tender is None:
        raise NotFound()
    return lot, await Project.get(id=lot.project_id), tender


def _party(actor: Actor, project: Project) -> int:
    """The organisation of a signed-in user who is not the lot's tenderer or agency."""
    if actor.org_id is None or actor.user_id is None:
        raise PermissionDenied()
    if actor.org_id in _managers(project):
        raise NotAnInterestedParty()
    return actor.org_id


async def _record_once(event: DomainEvent, fact: str) -> None:
    event_id = uuid.uuid5(_EVENT_NAMESPACE, fact)
    if not await OutboxEvent.exists(event_id=event_id):
        await events.record(event, SYSTEM, event_id=event_id)


# ---------------------------------------------------------------- objections


def _at(config: dict[str, Any], name: str) -> datetime | None:
    value = config.get(name)
    return datetime.fromisoformat(value) if value else None


async def _check_window(stage: ObjectionStage, lot: Lot, org_id: int, now: datetime) -> None:
    closed = ObjectionWindowClosed(stage=stage.value, stage_zh=STAGE_ZH[stage])
    if stage is ObjectionStage.DOCUMENTS:
        deadline = _at(lot.config, "bid_deadline")
        if lot.status != LotStatus.OPEN.value or deadline is None:
            raise closed
        if now > deadline - timedelta(days=DOCUMENTS_OBJECTION_DAYS):
            raise closed
    elif stage is ObjectionStage.OPENING:
        opening = await Opening.get_or_none(lot_id=lot.id)
        if opening is None or opening.status != "decrypting":
            raise closed
        if not await SealedBid.exists(lot_id=lot.id, organisation_id=org_id):
            raise NotAnInterestedParty()
    else:
        publicity = (
            await Announcement.filter(
                lot_id=lot.id,
                type=AnnouncementType.CANDIDATE_PUBLICITY.value,
                status=AnnouncementStatus.PUBLISHED.value,
            )
            .order_by("-published_at")
            .first()
        )
        if (
            publicity is None
            or publicity.publicity_starts_at is None
            or publicity.publicity_ends_at is None
            or not publicity.publicity_starts_at <= now < publicity.publicity_ends_at
        ):
            raise closed


def answer_due(raised_at: datetime, days: int) -> datetime:
    """24:00 (Beijing) of the `days`-th calendar day after the day the objection was raised."""
    return calendar.end_of(clock.to_shanghai(raised_at).date() + timedelta(days=days))


@use_case("objection.raise", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def raise_objection(
    actor: Actor,
    lot_id: int,
    stage: str,
    reasons: str,
    evidence: list[Evidence],
    idempotency_key: str | None = None,
    signed: Signed | None = None,
) -> Objection:
    """A bidder or interested party objects to the tenderer within the stage's window; the tenderer
    must answer within the lot's objection_answer_days; the lot's award is paused until then. The
    objector's certificate signature over it is kept with it when given."""
    try:
        stage_ = ObjectionStage(stage)
    except ValueError:
        raise InvalidInput(field="stage") from None
    text = required_text(reasons, "reasons", MAX_TEXT)
    files = checked_evidence(evidence)
    _lot, project, _ = await _public_lot(lot_id)
    org_id = _party(actor, project)
    act_signature = await act_signatures.check(
        actor, acts.objection_raise(_lot.trade_code, stage_.value, reasons), signed, required=False
    )
    request = {"lot": lot_id, "stage": stage_.value, "reasons": text, "evidence": files}
    if act_signature is not None:
        request["signature"] = act_signature.signature

    async def create() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot_id)).get()
        now = clock.now()
        await _check_window(stage_, locked, org_id, now)
        due = answer_due(now, int(locked.config.get("objection_answer_days", 3)))
        made = await Objection.create(
            lot_id=lot_id,
            stage=stage_.value,
            organisation_id=org_id,
            raised_by=actor.user_id,
            reasons=text,
            evidence=files,
            status=ObjectionStatus.PENDING.value,
            raised_at=now,
            answer_due_at=due,
            next_check_at=due,
        )
        await events.record(
            ObjectionRaised(
                object_id=str(made.id),
                lot_id=lot_id,
                stage=stage_.value,
                organisation_id=org_id,
                answer_due_at=due,
                audience=Audience(orgs=(org_id, *_managers(project))),
            ),
            actor,
        )
        if act_signature is not None:
            await act_signatures.record(actor, act_signature, "Objection", made.id, lot_id)
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "objection.raise", request, create)
    return await Objection.get(id=result["id"])


@use_case("objection.answer", "Objection", lambda actor, objection_id, *a, **k: str(objection_id))
async def answer_objection(
    actor: Actor, objection_id: int, answer: str, idempotency_key: str | None = None
) -> Objection:
    """The tenderer (or its agency) answers an unanswered objection, also after it went overdue."""
    text = required_text(answer, "answer", MAX_TEXT)
    found = await Objection.get_or_none(id=objection_id)
    if found is None:
        raise NotFound()
    lot = await Lot.get(id=found.lot_id)
    project = await publication.managed_project(actor, lot.project_id)

    async def change() -> dict[str, Any]:
        current = await lock(Objection.filter(id=objection_id)).get()
        if current.status not in UNANSWERED:
            raise InvalidTransition(state=current.status)
        now = clock.now()
        late = current.status == ObjectionStatus.OVERDUE.value
        current.status, current.answer, current.answered_by, current.answered_at = (
            ObjectionStatus.ANSWERED.value,
            text,
            actor.user_id,
            now,
        )
        current.next_check_at = None
        await current.save()
        await events.record(
            ObjectionAnswered(
                object_id=str(current.id),
                lot_id=current.lot_id,
                stage=current.stage,
                organisation_id=current.organisation_id,
                late=late,
                audience=Audience(
                    orgs=(current.organisation_id, *_managers(project)),
                    roles=_keeper_roles() if late else (Role.OPERATOR.value,),
                ),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "objection.answer", {"id": objection_id, "a": text}, change)
    return await Objection.get(id=result["id"])


@use_case("objection.withdraw", "Objection", lambda actor, objection_id, *a, **k: str(objection_id))
async def withdraw_objection(actor: Actor, objection_id: int, idempotency_key: str | None = None) -> Objection:
    """The objector withdraws its unanswered objection; the lot is no longer paused by it."""
    found = await Objection.get_or_none(id=objection_id)
    if found is None or actor.org_id is None or found.organisation_id != actor.org_id:
        raise NotFound()

    async def change() -> dict[str, Any]:
        current = await lock(Objection.filter(id=objection_id)).get()
        if current.status not in UNANSWERED:
            raise InvalidTransition(state=current.status)
        now = clock.now()
        current.status, current.withdrawn_at, current.next_check_at = ObjectionStatus.WITHDRAWN.value, now, None
        await current.save()
        project = await Project.get(id=(await Lot.get(id=current.lot_id)).project_id)
        await events.record(
            ObjectionWithdrawn(
                object_id=str(current.id),
                lot_id=current.lot_id,
                stage=current.stage,
                organisation_id=current.organisation_id,
                audience=Audience(orgs=(current.organisation_id, *_managers(project))),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "objection.withdraw", {"id": objection_id}, change)
    return await Objection.get(id=result["id"])


async def flag_objection_overdue(objection: Objection, now: datetime) -> None:
    """Chronograph transition: an objection still unanswered at answer_due_at is flagged once, to the
    supervisors of the lot's category and the tenderer."""
    current = await lock(Objection.filter(id=objection.id)).get()
    due: datetime | None = None
    if current.status == ObjectionStatus.PENDING.value:
        if current.answer_due_at > now:
            due = current.answer_due_at
        else:
            current.status, current.overdue_at = ObjectionStatus.OVERDUE.value, now
            lot = await Lot.get(id=current.lot_id)
            project = await Project.get(id=lot.project_id)
            await _record_once(
                ObjectionOverdue(
                    object_id=str(current.id),
                    lot_id=lot.id,
                    stage=current.stage,
                    organisation_id=current.organisation_id,
                    answer_due_at=current.answer_due_at,
                    category=project.category,
                    audience=Audience(orgs=(current.organisation_id, *_managers(project)), roles=_keeper_roles()),
                ),
                f"objection.overdue:{current.id}",
            )
    current.next_check_at = due
    await current.save()
    objection.next_check_at = due


chronograph.register("objection.answer_due", Objection, flag_objection_overdue)


# ---------------------------------------------------------------- what pauses an award


async def unanswered_objection(lot_id: int) -> results.Pause | None:
    """招标投标法实施条例 第五十四条: an objection to the candidates pauses the tender until answered."""
    waiting = await Objection.filter(lot_id=lot_id, status__in=UNANSWERED).count()
    if not waiting:
        return None
    return results.Pause(
        reason="objection_unanswered",
        zh=f"异议 {waiting} 件尚未答复",
        en=f"{waiting} objection(s) not answered yet",
    )


async def suspended(lot_id: int) -> results.Pause | None:
    """A suspension by the supervisor handling a complaint pauses everything until lifted."""
    active = await LotSuspension.filter(lot_id=lot_id, lifted_at__isnull=True).order_by("id").first()
    if active is None:
        return None
    return results.Pause(
        reason="lot_suspended",
        zh=f"行政监督部门已暂停本标段：{active.reason}",
        en=f"suspended by the supervisor: {active.reason}",
    )


results.register_award_blocker(unanswered_objection)
results.register_award_blocker(suspended)


# ---------------------------------------------------------------- complaints


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
        return found.id
    if stage is ObjectionStage.OPENING:
        opening = await Opening.get_or_none(lot_id=lot.id)
        if opening is not None:
            days = int(lot.config.get("objection_answer_days", 3))
            for spot in await OpeningObjection.filter(opening_id=opening.id, organisation_id=org_id):
                if spot.answered_at is not None or answer_due(spot.raised_at, days) <= now:
                    return None
    raise ObjectionRequired(subject=subject.value, subject_zh=SUBJECT_ZH[subject])


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
    lot, project, tender = await _public_lot(lot_id)
    org_id = _party(actor, project)
    if knew_on > _today() or knew_on < clock.to_shanghai(tender.published_at).date():
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
        if now >= last:
            raise ComplaintTooLate(deadline=last, days=days)
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
            status=ComplaintStatus.SUBMITTED.value,
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
                audience=Audience(orgs=(org_id,), roles=_keeper_roles()),
            ),
            actor,
        )
        if act_signature is not None:
            await act_signatures.record(actor, act_signature, "Complaint", made.id, lot_id)
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.file", request, create)
    return await Complaint.get(id=result["id"])


async def _handled(actor: Actor, complaint_id: int) -> tuple[Complaint, Project]:
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
    return (complaint.organisation_id, *_managers(project))


@use_case("complaint.accept", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def accept_complaint(actor: Actor, complaint_id: int, idempotency_key: str | None = None) -> Complaint:
    """The supervisor accepts a submitted complaint; the decision is due within 30 working days."""

    async def change() -> dict[str, Any]:
        current, project = await _handled(actor, complaint_id)
        if current.status != ComplaintStatus.SUBMITTED.value:
            raise InvalidTransition(state=current.status)
        now = clock.now()
        due = (await calendar.current()).add_working_days(now, DECIDE_WORKING_DAYS)
        current.status, current.accepted_at, current.decide_due_at = ComplaintStatus.ACCEPTED.value, now, due
        current.handled_by, current.overdue_at, current.next_check_at = actor.user_id, None, due
        await current.save()
        await events.record(
            ComplaintAccepted(
                object_id=str(current.id),
                lot_id=current.lot_id,
                organisation_id=current.organisation_id,
                category=current.category,
                decide_due_at=due,
                audience=Audience(orgs=_parties(current, project), roles=_keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.accept", {"id": complaint_id}, change)
    return await Complaint.get(id=result["id"])


@use_case("complaint.refuse", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def refuse_complaint(
    actor: Actor, complaint_id: int, reason: str, idempotency_key: str | None = None
) -> Complaint:
    """The supervisor does not accept a submitted complaint, with the reason (不予受理)."""
    why = required_text(reason, "reason", MAX_TEXT)

    async def change() -> dict[str, Any]:
        current, _project = await _handled(actor, complaint_id)
        if current.status != ComplaintStatus.SUBMITTED.value:
            raise InvalidTransition(state=current.status)
        current.status, current.refused_reason, current.handled_by = ComplaintStatus.REFUSED.value, why, actor.user_id
        current.next_check_at = None
        await current.save()
        await events.record(
            ComplaintRefused(
                object_id=str(current.id),
                lot_id=current.lot_id,
                organisation_id=current.organisation_id,
                category=current.category,
                reason=why,
                audience=Audience(orgs=(current.organisation_id,), roles=_keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.refuse", {"id": complaint_id, "r": why}, change)
    return await Complaint.get(id=result["id"])


@use_case("complaint.withdraw", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def withdraw_complaint(actor: Actor, complaint_id: int, idempotency_key: str | None = None) -> Complaint:
    """The complainant withdraws a complaint not yet decided."""
    found = await Complaint.get_or_none(id=complaint_id)
    if found is None or actor.org_id is None or found.organisation_id != actor.org_id:
        raise NotFound()

    async def change() -> dict[str, Any]:
        current = await lock(Complaint.filter(id=complaint_id)).get()
        if current.status not in OPEN_COMPLAINT:
            raise InvalidTransition(state=current.status)
        current.status, current.withdrawn_at, current.next_check_at = ComplaintStatus.WITHDRAWN.value, clock.now(), None
        await current.save()
        project = await Project.get(id=(await Lot.get(id=current.lot_id)).project_id)
        await events.record(
            ComplaintWithdrawn(
                object_id=str(current.id),
                lot_id=current.lot_id,
                organisation_id=current.organisation_id,
                category=current.category,
                audience=Audience(orgs=_parties(current, project), roles=_keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.withdraw", {"id": complaint_id}, change)
    return await Complaint.get(id=result["id"])


@use_case("complaint.suspend_lot", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def suspend_lot(
    actor: Actor, complaint_id: int, reason: str, idempotency_key: str | None = None
) -> LotSuspension:
    """The supervisor handling an accepted complaint suspends the lot (暂停招标投标活动) until lifted."""
    why = required_text(reason, "reason", 500)

    async def change() -> dict[str, Any]:
        current, _project = await _handled(actor, complaint_id)
        if current.status != ComplaintStatus.ACCEPTED.value:
            raise InvalidTransition(state=current.status)
        lot = await lock(Lot.filter(id=current.lot_id)).get()
        if await LotSuspension.exists(lot_id=lot.id, lifted_at__isnull=True):
            raise LotAlreadySuspended()
        made = await LotSuspension.create(
            lot_id=lot.id,
            complaint_id=current.id,
            reason=why,
            suspended_by=actor.user_id or 0,
            suspended_at=clock.now(),
        )
        await events.record(
            LotSuspendedEvent(
                object_id=str(lot.id),
                lot_id=lot.id,
                complaint_id=current.id,
                reason=why,
                trade_code=lot.trade_code,
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.suspend_lot", {"id": complaint_id, "r": why}, change)
    return await LotSuspension.get(id=result["id"])


@use_case("complaint.lift_suspension", "Complaint", lambda actor, complaint_id, *a, **k: str(complaint_id))
async def lift_suspension(actor: Actor, complaint_id: int, idempotency_key: str | None = None) -> LotSuspension:
    """The supervisor lifts the suspension made for this complaint; the lot may move again."""

    async def change() -> dict[str, Any]:
        current, _ = await _handled(actor, complaint_id)
        active = await lock(LotSuspension.filter(complaint_id=current.id, lifted_at__isnull=True)).first()
        if active is None:
            raise NotSuspended()
        active.lifted_by, active.lifted_at = actor.user_id, clock.now()
        await active.save()
        lot = await Lot.get(id=current.lot_id)
        await openings.resume(lot.id, active.suspended_at, active.lifted_at)  # held past its deadline
        await events.record(
            LotSuspensionLifted(
                object_id=str(lot.id),
                lot_id=lot.id,
                complaint_id=current.id,
                trade_code=lot.trade_code,
                audience=Audience(public=True),
            ),
            actor,
        )
        return {"id": active.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.lift_suspension", {"id": complaint_id}, change)
    return await LotSuspension.get(id=result["id"])


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
        current, project = await _handled(actor, complaint_id)
        if current.status != ComplaintStatus.ACCEPTED.value:
            raise InvalidTransition(state=current.status)
        lot = await Lot.get(id=current.lot_id)
        complainant = await Organisation.get(id=current.organisation_id)
        # published in the supervisor's name by the platform: supervisors manage no project
        ann = await publication.announce(
            SYSTEM,
            lot,
            AnnouncementType.COMPLAINT_DECISION,
            f"{lot.name}投诉处理决定",
            _decision_body(current, lot, complainant.name, decision_, why),
        )
        now = clock.now()
        current.status, current.decision, current.decision_reasons = ComplaintStatus.DECIDED.value, decision_.value, why
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
                audience=Audience(orgs=_parties(current, project), roles=_keeper_roles()),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "complaint.decide", request, change)
    return await Complaint.get(id=result["id"])


async def flag_complaint_overdue(complaint: Complaint, now: datetime) -> None:
    """Chronograph transition: acceptance not given by accept_due_at, or decision not made by
    decide_due_at, is flagged once each to the supervisors of the category."""
    current = await lock(Complaint.filter(id=complaint.id)).get()
    due: datetime | None = None
    stage, due_at = None, None
    if current.status == ComplaintStatus.SUBMITTED.value:
        stage, due_at = "accept", current.accept_due_at
    elif current.status == ComplaintStatus.ACCEPTED.value and current.decide_due_at is not None:
        stage, due_at = "decide", current.decide_due_at
    if stage is not None and due_at is not None:
        if due_at > now:
            due = due_at
        elif current.overdue_at is None:
            current.overdue_at = now
            await _record_once(
                ComplaintOverdue(
                    object_id=str(current.id),
                    lot_id=current.lot_id,
                    organisation_id=current.organisation_id,
                    category=current.category,
                    stage=stage,
                    due_at=due_at,
                    audience=Audience(roles=_keeper_roles()),
                ),
                f"complaint.overdue.{stage}:{current.id}",
            )
    current.next_check_at = due
    await current.save()
    complaint.next_check_at = due


chronograph.register("complaint.deadlines", Complaint, flag_complaint_overdue)


# ---------------------------------------------------------------- reading objections and complaints


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


async def objection(actor: Actor, objection_id: int) -> Objection:
    """An objection for its objector, the tenderer (agency), the supervisors of the category, operators."""
    found = await Objection.get_or_none(id=objection_id)
    if found is None:
        raise NotFound()
    project = await Project.get(id=(await Lot.get(id=found.lot_id)).project_id)
    visible = (
        actor.has(Role.OPERATOR)
        or supervises(actor, project.category)
        or (actor.org_id is not None and actor.org_id in (found.organisation_id, *_managers(project)))
    )
    if not visible:
        raise NotFound()
    return found


def my_complaints(actor: Actor) -> QuerySet[Complaint]:
    """Complaints the caller's organisation filed or answers for (as tenderer or agency)."""
    if actor.org_id is None:
        raise PermissionDenied()
    org = actor.org_id
    return Complaint.filter(Q(organisation_id=org) | Q(lot__project__tenderer_id=org) | Q(lot__project__agency_id=org))


def my_objections(actor: Actor) -> QuerySet[Objection]:
    """Objections the caller's organisation raised or must answer."""
    if actor.org_id is None:
        raise PermissionDenied()
    org = actor.org_id
    return Objection.filter(Q(organisation_id=org) | Q(lot__project__tenderer_id=org) | Q(lot__project__agency_id=org))


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


def supervised_objections(actor: Actor, status: str | None = None) -> QuerySet[Objection]:
    """Every objection of the supervisor's categories (operators: all)."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    query = Objection.filter(scope.kept_lots(actor))
    return query.filter(status=status) if status else query


def overdue_complaints(actor: Actor) -> QuerySet[Complaint]:
    """Complaints not accepted or not decided in time (flagged by the chronograph), still open."""
    return supervised_complaints(actor).filter(status__in=OPEN_COMPLAINT, overdue_at__isnull=False)


def overdue_objections(actor: Actor) -> QuerySet[Objection]:
    """Objections the tenderer did not answer in time and still has not answered."""
    return supervised_objections(actor, ObjectionStatus.OVERDUE.value)


async def suspension_of(lot_id: int) -> LotSuspension | None:
    """The suspension of the lot in force, if any (public: the lot's status says it is paused)."""
    return await LotSuspension.filter(lot_id=lot_id, lifted_at__isnull=True).order_by("id").first()


# ---------------------------------------------------------------- reports


def tracking_hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def new_tracking_code() -> str:
    """JB + 16 characters of Crockford base32 (80 bits): not guessable, easy to read out."""
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "JB" + "".join(secrets.choice(alphabet) for _ in range(16))


@dataclass(frozen=True, slots=True)
class FiledReport:
    report: Report
    tracking_code: str | None  # given once; None on the replay of an idempotency key


@use_case("report.file", "Report")
async def file_report(
    actor: Actor,
    text: str,
    evidence: list[Evidence],
    lot_id: int | None = None,
    organisation_id: int | None = None,
    idempotency_key: str | None = None,
) -> FiledReport:
    """Anyone, also anonymously, reports about a lot or an organisation; returns the tracking code once
    (only its SHA-256 is kept; a replay of the idempotency key gets the report without it)."""
    body = required_text(text, "text", MAX_TEXT)
    files = checked_evidence(evidence)
    if (lot_id is None) == (organisation_id is None):
        raise InvalidInput(field="lotId" if lot_id is None else "organisationId")
    category = None
    if lot_id is not None:
        _, project, _ = await _public_lot(lot_id)
        category = project.category
    elif not await Organisation.exists(id=organisation_id):
        raise NotFound()
    code = new_tracking_code()
    request = {"lot": lot_id, "org": organisation_id, "text": body, "evidence": files}

    async def create() -> dict[str, Any]:
        now = clock.now()
        made = await Report.create(
            tracking_hash=tracking_hash(code),
            lot_id=lot_id,
            organisation_id=organisation_id,
            category=category,
            reporter_user_id=actor.user_id,
            text=body,
            evidence=files,
            status=ReportStatus.RECEIVED.value,
            received_at=now,
            updated_at=now,
        )
        await events.record(
            ReportReceived(
                object_id=str(made.id),
                lot_id=lot_id,
                organisation_id=organisation_id,
                category=category,
                anonymous=actor.user_id is None,
                audience=Audience(roles=_keeper_roles()),
            ),
            actor,
        )
        return {"id": made.id}

    result, replayed = await run_once(actor, idempotency_key, "report.file", request, create)
    return FiledReport(await Report.get(id=result["id"]), None if replayed else code)


async def report_by_code(code: str) -> Report | None:
    """The report behind a tracking code (no sign-in needed), or None."""
    text = code.strip()
    if not text or len(text) > 64:
        return None
    return await Report.get_or_none(tracking_hash=tracking_hash(text))


def supervised_reports(actor: Actor, status: str | None = None) -> QuerySet[Report]:
    """Reports of the supervisor's categories and those about an organisation (operators: all)."""
    if actor.has(Role.OPERATOR):
        query = Report.all()
    elif actor.has(Role.SUPERVISOR):
        query = Report.filter(Q(category__in=sorted(actor.supervised_categories)) | Q(category__isnull=True))
    else:
        raise PermissionDenied()
    return query.filter(status=status) if status else query


async def _move_report(
    actor: Actor, report_id: int, allowed: tuple[ReportStatus, ...], target: ReportStatus, outcome: str | None
) -> dict[str, Any]:
    current = await lock(Report.filter(id=report_id)).first()
    if current is None or not supervises(actor, current.category):
        raise NotFound()
    if ReportStatus(current.status) not in allowed:
        raise InvalidTransition(state=current.status)
    current.status, current.handled_by, current.updated_at = target.value, actor.user_id, clock.now()
    if outcome is not None:
        current.outcome = outcome
    await current.save()
    users = (current.reporter_user_id,) if current.reporter_user_id else ()
    await events.record(
        ReportStatusChanged(
            object_id=str(current.id),
            status=target.value,
            category=current.category,
            audience=Audience(users=users, roles=_keeper_roles()),
        ),
        actor,
    )
    return {"id": current.id}


@use_case("report.investigate", "Report", lambda actor, report_id, *a, **k: str(report_id))
async def investigate_report(actor: Actor, report_id: int, idempotency_key: str | None = None) -> Report:
    """The supervisor starts investigating a received report."""

    async def change() -> dict[str, Any]:
        return await _move_report(actor, report_id, (ReportStatus.RECEIVED,), ReportStatus.INVESTIGATING, None)

    result, _ = await run_once(actor, idempotency_key, "report.investigate", {"id": report_id}, change)
    return await Report.get(id=result["id"])


@use_case("report.close", "Report", lambda actor, report_id, *a, **k: str(report_id))
async def close_report(actor: Actor, report_id: int, outcome: str, idempotency_key: str | None = None) -> Report:
    """The supervisor closes a report with its outcome, which the reporter reads with the code."""
    text = required_text(outcome, "outcome", MAX_TEXT)

    async def change() -> dict[str, Any]:
        return await _move_report(
            actor, report_id, (ReportStatus.RECEIVED, ReportStatus.INVESTIGATING), ReportStatus.CLOSED, text
        )

    result, _ = await run_once(actor, idempotency_key, "report.close", {"id": report_id, "o": text}, change)
    return await Report.get(id=result["id"])
