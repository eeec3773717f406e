"""The expert pool's lifecycle (评标专家库管理): application and review, training, the availability calendar, declared
conflicts, penalties and exit.

Basis: 《评标专家和评标专家库管理暂行办法》(国家发展计划委员会令第29号) for engineering evaluation experts and
《政府采购评审专家管理办法》(财库〔2016〕198号) for procurement experts: experts are admitted on application and review,
trained, appraised after each evaluation, declare and avoid conflicts of interest (回避), and may be warned,
suspended or removed; article numbers are not cited here.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.accounts import errors as account_errors
from domain.accounts.adapters import deps
from domain.accounts.experts import check_id_number
from domain.accounts.models import Expert, Organisation
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidPhoneNumber, normalize_mobile
from domain.common.storage import lock, lock_named
from domain.documents.models import Document
from domain.experts import errors
from domain.experts.models import (
    ExpertApplication,
    ExpertBusyDay,
    ExpertConflict,
    ExpertExit,
    ExpertPenalty,
    ExpertTraining,
)
from domain.experts.states import APPLICATION
from domain.experts.states import ApplicationStatus as ApplicationStatus

QUALIFICATION = "expert_qualification"  # the documents area's purpose for an applicant's certificates
MAX_DOCUMENTS = 20
MAX_BUSY_DAYS = 62
MAX_SUSPENSION_DAYS = 3650
_CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class Relation:
    FORMER_EMPLOYER = "former_employer"
    RELATIVE_EMPLOYER = "relative_employer"
    NAMED_ENTITY = "named_entity"
    ALL = frozenset({"former_employer", "relative_employer", "named_entity"})


class PenaltyKind:
    WARNING = "warning"
    SUSPENSION = "suspension"
    REMOVAL = "removal"
    ALL = frozenset({"warning", "suspension", "removal"})


class ExitKind:
    VOLUNTARY = "voluntary"
    AGE = "age"
    RULE = "rule"
    ALL = frozenset({"voluntary", "age", "rule"})


@dataclass(frozen=True, kw_only=True)
class ExpertApplied(DomainEvent):
    type = "expert.applied"
    object_type = "ExpertApplication"
    specialties: tuple[str, ...]
    documents: int


@dataclass(frozen=True, kw_only=True)
class ExpertApplicationReviewed(DomainEvent):
    type = "expert.application_reviewed"
    object_type = "ExpertApplication"
    approved: bool
    reason: str | None
    expert_id: int | None


@dataclass(frozen=True, kw_only=True)
class ExpertChanged(DomainEvent):
    """One step of an expert's record in the pool: trained, availability, conflict declared, penalised, left."""

    type = "expert.changed"
    object_type = "Expert"
    change: str
    detail: dict[str, Any]


def _operator(actor: Actor) -> int:
    if actor.user_id is None or not actor.has(Role.OPERATOR):
        raise PermissionDenied()
    return actor.user_id


def _audit(expert_id: int, change: str, **detail: Any) -> ExpertChanged:
    return ExpertChanged(object_id=str(expert_id), change=change, detail=detail, audience=Audience())


async def _pool_expert(expert_id: int) -> Expert:
    expert = await Expert.get_or_none(id=expert_id)
    if expert is None:
        raise NotFound()
    if not expert.is_active:
        raise errors.ExpertNotInPool()
    return expert


# ---------------------------------------------------------------- application and review


@raises(errors.ApplicationExists, account_errors.InvalidIdNumber, InvalidPhoneNumber)
@use_case("expert.apply", "ExpertApplication")
async def apply(
    actor: Actor,
    name: str,
    id_number: str,
    phone: str,
    specialties: list[str],
    title: str,
    employer_name: str,
    employer_id: int | None,
    document_ids: list[int],
    idempotency_key: str | None = None,
) -> ExpertApplication:
    """Records a signed-in person's application with its qualification documents (its own, current, not infected);
    one application under review or approved per identity number, and none for a number already in the pool."""
    if actor.user_id is None:
        raise PermissionDenied()
    user_id = actor.user_id
    person = required_text(name, "name", 50)
    number = check_id_number(id_number)
    mobile = normalize_mobile(phone)
    fields_ = sorted({required_text(s, "specialties", 64) for s in specialties})
    if not fields_:
        raise InvalidInput(field="specialties")
    rank = required_text(title, "title", 64)
    employer = required_text(employer_name, "employerName", 200)
    docs = list(dict.fromkeys(document_ids))
    if not docs or len(docs) > MAX_DOCUMENTS or len(docs) != len(document_ids):
        raise InvalidInput(field="documentIds")
    id_hash = hmac.new(deps.code_secret, number.encode(), hashlib.sha256).hexdigest()

    async def create() -> dict[str, Any]:
        if employer_id is not None and not await Organisation.exists(id=employer_id):
            raise InvalidInput(field="employerId")
        found = await Document.filter(
            id__in=docs,
            purpose=QUALIFICATION,
            owner_type="User",
            owner_id=user_id,
            superseded_by_id__isnull=True,
            scan_status__in=("clean", "unscanned", "pending"),
        ).count()
        if found != len(docs):
            raise InvalidInput(field="documentIds")
        await lock_named(f"expert.application:{id_hash}")
        open_ = (ApplicationStatus.SUBMITTED.value, ApplicationStatus.APPROVED.value)
        taken = await ExpertApplication.exists(id_number_hash=id_hash, status__in=open_)
        if taken or await Expert.exists(id_number_hash=id_hash, is_active=True):
            raise errors.ApplicationExists()
        application = await ExpertApplication.create(
            user_id=user_id,
            name=person,
            id_number_hash=id_hash,
            phone=mobile,
            specialties=fields_,
            title=rank,
            employer_name=employer,
            employer_id=employer_id,
            document_ids=docs,
            status=APPLICATION.fire(None, "submit", by=actor).value,
            created_at=clock.now(),
        )
        await events.record(
            ExpertApplied(object_id=str(application.id), specialties=tuple(fields_), documents=len(docs)), actor
        )
        return {"id": application.id}

    request = {"id": id_hash, "phone": mobile, "specialties": fields_, "title": rank, "docs": docs}
    result, _ = await run_once(actor, idempotency_key, "expert.apply", request, create)
    return await ExpertApplication.get(id=result["id"])


@raises(errors.ApplicationReviewed, errors.ExpertNotInPool, account_errors.ExpertPhoneTaken)
@use_case("expert.review", "ExpertApplication", lambda actor, application_id, *a, **k: str(application_id))
async def review(
    actor: Actor, application_id: int, approve: bool, reason: str | None, idempotency_key: str | None = None
) -> ExpertApplication:
    """The operator approves an application (the person joins the pool as an expert, or a former expert of the same
    identity is taken back) or rejects it with a reason; once."""
    user_id = _operator(actor)
    why = (reason or "").strip() or None
    if why is not None and len(why) > 500:
        raise InvalidInput(field="reason")
    if not approve and why is None:
        raise InvalidInput(field="reason")

    async def decide() -> dict[str, Any]:
        application = await lock(ExpertApplication.filter(id=application_id)).first()
        if application is None:
            raise NotFound()
        decided = APPLICATION.fire(application.status, "approve" if approve else "reject", by=actor, reason=why)
        now = clock.now()
        expert_id = None
        if approve:
            await lock_named(f"expert.phone:{application.phone}")
            if await Expert.exists(phone=application.phone, is_active=True):
                raise account_errors.ExpertPhoneTaken()
            expert = await Expert.get_or_none(id_number_hash=application.id_number_hash)
            if expert is None:
                expert = await Expert.create(
                    name=application.name,
                    id_number_hash=application.id_number_hash,
                    phone=application.phone,
                    specialties=application.specialties,
                    employer_id=application.employer_id,
                    created_at=now,
                )
            else:
                if await ExpertPenalty.exists(expert_id=expert.id, kind=PenaltyKind.REMOVAL):
                    raise errors.ExpertNotInPool()  # removed (清退) experts are not taken back
                await ExpertExit.filter(expert_id=expert.id).delete()
                expert.update_from_dict(
                    {
                        "name": application.name,
                        "phone": application.phone,
                        "specialties": application.specialties,
                        "employer_id": application.employer_id,
                        "is_active": True,
                        "created_at": now,
                    }
                )
                await expert.save()
            expert_id = expert.id
        application.update_from_dict(
            {
                "status": decided.value,
                "reason": why,
                "reviewed_by": user_id,
                "reviewed_at": now,
                "expert_id": expert_id,
            }
        )
        await application.save()
        await events.record(
            ExpertApplicationReviewed(
                object_id=str(application.id),
                approved=approve,
                reason=why,
                expert_id=expert_id,
                audience=Audience(users=(application.user_id,), roles=(Role.OPERATOR.value,)),
            ),
            actor,
        )
        return {"id": application.id}

    request = {"application": application_id, "approve": approve, "reason": why}
    result, _ = await run_once(actor, idempotency_key, "expert.review", request, decide)
    return await ExpertApplication.get(id=result["id"])


async def applications(actor: Actor, status: str | None) -> list[ExpertApplication]:
    """Operators: the applications (of one status), newest first; anyone else: its own."""
    rows = ExpertApplication.all() if actor.has(Role.OPERATOR) else ExpertApplication.filter(user_id=actor.user_id)
    if actor.user_id is None and not actor.has(Role.OPERATOR):
        return []
    if status:
        if status not in {s.value for s in ApplicationStatus}:
            return []  # no application has a status the pool does not know (and the database never sees it)
        rows = rows.filter(status=status)
    return list(await rows.order_by("-id").limit(200))


# ---------------------------------------------------------------- training and availability


@raises(errors.ExpertNotInPool)
@use_case("expert.train", "Expert", lambda actor, expert_id, *a, **k: str(expert_id))
async def record_training(
    actor: Actor,
    expert_id: int,
    course: str,
    hours: int,
    completed_on: date,
    passed: bool,
    idempotency_key: str | None = None,
) -> ExpertTraining:
    """The operator records a training the expert attended (专家培训); a retry under its key records it once."""
    user_id = _operator(actor)
    name = required_text(course, "course", 200)
    if not 0 < hours <= 1000:
        raise InvalidInput(field="hours")
    if completed_on > clock.today():
        raise InvalidInput(field="completedOn")
    expert = await _pool_expert(expert_id)
    request = {"expert": expert.id, "course": name, "hours": hours, "on": completed_on.isoformat(), "passed": passed}

    async def create() -> dict[str, Any]:
        row = await ExpertTraining.create(
            expert_id=expert.id,
            course=name,
            hours=hours,
            completed_on=completed_on,
            passed=passed,
            recorded_by=user_id,
            recorded_at=clock.now(),
        )
        await events.record(_audit(expert.id, "trained", course=name, hours=hours, passed=passed), actor)
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "expert.train", request, create)
    return await ExpertTraining.get(id=result["id"])


@raises(errors.ExpertNotInPool)
@use_case("expert.availability", "Expert", lambda actor, *a, **k: str(actor.expert_id or ""))
async def set_busy_days(actor: Actor, days: list[date], busy: bool) -> list[date]:
    """The signed-in expert marks days (Asia/Shanghai) busy or free again; returns its busy days from today. A draw
    revealed for a lot sitting on a busy day leaves the expert out."""
    if actor.expert_id is None:
        raise PermissionDenied()
    wanted = sorted(set(days))
    today = clock.today()
    if not wanted or len(wanted) > MAX_BUSY_DAYS or wanted[0] < today:
        raise InvalidInput(field="days")
    expert = await _pool_expert(actor.expert_id)
    async with in_transaction():
        if busy:
            have = set(await ExpertBusyDay.filter(expert_id=expert.id, day__in=wanted).values_list("day", flat=True))
            for day in wanted:
                if day not in have:
                    await ExpertBusyDay.create(expert_id=expert.id, day=day, created_at=clock.now())
        else:
            await ExpertBusyDay.filter(expert_id=expert.id, day__in=wanted).delete()
        await events.record(_audit(expert.id, "busy" if busy else "free", days=[d.isoformat() for d in wanted]), actor)
    return [row.day for row in await ExpertBusyDay.filter(expert_id=expert.id, day__gte=today).order_by("day")]


# ---------------------------------------------------------------- conflicts


@dataclass(frozen=True, slots=True)
class Entity:
    """Whom a conflict names: a registered organisation, a unified social credit code, or a name."""

    organisation_id: int | None = None
    credit_code: str | None = None
    name: str | None = None


async def _entity(entity: Entity) -> Entity:
    code = (entity.credit_code or "").strip().upper() or None
    name = (entity.name or "").strip() or None
    if code is not None and not _CREDIT_CODE.match(code):
        raise InvalidInput(field="creditCode")
    if name is not None and len(name) > 200:
        raise InvalidInput(field="entityName")
    if entity.organisation_id is None and code is None and name is None:
        raise InvalidInput(field="entity")
    if entity.organisation_id is not None and not await Organisation.exists(id=entity.organisation_id):
        raise InvalidInput(field="organisationId")
    return Entity(entity.organisation_id, code, name)


async def new_conflict(expert_id: int, relation: str, entity: Entity, note: str | None) -> ExpertConflict:
    """A conflict row, checked, in the caller's transaction."""
    if relation not in Relation.ALL:
        raise InvalidInput(field="relation")
    text = (note or "").strip() or None
    if text is not None and len(text) > 500:
        raise InvalidInput(field="note")
    named = await _entity(entity)
    return await ExpertConflict.create(
        expert_id=expert_id,
        relation=relation,
        organisation_id=named.organisation_id,
        credit_code=named.credit_code,
        entity_name=named.name,
        note=text,
        declared_at=clock.now(),
    )


@raises(errors.ExpertNotInPool)
@use_case("expert.declare_conflict", "Expert", lambda actor, *a, **k: str(actor.expert_id or ""))
async def declare_conflict(
    actor: Actor, relation: str, entity: Entity, note: str | None = None, idempotency_key: str | None = None
) -> ExpertConflict:
    """The signed-in expert declares a conflict (a former employer, a relative's employer, another entity): every
    draw revealed from now on leaves the expert off lots that entity takes part in."""
    if actor.expert_id is None:
        raise PermissionDenied()
    expert = await _pool_expert(actor.expert_id)
    request = {"relation": relation, "entity": [entity.organisation_id, entity.credit_code, entity.name], "note": note}

    async def create() -> dict[str, Any]:
        row = await new_conflict(expert.id, relation, entity, note)
        await events.record(_audit(expert.id, "conflict_declared", conflict=row.id, relation=relation), actor)
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "expert.declare_conflict", request, create)
    return await ExpertConflict.get(id=result["id"])


def matches(conflict: ExpertConflict, orgs: dict[int, tuple[str, str]]) -> bool:
    """Whether a declared conflict names one of the organisations (id -> (credit code, name))."""
    if conflict.organisation_id is not None and conflict.organisation_id in orgs:
        return True
    codes = {code for code, _ in orgs.values()}
    names = {name.strip() for _, name in orgs.values()}
    return (conflict.credit_code is not None and conflict.credit_code in codes) or (
        conflict.entity_name is not None and conflict.entity_name in names
    )


# ---------------------------------------------------------------- penalties and exit


@raises(errors.ExpertNotInPool)
@use_case("expert.penalise", "Expert", lambda actor, expert_id, *a, **k: str(expert_id))
async def penalise(
    actor: Actor,
    expert_id: int,
    kind: str,
    reason: str,
    days: int | None = None,
    lot_id: int | None = None,
    idempotency_key: str | None = None,
) -> ExpertPenalty:
    """The operator warns an expert, suspends it from draws for `days`, or removes it from the pool (清退: it can no
    longer sign in nor be drawn, nor be taken back on a new application)."""
    user_id = _operator(actor)
    if kind not in PenaltyKind.ALL:
        raise InvalidInput(field="kind")
    why = required_text(reason, "reason", 500)
    if kind == PenaltyKind.SUSPENSION and (days is None or not 0 < days <= MAX_SUSPENSION_DAYS):
        raise InvalidInput(field="days")
    if kind != PenaltyKind.SUSPENSION and days is not None:
        raise InvalidInput(field="days")
    request = {"expert": expert_id, "kind": kind, "reason": why, "days": days, "lot": lot_id}

    async def create() -> dict[str, Any]:
        expert = await lock(Expert.filter(id=expert_id)).first()
        if expert is None:
            raise NotFound()
        if not expert.is_active:
            raise errors.ExpertNotInPool()
        now = clock.now()
        row = await ExpertPenalty.create(
            expert_id=expert.id,
            kind=kind,
            reason=why,
            lot_id=lot_id,
            starts_at=now,
            ends_at=now + timedelta(days=days) if days else None,
            by_user=user_id,
            created_at=now,
        )
        if kind == PenaltyKind.REMOVAL:
            expert.is_active = False
            await expert.save(update_fields=["is_active"])
        await events.record(_audit(expert.id, f"penalty_{kind}", penalty=row.id, days=days, reason=why), actor)
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "expert.penalise", request, create)
    return await ExpertPenalty.get(id=result["id"])


@raises(errors.ExpertNotInPool)
@use_case("expert.exit", "Expert", lambda actor, expert_id=None, *a, **k: str(expert_id or actor.expert_id or ""))
async def leave(
    actor: Actor, expert_id: int | None, kind: str, reason: str, idempotency_key: str | None = None
) -> ExpertExit:
    """An expert leaves the pool: the signed-in expert at its own request (voluntary), or the operator under a rule
    (age, other rule). It is no longer drawn nor signs in; a new application may take it back."""
    why = required_text(reason, "reason", 500)
    if kind not in ExitKind.ALL:
        raise InvalidInput(field="kind")
    if kind == ExitKind.VOLUNTARY:
        if actor.expert_id is None or expert_id not in (None, actor.expert_id):
            raise PermissionDenied()
        target, by_user = actor.expert_id, None
    else:
        by_user = _operator(actor)
        if expert_id is None:
            raise InvalidInput(field="expertId")
        target = expert_id
    request = {"expert": target, "kind": kind, "reason": why}

    async def create() -> dict[str, Any]:
        expert = await lock(Expert.filter(id=target)).first()
        if expert is None:
            raise NotFound()
        if not expert.is_active:
            raise errors.ExpertNotInPool()
        row = await ExpertExit.create(
            expert_id=expert.id, kind=kind, reason=why, by_user=by_user, exited_at=clock.now()
        )
        expert.is_active = False
        await expert.save(update_fields=["is_active"])
        await events.record(_audit(expert.id, "exited", kind=kind, reason=why), actor)
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "expert.exit", request, create)
    return await ExpertExit.get(id=result["id"])


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Standing:
    """Where an expert stands in the pool now."""

    status: str  # active, suspended, removed, exited
    suspended_until: datetime | None


async def standing(expert: Expert, now: datetime | None = None) -> Standing:
    at = now or clock.now()
    if await ExpertPenalty.exists(expert_id=expert.id, kind=PenaltyKind.REMOVAL):
        return Standing("removed", None)
    if await ExpertExit.exists(expert_id=expert.id):
        return Standing("exited", None)
    suspension = (
        await ExpertPenalty.filter(expert_id=expert.id, kind=PenaltyKind.SUSPENSION, starts_at__lte=at, ends_at__gt=at)
        .order_by("-ends_at")
        .first()
    )
    if suspension is not None:
        return Standing("suspended", suspension.ends_at)
    return Standing("active" if expert.is_active else "exited", None)
