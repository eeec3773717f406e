"""Registration for a lot (报名): automatic when the entity may trade, no fee, no paper.

A bidder registers inside the lot's registration window (from registration_opens_at, or the
tender's publication, until registration_closes_at, or the bid deadline). Approval is automatic
when the organisation is approved, is a bidder, is not under joint punishment and meets the lot's
checkable eligibility rules; otherwise NotEligible names the rule that failed. A registration may
be withdrawn until the bid deadline. Who registered stays secret from the tenderer while the lot
says so (sealed tenders: until the opening), to prevent collusion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.queryset import QuerySet

from domain.access import network, scope
from domain.accounts.models import Organisation
from domain.accounts.states import OrgKind, OrgStatus
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import NotFound, PermissionDenied, raises
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.credit import services as credit
from domain.credit.models import CreditRecord
from domain.publication.models import Lot, Project
from domain.publication.procedures import security_amount_fen
from domain.publication.states import LotStatus
from domain.registration import commitments, invitations, security
from domain.registration.errors import CreditCommitmentRequired as CreditCommitmentRequired
from domain.registration.errors import CreditCommitmentStale as CreditCommitmentStale
from domain.registration.errors import NotEligible as NotEligible
from domain.registration.errors import NotInvited as NotInvited
from domain.registration.errors import NotRegistered as NotRegistered
from domain.registration.errors import RegistrantsSecret
from domain.registration.errors import RegistrationClosed as RegistrationClosed
from domain.registration.errors import RegistrationLocked as RegistrationLocked
from domain.registration.models import Registration
from domain.registration.states import TABLE
from domain.registration.states import RegistrationStatus as RegistrationStatus

BAD_CREDIT_YEARS = 3


@dataclass(frozen=True, kw_only=True)
class LotRegistered(DomainEvent):
    type = "registration.created"
    object_type = "Registration"
    lot_id: int
    organisation_id: int


@dataclass(frozen=True, kw_only=True)
class RegistrationWithdrawn(DomainEvent):
    type = "registration.withdrawn"
    object_type = "Registration"
    lot_id: int
    organisation_id: int


@dataclass(frozen=True, slots=True)
class Window:
    opens_at: datetime
    closes_at: datetime


def _at(config: dict[str, Any], name: str) -> datetime | None:
    value = config.get(name)
    return datetime.fromisoformat(value) if value else None


def bid_deadline(lot: Lot) -> datetime | None:
    return _at(lot.config, "bid_deadline")


def window(lot: Lot, published_at: datetime | None) -> Window | None:
    """When the lot takes registrations; None when it has no deadline yet."""
    closes = _at(lot.config, "registration_closes_at") or bid_deadline(lot)
    opens = _at(lot.config, "registration_opens_at") or published_at
    if closes is None or opens is None:
        return None
    return Window(opens, closes)


def _audience(lot: Lot, org_id: int, secret: bool, tenderer_id: int) -> Audience:
    orgs = (org_id,) if secret else (org_id, tenderer_id)
    return Audience(orgs=orgs, roles=(Role.OPERATOR.value, Role.SUPERVISOR.value))


async def _eligibility_failure(org: Organisation, lot: Lot, now: datetime) -> str | None:
    """The first rule the organisation fails, in words, or None."""
    if org.status != OrgStatus.APPROVED.value:
        return "主体信息未审核通过 / the entity is not approved"
    if OrgKind.BIDDER.value not in org.kinds:
        return "不是投标人（竞买人）/ the entity is not registered as a bidder"
    if await credit.is_punished(org.id, now):
        return "处于联合惩戒期内 / the entity is under joint punishment"
    for rule in lot.eligibility:
        if rule.get("kind") == "credit":
            since = now - timedelta(days=365 * BAD_CREDIT_YEARS)
            if await CreditRecord.filter(organisation_id=org.id, kind="bad", recorded_at__gte=since).exists():
                return str(rule["text"])
    return None


async def _lot_for_registration(lot_id: int) -> tuple[Lot, Project]:
    lot = await Lot.get_or_none(id=lot_id).select_related("project")  # one query: the lot joined with its project
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    return lot, lot.project


async def _tender_published_at(lot: Lot) -> datetime | None:
    from domain.publication.models import Announcement

    first = await Announcement.filter(lot_id=lot.id, type="tender", status="published").order_by("published_at").first()
    return first.published_at if first else None


@raises(RegistrationClosed, NotEligible, NotInvited, CreditCommitmentRequired, CreditCommitmentStale)
@use_case("registration.create", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def register(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> Registration:
    """Registers the caller's organisation for an open lot inside its window; approval is automatic.
    Registering again while registered returns the registration; after a withdrawal it reopens it.
    Opens the deposit account when the lot asks for security. A lot under 信用承诺制 needs the organisation's
    registration-stage credit commitment first (registration/commitments)."""
    if actor.user_id is None or actor.org_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    lot, project = await _lot_for_registration(lot_id)
    now = clock.now()
    span = window(lot, await _tender_published_at(lot))
    facts: dict[str, Any] = {
        "lot_status": lot.status,
        "now": now,
        "opens_at": span.opens_at if span else None,
        "closes_at": span.closes_at if span else None,
        "ineligible": None,
        "invited": True,
    }
    TABLE.precheck("register", by=actor, **facts)  # the window first: no eligibility query when closed
    facts["invited"] = await invitations.admits(lot, actor.org_id)
    org = await Organisation.get(id=actor.org_id)
    facts["ineligible"] = await _eligibility_failure(org, lot, now)
    TABLE.precheck("register", by=actor, **facts)
    await commitments.ensure_signed(lot.config, lot.id, org.id, commitments.REGISTRATION)

    written: list[Registration] = []  # the row as the committed transaction left it: the answer, not read again

    async def create() -> dict[str, Any]:
        written.clear()
        existing = await lock(Registration.filter(lot_id=lot.id, organisation_id=org.id)).first()
        if existing is not None and existing.status == RegistrationStatus.REGISTERED.value:
            written.append(existing)
            return {"id": existing.id}
        if existing is None:
            reg = await Registration.create(
                lot_id=lot.id,
                organisation_id=org.id,
                user_id=actor.user_id,
                status=TABLE.fire(None, "register", by=actor, **facts).value,
                registered_at=now,
                updated_at=now,
            )
        else:
            reg = existing
            again = TABLE.fire(reg.status, "register_again", by=actor, **facts)
            reg.update_from_dict({"status": again.value, "user_id": actor.user_id, "registered_at": now})
            reg.withdrawn_at = None
            reg.updated_at = now
            await reg.save()
        if security_amount_fen(lot.estimated_price_fen, lot.config) > 0:
            await security.open_accounts(reg, lot)
        await network.record(actor, lot.id, "registration.create")
        await events.record(
            LotRegistered(
                object_id=str(reg.id),
                lot_id=lot.id,
                organisation_id=org.id,
                audience=_audience(lot, org.id, bool(lot.config.get("registrants_secret")), project.tenderer_id),
            ),
            actor,
        )
        written.append(reg)
        return {"id": reg.id}

    result, replayed = await run_once(actor, idempotency_key, "registration.create", {"lot": lot.id}, create)
    if not replayed and written and written[-1].id == result["id"]:
        reg = written[-1]
    else:  # a replay answers as the first request did: with the row as it is now
        reg = await Registration.get(id=result["id"])
    if reg.lot_id == lot.id:
        reg.lot = lot  # the lot in hand goes with the answer (securityInPlace reads no lot again)
    return reg


@raises(RegistrationLocked)
@use_case("registration.withdraw", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def withdraw(actor: Actor, lot_id: int, idempotency_key: str | None = None) -> Registration:
    """Withdraws the caller's registration until the bid deadline (idempotent)."""
    if actor.org_id is None:
        raise PermissionDenied()
    lot, project = await _lot_for_registration(lot_id)
    now = clock.now()
    facts = {"now": now, "deadline": bid_deadline(lot)}
    TABLE.precheck("withdraw", by=actor, **facts)

    async def change() -> dict[str, Any]:
        reg = await lock(Registration.filter(lot_id=lot.id, organisation_id=actor.org_id)).first()
        if reg is None:
            raise NotFound()
        if reg.status == RegistrationStatus.REGISTERED.value:
            reg.status = TABLE.fire(reg.status, "withdraw", by=actor, **facts).value
            reg.withdrawn_at = now
            reg.updated_at = now
            await reg.save()
            await events.record(
                RegistrationWithdrawn(
                    object_id=str(reg.id),
                    lot_id=lot.id,
                    organisation_id=reg.organisation_id,
                    audience=_audience(
                        lot, reg.organisation_id, bool(lot.config.get("registrants_secret")), project.tenderer_id
                    ),
                ),
                actor,
            )
        return {"id": reg.id}

    result, _ = await run_once(actor, idempotency_key, "registration.withdraw", {"lot": lot.id}, change)
    return await Registration.get(id=result["id"])


def mine(actor: Actor) -> QuerySet[Registration]:
    """The caller organisation's registrations."""
    if actor.org_id is None:
        raise PermissionDenied()
    return Registration.filter(organisation_id=actor.org_id)


async def registrants(actor: Actor, lot_id: int) -> QuerySet[Registration]:
    """Who registered for a lot: operators and the supervisors of its category always; the tenderer (or its
    agency) only where the lot does not keep the list secret, or once the opening has begun."""
    lot, project = await _lot_for_registration(lot_id)
    if scope.keeps_project(actor, project):
        return Registration.filter(lot_id=lot.id)
    if actor.org_id is None or actor.org_id not in (project.tenderer_id, project.agency_id):
        raise NotFound()
    opening = _at(lot.config, "opening_at") or bid_deadline(lot)
    if lot.config.get("registrants_secret") and (opening is None or clock.now() < opening):
        raise RegistrantsSecret()
    return Registration.filter(lot_id=lot.id)


async def active(lot_id: int, org_id: int) -> Registration | None:
    """The organisation's standing registration for the lot, if any."""
    return await Registration.get_or_none(
        lot_id=lot_id, organisation_id=org_id, status=RegistrationStatus.REGISTERED.value
    )


async def security_in_place(lot_id: int, org_id: int, at: datetime | None = None, *, lot: Lot | None = None) -> bool:
    """Whether the organisation has the lot's security in place at `at` (default now): a paid deposit
    or an issued guarantee accepted by the platform. A lot that asks no security always says yes.
    Later issues call this before accepting a bid or an auction entry. A caller holding the lot passes it
    (`lot`), and it is not read again."""
    if lot is None or lot.id != lot_id:
        lot = await Lot.get_or_none(id=lot_id)
    if lot is None:
        return False
    if await security.amount_owed(lot, org_id) == 0:  # none asked, or waived by a credit incentive
        return True
    return await security.held(lot_id, org_id, at or clock.now())
