"""What every guarantee step shares: the lot's requirement (amount, deadline, validity), the verification
codes, who may see a guarantee and act on it as which party, the row lock, and the facts and audience of
its events.

Every step takes an idempotency key, locks the guarantee's row for its transition, and records an
event in the same transaction. Events go to the applicant, the guarantor, operators and
supervisors, and to the beneficiary where it concerns it and it may know who bids: never before the
opening on a lot that keeps its registrants secret.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from domain.access import scope
from domain.accounts import keys
from domain.accounts.models import Organisation
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import NotFound, PermissionDenied
from domain.common.events import Audience, DomainEvent
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.storage import lock
from domain.deposits.services import deposit_deadline
from domain.guarantees import letter as letters
from domain.guarantees.errors import GuaranteeAmountTooLow, GuaranteeTooLate, GuaranteeValidityTooShort
from domain.guarantees.models import Guarantee
from domain.guarantees.states import WITH_LETTER, GuaranteeStatus, Party
from domain.publication.models import Lot, Project
from domain.publication.procedures import security_amount_fen
from domain.publication.states import LotStatus
from domain.registration import security as registration_security

S = GuaranteeStatus
DEFAULT_BID_VALIDITY_DAYS = 90
# the lot has its result, or will never have one: the guarantee's purpose is spent
RESULT_STATUSES = frozenset({LotStatus.CONTRACTED, LotStatus.COMPLETED, LotStatus.FAILED, LotStatus.TERMINATED})
# a guarantor's clock may run slightly ahead of ours
CLOCK_SKEW = timedelta(minutes=2)
MAX_REASON = 500
# verification codes: no 0/O, 1/I/L, so that they survive being read aloud or retyped from paper
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10

EVENT_NAMESPACE = uuid.UUID("7c3b0a4e-2f41-4b8e-9d57-1e6a0c9f5b23")


def event_facts(g: Guarantee, lot: Lot) -> dict[str, Any]:
    return {
        "object_id": str(g.id),
        "lot_id": g.lot_id,
        "lot_trade_code": lot.trade_code,
        "applicant_id": g.applicant_id,
        "guarantor_id": g.guarantor_id,
        "beneficiary_id": g.beneficiary_id,
        "amount_fen": g.amount_fen,
        "valid_until": g.valid_until,
        "letter_no": g.letter_no,
        "status": g.status,
    }


def registrants_hidden(lot: Lot, now: datetime) -> bool:
    """Whether the tenderer may not yet know who bids: a secret list before the opening."""
    if not lot.config.get("registrants_secret"):
        return False
    opening = lot.config.get("opening_at") or lot.config.get("bid_deadline")
    return opening is None or now < datetime.fromisoformat(opening)


def event_audience(g: Guarantee, lot: Lot, *, beneficiary: bool) -> Audience:
    orgs = [g.applicant_id, g.guarantor_id]
    if beneficiary and not registrants_hidden(lot, clock.now()):
        orgs.append(g.beneficiary_id)
    return Audience(orgs=tuple(orgs), roles=(Role.OPERATOR.value, Role.SUPERVISOR.value))


async def record_once(event: DomainEvent, fact: str, guarantee_id: int) -> None:
    """A system step's event, once per guarantee: a redelivered cause records nothing."""
    event_id = uuid.uuid5(EVENT_NAMESPACE, f"{fact}:{guarantee_id}")
    if not await OutboxEvent.exists(event_id=event_id):
        await events.record(event, SYSTEM, event_id=event_id)


# ---------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a lot asks of a guarantee now: its security amount, when bids close, how long it must last."""

    amount_fen: int
    deadline: datetime | None
    valid_until: datetime | None
    validity_days: int


def requirement(lot: Lot) -> Requirement:
    # 招标投标法实施条例 第二十六条: security <= 2% of the estimate, valid as long as the bids are
    deadline = deposit_deadline(lot)
    days = int(lot.config.get("bid_validity_days") or DEFAULT_BID_VALIDITY_DAYS)
    return Requirement(
        amount_fen=security_amount_fen(lot.estimated_price_fen, lot.config),
        deadline=deadline,
        valid_until=deadline + timedelta(days=days) if deadline else None,
        validity_days=days,
    )


async def requirement_for(lot: Lot, org_id: int) -> Requirement:
    """The lot's requirement for one bidder: its security less what a credit incentive relieved (守信激励)."""
    return replace(requirement(lot), amount_fen=await registration_security.amount_owed(lot, org_id))


def ensure_open(lot: Lot, rule: Requirement, now: datetime) -> datetime:
    """The deadline, if the lot still takes security; GuaranteeTooLate otherwise."""
    if rule.deadline is None or lot.status != LotStatus.OPEN.value or now >= rule.deadline:
        raise GuaranteeTooLate(deadline=rule.deadline or now)
    return rule.deadline


def ensure_terms(amount_fen: int, valid_until: datetime, rule: Requirement) -> None:
    if amount_fen < rule.amount_fen:
        raise GuaranteeAmountTooLow(required_fen=rule.amount_fen, required_text=Money(rule.amount_fen).yuan_text())
    if rule.valid_until is not None and valid_until < rule.valid_until:
        raise GuaranteeValidityTooShort(required_until=rule.valid_until, days=rule.validity_days)


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """A code as typed on a kiosk or a phone: case, spaces and hyphens do not matter."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def application_no(g: Guarantee) -> str:
    """The number the letter's applicationNo must carry."""
    return str(g.id)


# ---------------------------------------------------------------- who may see and do what


async def lot_of(g: Guarantee) -> tuple[Lot, Project]:
    lot = await Lot.get(id=g.lot_id).prefetch_related("project")
    return lot, lot.project


def may_see(actor: Actor, g: Guarantee, lot: Lot, project: Project, now: datetime) -> bool:
    """Operators and the supervisors of the lot's category; the applicant and the guarantor; the beneficiary
    (or its agency) once there is a letter and it may know who bids."""
    if scope.keeps_project(actor, project):
        return True
    if actor.org_id is None:
        return False
    if actor.org_id in (g.applicant_id, g.guarantor_id):
        return True
    return (
        actor.org_id in (g.beneficiary_id, project.agency_id)
        and g.status in WITH_LETTER
        and not registrants_hidden(lot, now)
    )


async def sees_payer(actor: Actor, g: Guarantee) -> bool:
    """Who may read the premium's payer account: operators and the supervisors of the lot's category, the
    applicant and the guarantor."""
    if actor.org_id is not None and actor.org_id in (g.applicant_id, g.guarantor_id):
        return True
    return await scope.keeps_lot(actor, g.lot_id)


async def visible(actor: Actor, guarantee_id: int) -> Guarantee:
    """A guarantee the actor may see; NotFound otherwise."""
    g = await Guarantee.get_or_none(id=guarantee_id)
    if g is None:
        raise NotFound()
    lot, project = await lot_of(g)
    if not may_see(actor, g, lot, project, clock.now()):
        raise NotFound()
    return g


async def as_party(actor: Actor, guarantee_id: int, party: Party) -> Guarantee:
    """The guarantee if the actor acts as `party` on it: NotFound when it may not even see it."""
    if actor.user_id is None or actor.org_id is None:
        raise PermissionDenied()
    g = await visible(actor, guarantee_id)
    if party is Party.GUARANTOR and (actor.org_id != g.guarantor_id or not actor.has(Role.GUARANTOR)):
        raise PermissionDenied()
    if party is Party.BENEFICIARY and actor.org_id != g.beneficiary_id:
        raise PermissionDenied()
    return g


async def locked(guarantee_id: int) -> Guarantee:
    g = await lock(Guarantee.filter(id=guarantee_id)).first()
    if g is None:
        raise NotFound()
    return g


@dataclass(frozen=True)
class SignedLetter:
    letter: letters.Letter
    sha256: str  # of the token exactly as checked
    kid: str  # the guarantor's letter key that signed it


async def guarantor_letter(g: Guarantee, token: str) -> SignedLetter:
    """A letter (issued or amended) signed by a registered, unrevoked letter key of the guarantee's own guarantor;
    SignatureInvalid for another guarantor's key (a forgery)."""
    verified = await keys.verify(token, keys.KeyPurpose.GUARANTEE_LETTER)
    if verified.key.organisation_id != g.guarantor_id:
        raise keys.SignatureInvalid()
    sha256 = hashlib.sha256(token.encode()).hexdigest()
    return SignedLetter(letters.parse(verified.payload), sha256, verified.key.kid)


async def expected_letter(
    g: Guarantee, lot: Lot, deadline: datetime, valid_until: datetime | None = None
) -> letters.Expected:
    """What the letter of this application must say; an amended letter (an extension) with its new `valid_until`."""
    ids = {"applicant": g.applicant_id, "beneficiary": g.beneficiary_id, "guarantor": g.guarantor_id}
    orgs = {o.id: o for o in await Organisation.filter(id__in=list(ids.values()))}
    parties = {role: letters.Party(orgs[pk].credit_code.upper(), orgs[pk].name.strip()) for role, pk in ids.items()}
    return letters.Expected(
        application_no=application_no(g),
        lot_trade_code=lot.trade_code,
        amount_fen=g.amount_fen,
        valid_until=g.valid_until if valid_until is None else valid_until,
        deadline=deadline,
        **parties,
    )
