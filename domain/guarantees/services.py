"""Electronic bid guarantees (电子投标保函): apply, issue or decline, verify, claim, release, expire.

A registered bidder applies to a guarantor for a lot that asks for bid security: the amount at
least the lot's security, valid at least until the bid deadline plus the lot's bid validity, for
the project's tenderer as beneficiary. The guarantor's users see the application and either decline
it with a reason or issue the letter: a JWS signed with one of their own registered, unrevoked
`guarantee_letter` keys (format in domain.guarantees.letter). The platform accepts a letter only
before the bid deadline and only when every field equals the application; it then stores the
letter as received, gives it a verification code, and the guarantee counts as the bidder's security
(registration.security_in_place). Anyone holding the letter number and the code may check it.

After the bid deadline the beneficiary may claim (索赔) once, while the guarantee is valid; the
guarantor pays or rejects the claim with a reason. When the lot has its result (contract, failure,
termination) every issued guarantee is released; one still issued at valid_until expires (the
chronograph). An application nobody decided stays `applied`: it never counts as security (it has no
letter), the guarantor may still decline it, and the bidder may apply again once it is declined.

The bidder may name the bank account it pays the guarantor's premium from: kept as digits for the
guarantor's reconciliation and the collusion checks (domain.supervision.alerts), read only by the
applicant, the guarantor, operators and supervisors, never carried in events.

Every step takes an idempotency key, locks the guarantee's row for its transition, and records an
event in the same transaction. Events go to the applicant, the guarantor, operators and
supervisors, and to the beneficiary where it concerns it and it may know who bids: never before the
opening on a lot that keeps its registrants secret.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.access import network, scope
from domain.accounts import keys
from domain.accounts.models import Organisation, PartnerKey
from domain.accounts.states import OrgKind, OrgStatus
from domain.certificates import acts
from domain.certificates import signatures as act_signatures
from domain.certificates.errors import SIGNATURE_ERRORS
from domain.certificates.signatures import Signed
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidBankAccount, normalize_bank_account
from domain.common.models import OutboxEvent
from domain.common.money import Money
from domain.common.storage import lock
from domain.deposits.services import deposit_deadline
from domain.guarantees import letter as letters
from domain.guarantees.errors import (
    ClaimExceedsGuarantee,
    ClaimTooEarly,
    GuaranteeAlreadyClaimed,
    GuaranteeAmountTooLow,
    GuaranteeExists,
    GuaranteeTooLate,
    GuaranteeValidityTooShort,
    LetterMalformed,
    LetterMismatch,
    LetterNoTaken,
    NoSecurityRequired,
    NotAGuarantor,
    NotRegistered,
    SignatureInvalid,
)
from domain.guarantees.models import Guarantee
from domain.guarantees.states import LIVE, TABLE, WITH_LETTER, GuaranteeStatus, Party
from domain.publication.models import Lot, Project
from domain.publication.procedures import security_amount_fen
from domain.publication.states import LotStatus
from domain.registration.models import Registration

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

_EVENT_NAMESPACE = uuid.UUID("7c3b0a4e-2f41-4b8e-9d57-1e6a0c9f5b23")


# ---------------------------------------------------------------- events


@dataclass(frozen=True, kw_only=True)
class GuaranteeEvent(DomainEvent):
    """What every guarantee event says: the lot, the three parties, the amount and the letter number."""

    object_type = "Guarantee"
    lot_id: int
    lot_trade_code: str
    applicant_id: int
    guarantor_id: int
    beneficiary_id: int
    amount_fen: int
    valid_until: datetime
    letter_no: str | None
    status: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeApplied(GuaranteeEvent):
    type = "guarantee.applied"


@dataclass(frozen=True, kw_only=True)
class GuaranteeIssued(GuaranteeEvent):
    type = "guarantee.issued"
    key_id: str
    letter_sha256: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeDeclined(GuaranteeEvent):
    type = "guarantee.declined"
    reason: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeClaimed(GuaranteeEvent):
    type = "guarantee.claimed"
    claim_amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeClaimPaid(GuaranteeEvent):
    type = "guarantee.claim_paid"
    claim_amount_fen: int


@dataclass(frozen=True, kw_only=True)
class GuaranteeClaimRejected(GuaranteeEvent):
    type = "guarantee.claim_rejected"
    claim_amount_fen: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeReleased(GuaranteeEvent):
    type = "guarantee.released"
    lot_status: str


@dataclass(frozen=True, kw_only=True)
class GuaranteeExpired(GuaranteeEvent):
    type = "guarantee.expired"


def _facts(g: Guarantee, lot: Lot) -> dict[str, Any]:
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


def _audience(g: Guarantee, lot: Lot, *, beneficiary: bool) -> Audience:
    orgs = [g.applicant_id, g.guarantor_id]
    if beneficiary and not registrants_hidden(lot, clock.now()):
        orgs.append(g.beneficiary_id)
    return Audience(orgs=tuple(orgs), roles=(Role.OPERATOR.value, Role.SUPERVISOR.value))


async def _record_once(event: DomainEvent, fact: str, guarantee_id: int) -> None:
    """A system step's event, once per guarantee: a redelivered cause records nothing."""
    event_id = uuid.uuid5(_EVENT_NAMESPACE, f"{fact}:{guarantee_id}")
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


def _ensure_open(lot: Lot, rule: Requirement, now: datetime) -> datetime:
    """The deadline, if the lot still takes security; GuaranteeTooLate otherwise."""
    if rule.deadline is None or lot.status != LotStatus.OPEN.value or now >= rule.deadline:
        raise GuaranteeTooLate(deadline=rule.deadline or now)
    return rule.deadline


def _ensure_terms(amount_fen: int, valid_until: datetime, rule: Requirement) -> None:
    if amount_fen < rule.amount_fen:
        raise GuaranteeAmountTooLow(required_fen=rule.amount_fen, required_text=Money(rule.amount_fen).yuan_text())
    if rule.valid_until is not None and valid_until < rule.valid_until:
        raise GuaranteeValidityTooShort(required_until=rule.valid_until, days=rule.validity_days)


async def _signing_guarantor(org_id: int) -> Organisation | None:
    """The organisation if it is an approved guarantor with an unrevoked letter-signing key."""
    org = await Organisation.get_or_none(id=org_id)
    if org is None or org.status != OrgStatus.APPROVED.value or OrgKind.GUARANTOR.value not in org.kinds:
        return None
    has_key = await PartnerKey.exists(
        organisation_id=org.id, purpose=keys.KeyPurpose.GUARANTEE_LETTER.value, revoked_at=None
    )
    return org if has_key else None


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """A code as typed on a kiosk or a phone: case, spaces and hyphens do not matter."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def application_no(g: Guarantee) -> str:
    """The number the letter's applicationNo must carry."""
    return str(g.id)


# ---------------------------------------------------------------- who may see and do what


async def _lot_of(g: Guarantee) -> tuple[Lot, Project]:
    lot = await Lot.get(id=g.lot_id).prefetch_related("project")
    return lot, lot.project


def _may_see(actor: Actor, g: Guarantee, lot: Lot, project: Project, now: datetime) -> bool:
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
    lot, project = await _lot_of(g)
    if not _may_see(actor, g, lot, project, clock.now()):
        raise NotFound()
    return g


async def _as_party(actor: Actor, guarantee_id: int, party: Party) -> Guarantee:
    """The guarantee if the actor acts as `party` on it: NotFound when it may not even see it."""
    if actor.user_id is None or actor.org_id is None:
        raise PermissionDenied()
    g = await visible(actor, guarantee_id)
    if party is Party.GUARANTOR and (actor.org_id != g.guarantor_id or not actor.has(Role.GUARANTOR)):
        raise PermissionDenied()
    if party is Party.BENEFICIARY and actor.org_id != g.beneficiary_id:
        raise PermissionDenied()
    return g


async def _expected(g: Guarantee, lot: Lot, deadline: datetime) -> letters.Expected:
    """What the letter of this application must say."""
    ids = {"applicant": g.applicant_id, "beneficiary": g.beneficiary_id, "guarantor": g.guarantor_id}
    orgs = {o.id: o for o in await Organisation.filter(id__in=list(ids.values()))}
    parties = {role: letters.Party(orgs[pk].credit_code.upper(), orgs[pk].name.strip()) for role, pk in ids.items()}
    return letters.Expected(
        application_no=application_no(g),
        lot_trade_code=lot.trade_code,
        amount_fen=g.amount_fen,
        valid_until=g.valid_until,
        deadline=deadline,
        **parties,
    )


async def _locked(guarantee_id: int) -> Guarantee:
    g = await lock(Guarantee.filter(id=guarantee_id)).first()
    if g is None:
        raise NotFound()
    return g


# ---------------------------------------------------------------- apply


@raises(
    NotRegistered,
    NoSecurityRequired,
    GuaranteeTooLate,
    NotAGuarantor,
    GuaranteeAmountTooLow,
    GuaranteeValidityTooShort,
    GuaranteeExists,
    InvalidBankAccount,
)
@use_case("guarantee.apply", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def apply(
    actor: Actor,
    lot_id: int,
    guarantor_id: int,
    amount_fen: int,
    valid_until: datetime,
    idempotency_key: str | None = None,
    *,
    payer_account: str | None = None,
) -> Guarantee:
    """Records a registered bidder's application to a guarantor for a lot that asks for security, with
    at least the lot's security amount and validity; one pending or issued guarantee per bidder and lot.
    The premium's payer account, when given, is kept as digits (InvalidBankAccount otherwise)."""
    if actor.user_id is None or actor.org_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or not 0 < amount_fen < 2**63:
        raise InvalidInput(field="amountFen")
    if valid_until.tzinfo is None:
        raise InvalidInput(field="validUntil")
    account = normalize_bank_account(payer_account) if payer_account and payer_account.strip() else None
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    project: Project = lot.project
    rule = requirement(lot)
    if rule.amount_fen == 0:
        raise NoSecurityRequired()
    now = clock.now()
    _ensure_open(lot, rule, now)
    guarantor = await _signing_guarantor(guarantor_id)
    if guarantor is None or guarantor.id in (actor.org_id, project.tenderer_id):
        raise NotAGuarantor()
    _ensure_terms(amount_fen, valid_until, rule)
    request: dict[str, Any] = {
        "lot": lot.id,
        "guarantor": guarantor.id,
        "amount": amount_fen,
        "validUntil": valid_until,
    }
    if account is not None:
        request["payerAccount"] = account

    async def create() -> dict[str, Any]:
        # the registration's row serialises one bidder's applications for the lot
        reg = await lock(Registration.filter(lot_id=lot.id, organisation_id=actor.org_id, status="registered")).first()
        if reg is None:
            raise NotRegistered()
        if await Guarantee.exists(lot_id=lot.id, applicant_id=actor.org_id, status__in=[s.value for s in LIVE]):
            raise GuaranteeExists()
        g = await Guarantee.create(
            lot_id=lot.id,
            registration_id=reg.id,
            applicant_id=actor.org_id,
            guarantor_id=guarantor.id,
            beneficiary_id=project.tenderer_id,
            amount_fen=amount_fen,
            valid_until=valid_until,
            status=S.APPLIED.value,
            payer_account=account,
            applied_by=actor.user_id,
            applied_at=now,
            created_at=now,
            updated_at=now,
        )
        await network.record(actor, lot.id, "guarantee.apply")
        await events.record(
            GuaranteeApplied(**_facts(g, lot), audience=_audience(g, lot, beneficiary=True)),
            actor,
        )
        return {"id": g.id}

    result, _ = await run_once(actor, idempotency_key, "guarantee.apply", request, create)
    return await Guarantee.get(id=result["id"])


# ---------------------------------------------------------------- issue or decline


@raises(
    SignatureInvalid,
    LetterMalformed,
    LetterMismatch,
    LetterNoTaken,
    GuaranteeTooLate,
    NotRegistered,
    GuaranteeAmountTooLow,
    GuaranteeValidityTooShort,
    *SIGNATURE_ERRORS,
)
@use_case("guarantee.issue", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def issue(
    actor: Actor, guarantee_id: int, letter_jws: str, idempotency_key: str | None = None, signed: Signed | None = None
) -> Guarantee:
    """Accepts the guarantor's signed letter as the bidder's security iff it is signed by a registered,
    unrevoked letter key of that guarantor, says exactly what the application says, has a letter number
    not used before, and arrives before the bid deadline; otherwise nothing changes. The same letter
    sent again returns the guarantee. The issuing user's certificate signature over the letter is kept
    with it when given."""
    g = await _as_party(actor, guarantee_id, Party.GUARANTOR)
    sent = letter_jws if isinstance(letter_jws, str) else ""
    token = sent.strip()
    # the signed content hashes the letter exactly as sent (mobile_contract/SIGNATURES.md), not trimmed
    act_signature = await act_signatures.check(
        actor, acts.guarantee_issue(application_no(g), sent), signed, required=False
    )
    verified = await keys.verify(token, keys.KeyPurpose.GUARANTEE_LETTER)
    if verified.key.organisation_id != g.guarantor_id:
        raise SignatureInvalid()  # a registered key, but another guarantor's: a forgery
    letter = letters.parse(verified.payload)
    sha256 = hashlib.sha256(token.encode()).hexdigest()

    async def change() -> dict[str, Any]:
        current = await _locked(g.id)
        if current.status == S.ISSUED.value and current.letter_sha256 == sha256:
            return {"id": current.id}
        TABLE.fire(current.status, "issue", by=Party.GUARANTOR)
        now = clock.now()
        if letter.issued_at > now + CLOCK_SKEW:
            raise LetterMalformed(field="issuedAt")
        lot, _ = await _lot_of(current)
        rule = requirement(lot)
        deadline = _ensure_open(lot, rule, now)
        if not await Registration.exists(id=current.registration_id, status="registered"):
            raise NotRegistered()  # the bidder withdrew meanwhile
        # the lot may have changed (a change announcement): the terms are judged as they are now
        _ensure_terms(current.amount_fen, current.valid_until, rule)
        letters.check(letter, await _expected(current, lot, deadline))
        if await Guarantee.exists(letter_no=letter.letter_no):
            raise LetterNoTaken(letter_no=letter.letter_no)
        current.status = S.ISSUED.value
        current.letter_no = letter.letter_no
        current.verification_code = new_verification_code()
        current.letter_jws = token
        current.letter_sha256 = sha256
        current.key_id = verified.key.kid
        current.decided_by = actor.user_id
        current.decided_at = now
        current.next_check_at = current.valid_until
        current.updated_at = now
        await current.save()
        await events.record(
            GuaranteeIssued(
                **_facts(current, lot),
                key_id=verified.key.kid,
                letter_sha256=sha256,
                audience=_audience(current, lot, beneficiary=True),
            ),
            actor,
        )
        if act_signature is not None:
            await act_signatures.record(actor, act_signature, "Guarantee", current.id, lot.id)
        return {"id": current.id}

    try:
        result, _ = await run_once(actor, idempotency_key, "guarantee.issue", {"id": g.id, "letter": sha256}, change)
    except IntegrityError:
        raise LetterNoTaken(letter_no=letter.letter_no) from None  # another letter took the number meanwhile
    return await Guarantee.get(id=result["id"])


@raises()
@use_case("guarantee.decline", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def decline(actor: Actor, guarantee_id: int, reason: str, idempotency_key: str | None = None) -> Guarantee:
    """The guarantor declines an application with its reason; the bidder may then apply again."""
    g = await _as_party(actor, guarantee_id, Party.GUARANTOR)
    why = required_text(reason, "reason", MAX_REASON)

    async def change() -> dict[str, Any]:
        current = await _locked(g.id)
        TABLE.fire(current.status, "decline", by=Party.GUARANTOR)
        now = clock.now()
        current.status = S.DECLINED.value
        current.decline_reason = why
        current.decided_by = actor.user_id
        current.decided_at = now
        current.next_check_at = None
        current.updated_at = now
        await current.save()
        lot, _ = await _lot_of(current)
        await events.record(
            GuaranteeDeclined(**_facts(current, lot), reason=why, audience=_audience(current, lot, beneficiary=False)),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "guarantee.decline", {"id": g.id, "reason": why}, change)
    return await Guarantee.get(id=result["id"])


# ---------------------------------------------------------------- claims


@raises(GuaranteeAlreadyClaimed, ClaimTooEarly, ClaimExceedsGuarantee, *SIGNATURE_ERRORS)
@use_case("guarantee.claim", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def claim(
    actor: Actor,
    guarantee_id: int,
    amount_fen: int,
    reason: str,
    idempotency_key: str | None = None,
    signed: Signed | None = None,
) -> Guarantee:
    """The beneficiary claims (索赔) an issued guarantee once, after the bid deadline and while it is
    valid, for at most the guaranteed amount; e.g. 实施条例 第三十五条 (a bid withdrawn after the
    deadline) or 第七十四条 (the winner refuses to sign the contract). The claimant's certificate
    signature over the claim is kept with it when given."""
    g = await _as_party(actor, guarantee_id, Party.BENEFICIARY)
    why = required_text(reason, "reason", MAX_REASON)
    act_signature = await act_signatures.check(
        actor, acts.guarantee_claim(application_no(g), reason), signed, required=False
    )
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise InvalidInput(field="amountFen")

    async def change() -> dict[str, Any]:
        current = await _locked(g.id)
        now = clock.now()
        lot, _ = await _lot_of(current)
        current.status = TABLE.fire(
            current.status,
            "claim",
            by=Party.BENEFICIARY,
            now=now,
            valid_until=current.valid_until,
            deadline=requirement(lot).deadline,
            amount_fen=amount_fen,
            guaranteed_fen=current.amount_fen,
        ).value
        current.claim_reason = why
        current.claim_amount_fen = amount_fen
        current.claimed_by = actor.user_id
        current.claimed_at = now
        current.next_check_at = None  # a claim made in time waits for its decision, whatever the date
        current.updated_at = now
        await current.save()
        await events.record(
            GuaranteeClaimed(
                **_facts(current, lot),
                claim_amount_fen=amount_fen,
                reason=why,
                audience=_audience(current, lot, beneficiary=True),
            ),
            actor,
        )
        if act_signature is not None:
            await act_signatures.record(actor, act_signature, "Guarantee", current.id, lot.id)
        return {"id": current.id}

    request = {"id": g.id, "amount": amount_fen, "reason": why}
    result, _ = await run_once(actor, idempotency_key, "guarantee.claim", request, change)
    return await Guarantee.get(id=result["id"])


async def _decide_claim(
    actor: Actor, guarantee_id: int, target: GuaranteeStatus, reason: str | None, idempotency_key: str | None
) -> Guarantee:
    g = await _as_party(actor, guarantee_id, Party.GUARANTOR)

    async def change() -> dict[str, Any]:
        current = await _locked(g.id)
        # by name: a transition's guards are read (for @raises) from a literal name
        if target is S.PAID:
            TABLE.fire(current.status, "pay", by=Party.GUARANTOR)
        else:
            TABLE.fire(current.status, "reject", by=Party.GUARANTOR)
        now = clock.now()
        current.status = target.value
        current.claim_reject_reason = reason
        current.claim_decided_by = actor.user_id
        current.claim_decided_at = now
        current.updated_at = now
        await current.save()
        lot, _ = await _lot_of(current)
        facts = {**_facts(current, lot), "claim_amount_fen": current.claim_amount_fen or 0}
        audience = _audience(current, lot, beneficiary=True)
        event: DomainEvent = (
            GuaranteeClaimPaid(**facts, audience=audience)
            if target is S.PAID
            else GuaranteeClaimRejected(**facts, reason=reason or "", audience=audience)
        )
        await events.record(event, actor)
        return {"id": current.id}

    operation = f"guarantee.claim_{'pay' if target is S.PAID else 'reject'}"
    result, _ = await run_once(actor, idempotency_key, operation, {"id": g.id, "reason": reason}, change)
    return await Guarantee.get(id=result["id"])


@raises()
@use_case("guarantee.claim_pay", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def pay_claim(actor: Actor, guarantee_id: int, idempotency_key: str | None = None) -> Guarantee:
    """The guarantor records that it paid the claim; final."""
    return await _decide_claim(actor, guarantee_id, S.PAID, None, idempotency_key)


@raises()
@use_case("guarantee.claim_reject", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def reject_claim(actor: Actor, guarantee_id: int, reason: str, idempotency_key: str | None = None) -> Guarantee:
    """The guarantor rejects the claim with its reason; final (a guarantee is claimed at most once)."""
    why = required_text(reason, "reason", MAX_REASON)
    return await _decide_claim(actor, guarantee_id, S.REJECTED, why, idempotency_key)


# ---------------------------------------------------------------- release and expiry


async def on_lot_status_changed(lot_id: int, after: str) -> None:
    """Releases every issued guarantee once the lot has its result (contract, failure, termination).
    Idempotent: only guarantees still `issued` move, so a redelivered event does nothing; claimed ones
    wait for their claim decision."""
    try:
        status = LotStatus(after)
    except ValueError:
        return
    if status not in RESULT_STATUSES:
        return
    await _release(lot_id, status.value)


async def on_registration_withdrawn(lot_id: int, organisation_id: int) -> None:
    """A bidder that withdrew before the deadline no longer bids: its issued guarantee is released."""
    await _release(lot_id, "withdrawn", organisation_id)


async def release_all_but(lot_id: int, keep_organisation_id: int | None) -> None:
    """At the award, every issued guarantee of the lot is released except the winner's, which stays as
    security until the contract. Idempotent: only guarantees still `issued` move."""
    await _release(lot_id, LotStatus.AWARDED.value, keep_applicant_id=keep_organisation_id)


async def _release(
    lot_id: int, reason: str, applicant_id: int | None = None, *, keep_applicant_id: int | None = None
) -> None:
    async with in_transaction():
        lot = await Lot.get_or_none(id=lot_id)
        if lot is None:
            return
        now = clock.now()
        query = Guarantee.filter(lot_id=lot_id, status=S.ISSUED.value)
        if applicant_id is not None:
            query = query.filter(applicant_id=applicant_id)
        if keep_applicant_id is not None:
            query = query.exclude(applicant_id=keep_applicant_id)
        for g in await lock(query):
            TABLE.fire(g.status, "release", by=Party.SYSTEM)
            g.status = S.RELEASED.value
            g.released_at = now
            g.next_check_at = None
            g.updated_at = now
            await g.save()
            await _record_once(
                GuaranteeReleased(**_facts(g, lot), lot_status=reason, audience=_audience(g, lot, beneficiary=True)),
                "guarantee.released",
                g.id,
            )


async def expire(g: Guarantee, now: datetime) -> None:
    """Chronograph transition: a guarantee still issued at valid_until expires, once."""
    current = await _locked(g.id)
    due: datetime | None = None
    if current.status == S.ISSUED.value and current.valid_until <= now:
        lot, _ = await _lot_of(current)
        current.status = S.EXPIRED.value
        current.expired_at = now
        current.updated_at = now
        await _record_once(
            GuaranteeExpired(**_facts(current, lot), audience=_audience(current, lot, beneficiary=True)),
            "guarantee.expired",
            current.id,
        )
    elif current.status == S.ISSUED.value:
        due = current.valid_until
    current.next_check_at = due
    await current.save()
    g.next_check_at = due


# ---------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Authenticity:
    """What a holder of the letter number and the code learns: the letter's own words and its status."""

    status: str
    letter: letters.Letter
    letter_sha256: str
    key_id: str
    accepted_at: datetime


async def check_authenticity(letter_no: str, verification_code: str) -> Authenticity | None:
    """The letter and its status iff the number and the code match an accepted letter; None otherwise,
    without saying which of the two was wrong. Needs no sign-in (kiosks, paper holders)."""
    number, code = letter_no.strip(), normalise_code(verification_code)
    if not 0 < len(number) <= letters.MAX_LETTER_NO or not 0 < len(code) <= 16:
        return None
    if any(ch.isspace() or not ch.isprintable() for ch in number):
        return None  # no letter has such a number (letter.parse refuses it), and PostgreSQL refuses a NUL
    g = await Guarantee.get_or_none(letter_no=number)
    expected = g.verification_code if g is not None and g.verification_code else new_verification_code()
    if not secrets.compare_digest(expected.encode(), code.encode()) or g is None or g.letter_jws is None:
        return None
    try:
        letter = letters.parse(letters.payload_of(g.letter_jws))
    except LetterMalformed:
        return None
    return Authenticity(
        status=g.status,
        letter=letter,
        letter_sha256=g.letter_sha256 or "",
        key_id=g.key_id or "",
        accepted_at=g.decided_at or g.updated_at,
    )


def mine(actor: Actor, status: str | None = None, lot_id: int | None = None) -> QuerySet[Guarantee]:
    """The caller organisation's applications and guarantees as applicant."""
    if actor.org_id is None:
        raise PermissionDenied()
    query = Guarantee.filter(applicant_id=actor.org_id)
    if status is not None:
        query = query.filter(status=status)
    if lot_id is not None:
        query = query.filter(lot_id=lot_id)
    return query


def applications(actor: Actor, status: str | None = None) -> QuerySet[Guarantee]:
    """What was asked of the caller's guarantor organisation, in any state or in one."""
    if actor.org_id is None or not actor.has(Role.GUARANTOR):
        raise PermissionDenied()
    query = Guarantee.filter(guarantor_id=actor.org_id)
    return query.filter(status=status) if status is not None else query


async def lot_guarantees(actor: Actor, lot_id: int) -> QuerySet[Guarantee]:
    """A lot's guarantees: operators and the supervisors of its category all of them; the tenderer (the
    beneficiary) or its agency those with an accepted letter, once it may know who bids (after the opening
    where the lot keeps registrants secret); NotFound for anyone else and before that."""
    lot = await Lot.get_or_none(id=lot_id).prefetch_related("project")
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    project: Project = lot.project
    if scope.keeps_project(actor, project):
        return Guarantee.filter(lot_id=lot.id)
    if actor.org_id is None or actor.org_id not in (project.tenderer_id, project.agency_id):
        raise NotFound()
    if registrants_hidden(lot, clock.now()):
        raise NotFound()
    return Guarantee.filter(lot_id=lot.id, status__in=[s.value for s in WITH_LETTER])


async def guarantors() -> list[Organisation]:
    """Approved guarantors that sign letters electronically: whom a bidder may apply to."""
    signing = await PartnerKey.filter(purpose=keys.KeyPurpose.GUARANTEE_LETTER.value, revoked_at=None).values_list(
        "organisation_id", flat=True
    )
    return [
        o
        for o in await Organisation.filter(id__in=list(set(signing)), status=OrgStatus.APPROVED.value).order_by("name")
        if OrgKind.GUARANTOR.value in o.kinds
    ]
