"""Credit repair (信用修复): after the minimum publicity period the organisation applies, with documents showing it
corrected the conduct (purpose credit_repair_evidence); a supervisor of the record's category decides (any
supervisor for a record of no lot); an approval withdraws the public record early, kept for officials."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.credit.models import CreditPublication, CreditRepair
from domain.credit_public import publicity
from domain.credit_public.errors import CreditRecordNotPublic, CreditRepairPending, CreditRepairTooEarly
from domain.documents.models import Document

PURPOSE = "credit_repair_evidence"
MAX_DOCUMENTS = 20
MAX_TEXT = 4000


class RepairStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True, kw_only=True)
class RepairApplied(DomainEvent):
    type = "credit.repair_applied"
    object_type = "CreditRepair"
    organisation_id: int
    publication_id: int


@dataclass(frozen=True, kw_only=True)
class RepairDecided(DomainEvent):
    type = "credit.repair_decided"
    object_type = "CreditRepair"
    organisation_id: int
    publication_id: int
    status: str


def decides(actor: Actor, pub: CreditPublication) -> bool:
    """A supervisor of the record's category (of any category for a record of no lot)."""
    if not actor.has(Role.SUPERVISOR):
        return False
    return pub.category is None or pub.category in actor.supervised_categories


async def _documents(org_id: int, ids: list[int]) -> list[int]:
    wanted = sorted(set(ids))
    if not wanted or len(wanted) > MAX_DOCUMENTS:
        raise InvalidInput(field="documentIds")
    found = await Document.filter(
        id__in=wanted,
        purpose=PURPOSE,
        owner_id=org_id,
        organisation_id=org_id,
        scan_status__in=("clean", "unscanned"),
    ).count()
    if found != len(wanted):
        raise InvalidInput(field="documentIds")
    return wanted


@raises(CreditRepairTooEarly, CreditRepairPending, CreditRecordNotPublic)
@use_case("credit.repair_apply", "CreditPublication", lambda actor, publication_id, *a, **k: publication_id)
async def apply(
    actor: Actor, publication_id: int, statement: str, document_ids: list[int], idempotency_key: str | None = None
) -> CreditRepair:
    """The organisation applies to repair one of its public records once its minimum period has passed, with its
    corrective documents; another's record is NotFound."""
    if actor.org_id is None or actor.user_id is None:
        raise PermissionDenied()
    org_id = actor.org_id
    text = required_text(statement, "statement", MAX_TEXT)
    pub = await CreditPublication.get_or_none(id=publication_id)
    if pub is None or pub.organisation_id != org_id:
        raise NotFound()
    docs = await _documents(org_id, document_ids)
    request = {"publication": publication_id, "statement": text, "documents": docs}

    async def change() -> dict[str, Any]:
        locked = await lock(CreditPublication.filter(id=publication_id)).get()
        now = clock.now()
        if locked.withdrawn_at is not None or locked.public_until <= now:
            raise CreditRecordNotPublic()
        if now < locked.repairable_from:
            raise CreditRepairTooEarly(repairable_from=locked.repairable_from)
        if await CreditRepair.exists(publication_id=publication_id, status=RepairStatus.PENDING.value):
            raise CreditRepairPending()
        row = await CreditRepair.create(
            publication_id=publication_id,
            organisation_id=org_id,
            statement=text,
            document_ids=docs,
            status=RepairStatus.PENDING.value,
            applied_by=actor.user_id,
            applied_at=now,
        )
        await events.record(
            RepairApplied(
                object_id=str(row.id),
                organisation_id=org_id,
                publication_id=publication_id,
                audience=Audience(orgs=(org_id,), roles=("operator", "supervisor")),
            ),
            actor,
        )
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "credit.repair_apply", request, change)
    return await CreditRepair.get(id=result["id"])


@raises()
@use_case("credit.repair_decide", "CreditRepair", lambda actor, repair_id, *a, **k: repair_id)
async def decide(
    actor: Actor, repair_id: int, approve: bool, note: str, idempotency_key: str | None = None
) -> CreditRepair:
    """A supervisor of the record's category approves (the public record is withdrawn at once, kept for officials)
    or rejects a pending application, with its reasons."""
    text = required_text(note, "note", MAX_TEXT)
    found = await CreditRepair.get_or_none(id=repair_id).prefetch_related("publication")
    if found is None or not decides(actor, found.publication):
        raise NotFound()
    request = {"id": repair_id, "approve": approve, "note": text}

    async def change() -> dict[str, Any]:
        row = await lock(CreditRepair.filter(id=repair_id)).get()
        if row.status != RepairStatus.PENDING.value:
            raise InvalidTransition(state=row.status)
        status = RepairStatus.APPROVED if approve else RepairStatus.REJECTED
        row.status, row.decided_by, row.decided_at, row.decision_note = status.value, actor.user_id, clock.now(), text
        await row.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
        if approve:
            pub = await lock(CreditPublication.filter(id=row.publication_id)).get()
            await publicity.withdraw(pub, publicity.Withdrawal.REPAIRED, actor)
        await events.record(
            RepairDecided(
                object_id=str(row.id),
                organisation_id=row.organisation_id,
                publication_id=row.publication_id,
                status=status.value,
                audience=Audience(orgs=(row.organisation_id,), roles=("operator", "supervisor")),
            ),
            actor,
        )
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "credit.repair_decide", request, change)
    return await CreditRepair.get(id=result["id"])


@raises()
async def repairs_of(actor: Actor) -> list[CreditRepair]:
    """The caller's organisation's applications, newest first."""
    if actor.org_id is None:
        raise PermissionDenied()
    return await CreditRepair.filter(organisation_id=actor.org_id).order_by("-id")


@raises()
async def supervised_repairs(actor: Actor, pending_only: bool = True) -> list[CreditRepair]:
    """The applications a supervisor decides (its categories' records and records of no lot), oldest first."""
    if not actor.has(Role.SUPERVISOR):
        raise PermissionDenied()
    kept = Q(publication__category__in=sorted(actor.supervised_categories)) | Q(publication__category__isnull=True)
    rows = await CreditRepair.filter(kept).order_by("id")
    return [r for r in rows if not pending_only or r.status == RepairStatus.PENDING.value]
