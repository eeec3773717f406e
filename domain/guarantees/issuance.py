"""Electronic bid guarantees (电子投标保函): apply, then issue or decline.

A registered bidder applies to a guarantor for a lot that asks for bid security: the amount at
least the lot's security, valid at least until the bid deadline plus the lot's bid validity, for
the project's tenderer as beneficiary. The guarantor's users see the application and either decline
it with a reason or issue the letter: a JWS signed with one of their own registered, unrevoked
`guarantee_letter` keys (format in domain.guarantees.letter). The platform accepts a letter only
before the bid deadline and only when every field equals the application; it then stores the
letter as received, gives it a verification code, and the guarantee counts as the bidder's security
(registration.security_in_place). An application nobody decided stays `applied`: it never counts as
security (it has no letter), the guarantor may still decline it, and the bidder may apply again once
it is declined.

The bidder may name the bank account it pays the guarantor's premium from: kept as digits for the
guarantor's reconciliation and the collusion checks (domain.supervision.alerts), read only by the
applicant, the guarantor, operators and supervisors, never carried in events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError

from domain.access import network
from domain.accounts import keys
from domain.accounts.models import Organisation, PartnerKey
from domain.accounts.states import OrgKind, OrgStatus
from domain.certificates import acts
from domain.certificates import signatures as act_signatures
from domain.certificates.errors import SIGNATURE_ERRORS
from domain.certificates.signatures import Signed
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidBankAccount, normalize_bank_account
from domain.common.storage import lock
from domain.guarantees import letter as letters
from domain.guarantees.errors import (
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
from domain.guarantees.events import GuaranteeApplied, GuaranteeDeclined, GuaranteeIssued
from domain.guarantees.models import Guarantee
from domain.guarantees.shared import (
    CLOCK_SKEW,
    MAX_REASON,
    S,
    application_no,
    as_party,
    ensure_open,
    ensure_terms,
    event_audience,
    event_facts,
    expected_letter,
    guarantor_letter,
    locked,
    lot_of,
    new_verification_code,
    requirement_for,
)
from domain.guarantees.states import LIVE, TABLE, Party
from domain.publication.models import Lot, Project
from domain.publication.states import LotStatus
from domain.registration.models import Registration


async def _signing_guarantor(org_id: int) -> Organisation | None:
    """The organisation if it is an approved guarantor with an unrevoked letter-signing key."""
    org = await Organisation.get_or_none(id=org_id)
    if org is None or org.status != OrgStatus.APPROVED.value or OrgKind.GUARANTOR.value not in org.kinds:
        return None
    has_key = await PartnerKey.exists(
        organisation_id=org.id, purpose=keys.KeyPurpose.GUARANTEE_LETTER.value, revoked_at=None
    )
    return org if has_key else None


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
    rule = await requirement_for(lot, actor.org_id)
    if rule.amount_fen == 0:
        raise NoSecurityRequired()
    now = clock.now()
    ensure_open(lot, rule, now)
    guarantor = await _signing_guarantor(guarantor_id)
    if guarantor is None or guarantor.id in (actor.org_id, project.tenderer_id):
        raise NotAGuarantor()
    ensure_terms(amount_fen, valid_until, rule)
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
            GuaranteeApplied(**event_facts(g, lot), audience=event_audience(g, lot, beneficiary=True)),
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
    g = await as_party(actor, guarantee_id, Party.GUARANTOR)
    sent = letter_jws if isinstance(letter_jws, str) else ""
    token = sent.strip()
    # the signed content hashes the letter exactly as sent (mobile_contract/SIGNATURES.md), not trimmed
    act_signature = await act_signatures.check(
        actor, acts.guarantee_issue(application_no(g), sent), signed, required=False
    )
    signed_letter = await guarantor_letter(g, token)
    letter, sha256 = signed_letter.letter, signed_letter.sha256

    async def change() -> dict[str, Any]:
        current = await locked(g.id)
        if current.status == S.ISSUED.value and current.letter_sha256 == sha256:
            return {"id": current.id}
        TABLE.fire(current.status, "issue", by=Party.GUARANTOR)
        now = clock.now()
        if letter.issued_at > now + CLOCK_SKEW:
            raise LetterMalformed(field="issuedAt")
        lot, _ = await lot_of(current)
        rule = await requirement_for(lot, current.applicant_id)
        deadline = ensure_open(lot, rule, now)
        if not await Registration.exists(id=current.registration_id, status="registered"):
            raise NotRegistered()  # the bidder withdrew meanwhile
        # the lot may have changed (a change announcement): the terms are judged as they are now
        ensure_terms(current.amount_fen, current.valid_until, rule)
        letters.check(letter, await expected_letter(current, lot, deadline))
        if await Guarantee.exists(letter_no=letter.letter_no):
            raise LetterNoTaken(letter_no=letter.letter_no)
        current.status = S.ISSUED.value
        current.letter_no = letter.letter_no
        current.verification_code = new_verification_code()
        current.letter_jws = token
        current.letter_sha256 = sha256
        current.key_id = signed_letter.kid
        current.decided_by = actor.user_id
        current.decided_at = now
        current.next_check_at = current.valid_until
        current.updated_at = now
        await current.save()
        await events.record(
            GuaranteeIssued(
                **event_facts(current, lot),
                key_id=signed_letter.kid,
                letter_sha256=sha256,
                audience=event_audience(current, lot, beneficiary=True),
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
    g = await as_party(actor, guarantee_id, Party.GUARANTOR)
    why = required_text(reason, "reason", MAX_REASON)

    async def change() -> dict[str, Any]:
        current = await locked(g.id)
        TABLE.fire(current.status, "decline", by=Party.GUARANTOR)
        now = clock.now()
        current.status = S.DECLINED.value
        current.decline_reason = why
        current.decided_by = actor.user_id
        current.decided_at = now
        current.next_check_at = None
        current.updated_at = now
        await current.save()
        lot, _ = await lot_of(current)
        await events.record(
            GuaranteeDeclined(
                **event_facts(current, lot), reason=why, audience=event_audience(current, lot, beneficiary=False)
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "guarantee.decline", {"id": g.id, "reason": why}, change)
    return await Guarantee.get(id=result["id"])
