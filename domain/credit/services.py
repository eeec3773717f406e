"""Credit records and joint punishment (一处受罚，处处受限)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tortoise.expressions import Q

from domain.accounts import organisations
from domain.accounts.models import Organisation, User
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.credit.models import CreditRecord, JointPunishment


class CreditKind(StrEnum):
    GOOD = "good"
    BAD = "bad"


class PunishmentAlreadyLifted(DomainError):
    code = "PUNISHMENT_ALREADY_LIFTED"
    message_zh = "该惩戒已解除"
    message_en = "This punishment was already lifted"


@dataclass(frozen=True, kw_only=True)
class CreditRecorded(DomainEvent):
    type = "credit.recorded"
    object_type = "CreditRecord"
    organisation_id: int
    kind: str


@dataclass(frozen=True, kw_only=True)
class PunishmentListed(DomainEvent):
    type = "punishment.listed"
    object_type = "JointPunishment"
    organisation_id: int


@dataclass(frozen=True, kw_only=True)
class PunishmentLifted(DomainEvent):
    type = "punishment.lifted"
    object_type = "JointPunishment"
    organisation_id: int


def _ensure_keeper(actor: Actor) -> None:
    if not actor.has(Role.OPERATOR, Role.SUPERVISOR):
        raise PermissionDenied()


@raises()
@use_case("credit.record", "CreditRecord")
async def add_credit_record(
    actor: Actor,
    organisation_id: int,
    kind: str,
    category: str,
    description: str,
    source: str,
    idempotency_key: str | None = None,
) -> CreditRecord:
    """Adds a good or bad credit record to an organisation; operators and supervisors only."""
    _ensure_keeper(actor)
    try:
        kind_ = CreditKind(kind)
    except ValueError:
        raise InvalidInput(field="kind") from None
    request = {
        "org": organisation_id,
        "kind": kind_.value,
        "category": required_text(category, "category", 64),
        "description": required_text(description, "description", 4000),
        "source": required_text(source, "source", 200),
    }

    async def create() -> dict[str, Any]:
        if not await Organisation.exists(id=organisation_id):
            raise NotFound()
        record = await CreditRecord.create(
            organisation_id=organisation_id,
            kind=kind_.value,
            category=request["category"],
            description=request["description"],
            source=request["source"],
            recorded_by=actor.user_id or 0,
            recorded_at=clock.now(),
        )
        await events.record(
            CreditRecorded(
                object_id=str(record.id),
                organisation_id=organisation_id,
                kind=kind_.value,
                audience=Audience(orgs=(organisation_id,), roles=("operator", "supervisor")),
            ),
            actor,
        )
        return {"id": record.id}

    result, _ = await run_once(actor, idempotency_key, "credit.record", request, create)
    return await CreditRecord.get(id=result["id"])


@raises()
@use_case("punishment.list", "JointPunishment")
async def list_punishment(
    actor: Actor,
    organisation_id: int,
    reason: str,
    authority: str,
    document_no: str,
    starts_at: datetime,
    ends_at: datetime | None,
    idempotency_key: str | None = None,
) -> JointPunishment:
    """Puts an organisation on the joint-punishment list: it may not register for any lot."""
    _ensure_keeper(actor)
    if starts_at.tzinfo is None:
        raise InvalidInput(field="startsAt")
    if ends_at is not None and (ends_at.tzinfo is None or ends_at <= starts_at):
        raise InvalidInput(field="endsAt")
    request = {
        "org": organisation_id,
        "reason": required_text(reason, "reason", 4000),
        "authority": required_text(authority, "authority", 200),
        "document_no": required_text(document_no, "documentNo", 100),
        "starts_at": starts_at.isoformat(),
        "ends_at": ends_at.isoformat() if ends_at else None,
    }

    async def create() -> dict[str, Any]:
        if not await Organisation.exists(id=organisation_id):
            raise NotFound()
        entry = await JointPunishment.create(
            organisation_id=organisation_id,
            reason=request["reason"],
            authority=request["authority"],
            document_no=request["document_no"],
            starts_at=starts_at,
            ends_at=ends_at,
            recorded_by=actor.user_id or 0,
            recorded_at=clock.now(),
        )
        await events.record(
            PunishmentListed(
                object_id=str(entry.id),
                organisation_id=organisation_id,
                audience=Audience(orgs=(organisation_id,), roles=("operator", "supervisor")),
            ),
            actor,
        )
        return {"id": entry.id}

    result, _ = await run_once(actor, idempotency_key, "punishment.list", request, create)
    return await JointPunishment.get(id=result["id"])


@raises(PunishmentAlreadyLifted)
@use_case("punishment.lift", "JointPunishment", lambda actor, punishment_id, *a, **k: punishment_id)
async def lift_punishment(
    actor: Actor, punishment_id: int, reason: str, idempotency_key: str | None = None
) -> JointPunishment:
    """Lifts a punishment early (e.g. after credit repair), with the reason on record."""
    _ensure_keeper(actor)
    why = required_text(reason, "reason", 4000)

    async def change() -> dict[str, Any]:
        entry = await lock(JointPunishment.filter(id=punishment_id)).first()
        if entry is None:
            raise NotFound()
        if entry.lifted_at is not None:
            raise PunishmentAlreadyLifted()
        entry.lifted_at, entry.lifted_reason = clock.now(), why
        await entry.save(update_fields=["lifted_at", "lifted_reason"])
        await events.record(
            PunishmentLifted(
                object_id=str(entry.id),
                organisation_id=entry.organisation_id,
                audience=Audience(orgs=(entry.organisation_id,), roles=("operator", "supervisor")),
            ),
            actor,
        )
        return {"id": entry.id}

    result, _ = await run_once(actor, idempotency_key, "punishment.lift", {"id": punishment_id, "reason": why}, change)
    return await JointPunishment.get(id=result["id"])


def _in_force(now: datetime) -> Q:
    return Q(lifted_at=None, starts_at__lte=now) & (Q(ends_at=None) | Q(ends_at__gt=now))


async def is_punished(organisation_id: int, now: datetime | None = None) -> bool:
    """Whether the organisation is on the joint-punishment list right now: `JointPunishment.filter(_in_force(now),
    organisation_id=...).exists()`, sent as one statement written once per dialect (`query Me` asks it on every
    request, and building it through the query builder cost more CPU than the round trip, issue 21). The time is
    encoded by the field as the ORM encodes it (tests/domain/credit/test_is_punished.py compares the two)."""
    client = JointPunishment._meta.db
    dialect = client.capabilities.dialect
    sql, at_twice = _PUNISHED_NOW.get(dialect) or _punished_now(dialect)
    at = _STARTS_AT.to_db_value(now or clock.now(), JointPunishment)
    _, rows = await client.execute_query(sql, [organisation_id, at, at] if at_twice else [organisation_id, at])
    return bool(rows)


_STARTS_AT = JointPunishment._meta.fields_map["starts_at"]
_PUNISHED_NOW: dict[str, tuple[str, bool]] = {}


def _punished_now(dialect: str) -> tuple[str, bool]:
    """`is_punished`'s statement, the conditions of `_in_force` reading only the columns they need; and whether the
    time is passed twice (SQLite's `?` are positional, PostgreSQL's `$2` is named)."""
    postgres = dialect == "postgres"
    org, at = ("$1", "$2") if postgres else ("?", "?")
    known = _PUNISHED_NOW[dialect] = (
        f'SELECT 1 FROM "{JointPunishment._meta.db_table}" WHERE "organisation_id"={org} AND "lifted_at" IS NULL '
        f'AND "starts_at"<={at} AND ("ends_at" IS NULL OR "ends_at">{at}) LIMIT 1',
        not postgres,
    )
    return known


async def user_of_and_punished(actor: Actor, now: datetime | None = None) -> tuple[User, bool]:
    """`accounts.organisations.user_of(actor)` and `is_punished(its organisation)` in one statement (`query Me` asks
    both on every request: issue 21): user_of's statement with `is_punished`'s conditions as an EXISTS over the
    organisation it joins (tests/domain/credit/test_is_punished.py compares the answers)."""
    if actor.user_id is None:
        raise NotFound()
    client = JointPunishment._meta.db
    dialect = client.capabilities.dialect
    statement = organisations.user_with_organisation(
        dialect, _PUNISHED_COLUMN.get(dialect) or _punished_column(dialect)
    )
    at = _STARTS_AT.to_db_value(now or clock.now(), JointPunishment)
    parameters = [actor.user_id, at] if dialect == "postgres" else [at, at, actor.user_id]
    _, rows = await client.execute_query(statement.sql, parameters)
    if not rows:
        raise NotFound()
    row = tuple(rows[0])
    return statement.user(row), bool(row[-1])


_PUNISHED_COLUMN: dict[str, str] = {}


def _punished_column(dialect: str) -> str:
    """`is_punished`'s conditions as one selected column of `user_of`'s statement, over its organisation `o`."""
    at = "$2" if dialect == "postgres" else "?"
    known = _PUNISHED_COLUMN[dialect] = (
        f'EXISTS (SELECT 1 FROM "{JointPunishment._meta.db_table}" p WHERE p."organisation_id"=o."id" '
        f'AND p."lifted_at" IS NULL AND p."starts_at"<={at} AND (p."ends_at" IS NULL OR p."ends_at">{at}))'
    )
    return known


async def punishments_of(organisation_id: int, in_force_only: bool = False) -> list[JointPunishment]:
    query = JointPunishment.filter(organisation_id=organisation_id)
    if in_force_only:
        query = query.filter(_in_force(clock.now()))
    return await query.order_by("-starts_at")


async def records_of(organisation_id: int) -> list[CreditRecord]:
    return await CreditRecord.filter(organisation_id=organisation_id).order_by("-recorded_at")
