"""Accredited third-party e-trading systems (市场化电子交易系统接入): the operator accredits, suspends, reinstates
and revokes a system that signs in with its integrator client; a tenderer authorises an accredited system to act
for it with a subset of the system's write scopes until an expiry, and may revoke that at any time.

A delegated token (`/oauth/token` with `on_behalf_of`) makes the system's calls those of the tenderer "via" the
system: the same mutations, rules, audit (the entry's actor is the client, its organisation the tenderer) and
rate limits as the app. Each request checks the accreditation and the authorisation again (one indexed read), so
a revocation refuses already issued tokens at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from tortoise.transactions import in_transaction

from domain.accounts import errors
from domain.accounts import events as ev
from domain.accounts.models import IntegratorClient, Organisation
from domain.accounts.states import ACCREDITATION, SystemStatus
from domain.accounts.third_party_models import AccreditedSystem, SystemAuthorisation
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    raises,
    required_text,
)
from domain.common.events import Audience, use_case
from domain.common.idempotency import run_once

# what an accredited system may do for a tenderer that authorised it; the GraphQL fields each scope opens are
# listed in schema/delegation_guard.py
WRITE_SCOPES: Final = frozenset({"projects:write", "lots:write", "announcements:write", "results:write"})


def _operator(actor: Actor) -> None:
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()


@raises(errors.UnknownScope)
@use_case("accredited_system.accredit", "AccreditedSystem")
async def accredit_system(
    actor: Actor,
    client_id: str,
    name: str,
    operator_company: str,
    accreditation_no: str,
    valid_until: datetime,
    idempotency_key: str | None = None,
) -> AccreditedSystem:
    """Accredits the system behind an active integrator client, once per client and accreditation number."""
    _operator(actor)
    label = required_text(name, "name", 200)
    company = required_text(operator_company, "operatorCompany", 200)
    number = required_text(accreditation_no, "accreditationNo", 64)
    if valid_until.tzinfo is None or valid_until <= clock.now():
        raise InvalidInput(field="validUntil")
    client = await IntegratorClient.get_or_none(client_id=client_id, is_active=True)
    if client is None:
        raise NotFound()
    if not WRITE_SCOPES & set(client.scopes):
        # an accredited system writes for tenderers: its client needs at least one write scope
        raise errors.UnknownScope(" ".join(sorted(WRITE_SCOPES)))

    async def create() -> dict[str, Any]:
        if await AccreditedSystem.exists(client_id=client_id) or await AccreditedSystem.exists(accreditation_no=number):
            raise InvalidInput(field="accreditationNo")
        now = clock.now()
        system = await AccreditedSystem.create(
            client_id=client_id,
            name=label,
            operator_company=company,
            accreditation_no=number,
            valid_until=valid_until,
            status=ACCREDITATION.fire(None, "accredit", by=actor).value,
            accredited_by=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        await events.record(
            ev.SystemAccredited(
                object_id=str(system.id),
                client_id=client_id,
                accreditation_no=number,
                valid_until=valid_until.isoformat(),
            ),
            actor,
        )
        return {"id": system.id}

    request = {"client": client_id, "name": label, "company": company, "no": number, "until": valid_until}
    result, _ = await run_once(actor, idempotency_key, "accredited_system.accredit", request, create)
    return await AccreditedSystem.get(id=result["id"])


@raises()
@use_case("accredited_system.status", "AccreditedSystem", lambda actor, system_id, *a, **k: system_id)
async def change_system_status(actor: Actor, system_id: int, target: SystemStatus, reason: str) -> AccreditedSystem:
    """Suspends, reinstates or revokes an accreditation with a reason; a revoked system stays revoked."""
    _operator(actor)
    why = required_text(reason, "reason", 1000)
    async with in_transaction():
        system = await AccreditedSystem.select_for_update().get_or_none(id=system_id)
        if system is None:
            raise NotFound()
        move = ACCREDITATION.leading(system.status, target)
        if move is None:
            raise InvalidTransition(state=system.status)
        ACCREDITATION.fire(system.status, move.name, by=actor)
        system.status, system.reason, system.updated_at = target.value, why, clock.now()
        await system.save(update_fields=["status", "reason", "updated_at"])
        await events.record(ev.SystemStatusChanged(object_id=str(system.id), status=target.value, reason=why), actor)
    return system


async def systems(actor: Actor) -> list[AccreditedSystem]:
    """Every system for an operator; the accredited, valid ones for a tenderer choosing whom to authorise."""
    if actor.has(Role.OPERATOR):
        return await AccreditedSystem.all().order_by("id")
    if actor.has(Role.TENDERER) and actor.user_id is not None:
        return await AccreditedSystem.filter(
            status=SystemStatus.ACCREDITED.value, valid_until__gt=clock.now()
        ).order_by("id")
    raise PermissionDenied()


def _tenderer_user(actor: Actor) -> int:
    # a person of the tenderer signs the authorisation, never a system acting for it
    if actor.user_id is None or actor.org_id is None or actor.client_id is not None or not actor.has(Role.TENDERER):
        raise PermissionDenied()
    return actor.org_id


@raises(errors.UnknownScope, errors.SystemNotAccredited)
@use_case("system_authorisation.grant", "SystemAuthorisation")
async def authorise_system(
    actor: Actor, system_id: int, scopes: list[str], expires_at: datetime, idempotency_key: str | None = None
) -> SystemAuthorisation:
    """Authorises an accredited system to act for the caller's organisation with `scopes` (a subset of the
    system's write scopes) until `expires_at`; an earlier active authorisation of the same system is replaced."""
    tenderer_id = _tenderer_user(actor)
    now = clock.now()
    if expires_at.tzinfo is None or expires_at <= now:
        raise InvalidInput(field="expiresAt")
    system = await AccreditedSystem.get_or_none(id=system_id)
    if system is None:
        raise NotFound()
    if system.status != SystemStatus.ACCREDITED.value or system.valid_until <= now:
        raise errors.SystemNotAccredited()
    client = await IntegratorClient.get(client_id=system.client_id)
    wanted = sorted(set(scopes))
    for scope in wanted:
        if scope not in WRITE_SCOPES or scope not in client.scopes:
            raise errors.UnknownScope(scope)
    if not wanted:
        raise InvalidInput(field="scopes")
    until = min(expires_at, system.valid_until)

    async def grant() -> dict[str, Any]:
        for earlier in await SystemAuthorisation.filter(
            system_id=system.id, tenderer_id=tenderer_id, revoked_at__isnull=True
        ).select_for_update():
            earlier.revoked_at, earlier.revoked_by, earlier.revoke_reason = now, actor.user_id, "replaced"
            await earlier.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        grant = await SystemAuthorisation.create(
            system_id=system.id,
            tenderer_id=tenderer_id,
            scopes=wanted,
            expires_at=until,
            granted_by=actor.user_id,
            granted_at=now,
        )
        await events.record(
            ev.SystemAuthorised(
                object_id=str(grant.id),
                system_id=system.id,
                tenderer_id=tenderer_id,
                scopes=tuple(wanted),
                expires_at=until.isoformat(),
                audience=Audience(orgs=(tenderer_id,)),
            ),
            actor,
        )
        return {"id": grant.id}

    request = {"system": system.id, "scopes": wanted, "until": until}
    result, _ = await run_once(actor, idempotency_key, "system_authorisation.grant", request, grant)
    return await SystemAuthorisation.get(id=result["id"])


@raises()
@use_case("system_authorisation.revoke", "SystemAuthorisation", lambda actor, auth_id, *a, **k: auth_id)
async def revoke_authorisation(actor: Actor, auth_id: int, reason: str) -> SystemAuthorisation:
    """Ends an authorisation of the caller's organisation at once; tokens already issued stop working."""
    tenderer_id = _tenderer_user(actor)
    why = required_text(reason, "reason", 1000)
    async with in_transaction():
        grant = await SystemAuthorisation.select_for_update().get_or_none(id=auth_id, tenderer_id=tenderer_id)
        if grant is None:
            raise NotFound()
        if grant.revoked_at is not None:
            raise InvalidTransition(state="revoked")
        grant.revoked_at, grant.revoked_by, grant.revoke_reason = clock.now(), actor.user_id, why
        await grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
        await events.record(
            ev.SystemAuthorisationRevoked(
                object_id=str(grant.id),
                system_id=grant.system_id,
                tenderer_id=tenderer_id,
                reason=why,
                audience=Audience(orgs=(tenderer_id,)),
            ),
            actor,
        )
    return grant


async def my_authorisations(actor: Actor) -> list[SystemAuthorisation]:
    """The authorisations the caller's organisation gave, newest first."""
    tenderer_id = _tenderer_user(actor)
    return await SystemAuthorisation.filter(tenderer_id=tenderer_id).order_by("-id")


@raises(errors.SystemNotAccredited, errors.SystemNotAuthorised)
async def delegation_for(client: IntegratorClient, tenderer_id: int) -> tuple[SystemAuthorisation, list[str]]:
    """The tenderer's active authorisation of the client's accredited system and the scopes it grants now;
    SystemNotAccredited or SystemNotAuthorised."""
    now = clock.now()
    system = await AccreditedSystem.get_or_none(client_id=client.client_id)
    if system is None or system.status != SystemStatus.ACCREDITED.value or system.valid_until <= now:
        raise errors.SystemNotAccredited()
    grant = (
        await SystemAuthorisation.filter(
            system_id=system.id, tenderer_id=tenderer_id, revoked_at__isnull=True, expires_at__gt=now
        )
        .order_by("-id")
        .first()
    )
    if grant is None or not await Organisation.exists(id=tenderer_id, status="approved"):
        raise errors.SystemNotAuthorised()
    return grant, sorted(set(grant.scopes) & set(client.scopes))


@raises(errors.SystemNotAccredited, errors.SystemNotAuthorised)
async def check_delegation(actor: Actor) -> None:
    """Raises SystemNotAccredited or SystemNotAuthorised unless the delegated actor's authorisation and its
    system's accreditation hold now (one indexed read per request)."""
    if actor.delegation_id is None:
        return
    now = clock.now()
    grant = await SystemAuthorisation.get_or_none(id=actor.delegation_id).select_related("system")
    if grant is None or grant.system.client_id != actor.client_id or grant.tenderer_id != actor.org_id:
        raise errors.SystemNotAuthorised()
    if grant.system.status != SystemStatus.ACCREDITED.value or grant.system.valid_until <= now:
        raise errors.SystemNotAccredited()
    if grant.revoked_at is not None or grant.expires_at <= now:
        raise errors.SystemNotAuthorised()
