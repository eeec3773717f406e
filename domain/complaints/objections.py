"""Objections (异议) to the tenderer.

An objection is raised on the tender documents (at least 10 days before the bid deadline), at the
opening (during its decryption window; the on-the-spot objections of domain/tendering/opening count
too) or on the candidates (during the candidate publicity). The tenderer or its agency answers within
the lot's objection_answer_days (calendar days, to 24:00 Beijing time); the chronograph flags an
unanswered one overdue to the supervisors of the lot's category, once. While one is unanswered the
lot cannot be awarded (an award blocker of domain/results).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from domain.access import scope
from domain.certificates import acts
from domain.certificates import signatures as act_signatures
from domain.certificates.errors import SIGNATURE_ERRORS
from domain.certificates.signatures import Signed
from domain.common import calendar, clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.complaints.errors import NotAnInterestedParty, ObjectionWindowClosed
from domain.complaints.events import ObjectionAnswered, ObjectionOverdue, ObjectionRaised, ObjectionWithdrawn
from domain.complaints.models import Objection
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
)
from domain.complaints.states import (
    OBJECTION,
    UNANSWERED,
    ObjectionStage,
    ObjectionStatus,
)
from domain.publication.models import Announcement, Lot, Project
from domain.publication.projects import managed_project
from domain.publication.states import AnnouncementStatus, AnnouncementType
from domain.results import cancellation
from domain.results import services as results
from domain.tendering.models import Opening, SealedBid


def _at(config: dict[str, Any], name: str) -> datetime | None:
    value = config.get(name)
    return datetime.fromisoformat(value) if value else None


async def _window_facts(stage: ObjectionStage, lot: Lot, org_id: int, now: datetime) -> dict[str, Any]:
    """What the table's window guards decide on (domain/complaints/states): only the stage's own reads."""
    facts: dict[str, Any] = {
        "stage": stage.value,
        "now": now,
        "lot_status": lot.status,
        "bid_deadline": _at(lot.config, "bid_deadline"),
        "opening_status": None,
        "sealed_bid": True,
        "publicity_starts_at": None,
        "publicity_ends_at": None,
    }
    if stage is ObjectionStage.OPENING:
        opening = await Opening.get_or_none(lot_id=lot.id)
        facts["opening_status"] = opening.status if opening is not None else None
        facts["sealed_bid"] = await SealedBid.exists(lot_id=lot.id, organisation_id=org_id)
    elif stage is ObjectionStage.CANCELLATION:
        facts["cancellation_open"] = await cancellation.open_window(lot.id, now) is not None
    elif stage is ObjectionStage.PUBLICITY:
        publicity = (
            await Announcement.filter(
                lot_id=lot.id,
                type=AnnouncementType.CANDIDATE_PUBLICITY.value,
                status=AnnouncementStatus.PUBLISHED.value,
            )
            .order_by("-published_at")
            .first()
        )
        if publicity is not None:
            facts["publicity_starts_at"] = publicity.publicity_starts_at
            facts["publicity_ends_at"] = publicity.publicity_ends_at
    return facts


def answer_due(raised_at: datetime, days: int) -> datetime:
    """24:00 (Beijing) of the `days`-th calendar day after the day the objection was raised."""
    return calendar.end_of(clock.to_shanghai(raised_at).date() + timedelta(days=days))


@raises(ObjectionWindowClosed, NotAnInterestedParty, *SIGNATURE_ERRORS)
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
    _lot, project, _ = await public_lot(lot_id)
    org_id = party(actor, project)
    act_signature = await act_signatures.check(
        actor, acts.objection_raise(_lot.trade_code, stage_.value, reasons), signed, required=False
    )
    request = {"lot": lot_id, "stage": stage_.value, "reasons": text, "evidence": files}
    if act_signature is not None:
        request["signature"] = act_signature.signature

    async def create() -> dict[str, Any]:
        locked = await lock(Lot.filter(id=lot_id)).get()
        now = clock.now()
        status = OBJECTION.fire(None, "raise", **await _window_facts(stage_, locked, org_id, now))
        due = answer_due(now, int(locked.config.get("objection_answer_days", 3)))
        made = await Objection.create(
            lot_id=lot_id,
            stage=stage_.value,
            organisation_id=org_id,
            raised_by=actor.user_id,
            reasons=text,
            evidence=files,
            status=status.value,
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
                audience=Audience(orgs=(org_id, *managers(project))),
            ),
            actor,
        )
        if act_signature is not None:
            await act_signatures.record(actor, act_signature, "Objection", made.id, lot_id)
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "objection.raise", request, create)
    return await Objection.get(id=result["id"])


@raises()
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
    project = await managed_project(actor, lot.project_id)

    async def change() -> dict[str, Any]:
        current = await lock(Objection.filter(id=objection_id)).get()
        answered = OBJECTION.fire(current.status, "answer", by=actor)
        now = clock.now()
        late = current.status == ObjectionStatus.OVERDUE.value
        current.status, current.answer, current.answered_by, current.answered_at = (
            answered.value,
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
                    orgs=(current.organisation_id, *managers(project)),
                    roles=keeper_roles() if late else (Role.OPERATOR.value,),
                ),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "objection.answer", {"id": objection_id, "a": text}, change)
    return await Objection.get(id=result["id"])


@raises()
@use_case("objection.withdraw", "Objection", lambda actor, objection_id, *a, **k: str(objection_id))
async def withdraw_objection(actor: Actor, objection_id: int, idempotency_key: str | None = None) -> Objection:
    """The objector withdraws its unanswered objection; the lot is no longer paused by it."""
    found = await Objection.get_or_none(id=objection_id)
    if found is None or actor.org_id is None or found.organisation_id != actor.org_id:
        raise NotFound()

    async def change() -> dict[str, Any]:
        current = await lock(Objection.filter(id=objection_id)).get()
        withdrawn = OBJECTION.fire(current.status, "withdraw", by=actor)
        now = clock.now()
        current.status, current.withdrawn_at, current.next_check_at = withdrawn.value, now, None
        await current.save()
        project = await Project.get(id=(await Lot.get(id=current.lot_id)).project_id)
        await events.record(
            ObjectionWithdrawn(
                object_id=str(current.id),
                lot_id=current.lot_id,
                stage=current.stage,
                organisation_id=current.organisation_id,
                audience=Audience(orgs=(current.organisation_id, *managers(project))),
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
    step = OBJECTION.due(current.status, now=now, due_at=current.answer_due_at)
    if step is not None:
        current.status, current.overdue_at = step.target.value, now
        lot = await Lot.get(id=current.lot_id)
        project = await Project.get(id=lot.project_id)
        await record_once(
            ObjectionOverdue(
                object_id=str(current.id),
                lot_id=lot.id,
                stage=current.stage,
                organisation_id=current.organisation_id,
                answer_due_at=current.answer_due_at,
                category=project.category,
                audience=Audience(orgs=(current.organisation_id, *managers(project)), roles=keeper_roles()),
            ),
            f"objection.overdue:{current.id}",
        )
    elif current.status == ObjectionStatus.PENDING.value:
        due = current.answer_due_at
    current.next_check_at = due
    await current.save()
    objection.next_check_at = due


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


# ---------------------------------------------------------------- reading


async def cancellation_objection_waits(lot_ids: list[int]) -> bool:
    """Whether an objection to the cancellation of these lots is still unanswered (domain/results/cancellation)."""
    return await Objection.filter(
        lot_id__in=lot_ids, stage=ObjectionStage.CANCELLATION.value, status__in=UNANSWERED
    ).exists()


async def objection(actor: Actor, objection_id: int) -> Objection:
    """An objection for its objector, the tenderer (agency), the supervisors of the category, operators."""
    found = await Objection.get_or_none(id=objection_id)
    if found is None:
        raise NotFound()
    project = await Project.get(id=(await Lot.get(id=found.lot_id)).project_id)
    visible = (
        actor.has(Role.OPERATOR)
        or supervises(actor, project.category)
        or (actor.org_id is not None and actor.org_id in (found.organisation_id, *managers(project)))
    )
    if not visible:
        raise NotFound()
    return found


def my_objections(actor: Actor) -> QuerySet[Objection]:
    """Objections the caller's organisation raised or must answer."""
    if actor.org_id is None:
        raise PermissionDenied()
    org = actor.org_id
    return Objection.filter(Q(organisation_id=org) | Q(lot__project__tenderer_id=org) | Q(lot__project__agency_id=org))


def supervised_objections(actor: Actor, status: str | None = None) -> QuerySet[Objection]:
    """Every objection of the supervisor's categories (operators: all)."""
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()
    query = Objection.filter(scope.kept_lots(actor))
    return query.filter(status=status) if status else query


def overdue_objections(actor: Actor) -> QuerySet[Objection]:
    """Objections the tenderer did not answer in time and still has not answered."""
    return supervised_objections(actor, ObjectionStatus.OVERDUE.value)
