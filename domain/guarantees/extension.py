"""Guarantee extension (保函展期): a guarantee a moved deadline left short is made to cover again.

When a clarification or change moves a lot's bid deadline, an issued guarantee valid until less than the new deadline
plus the bid validity period no longer counts as security (招标投标法实施条例 第二十六条; workflows.in_force): its
applicant and guarantor were told (guarantee.validity_short). The applicant asks its guarantor to extend the expiry to
a date that covers (`request`); the guarantor answers through the protocol it issued the letter with: an amended
letter, a compact JWS signed with one of its registered, unrevoked `guarantee_letter` keys, with the same letter
number and every field as the guarantee says except `validUntil`, which is the requested date (`extend`); or a
refusal with its reason (`decline`). An accepted amended letter replaces the stored letter (new SHA-256, new expiry,
same verification code): the guarantee covers again, the bidder's bids count as secured and guaranteeVerify shows the
amended letter. Both happen only while the lot takes bids, as the issue does.

Every step is idempotent (the same request or letter again changes nothing and records nothing; an idempotency key
replays the first outcome), locks the guarantee's row, and records its event in the same transaction (audited as a
step of the Guarantee).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, PermissionDenied, raises, required_text
from domain.common.events import use_case
from domain.common.idempotency import run_once
from domain.guarantees import letter as letters
from domain.guarantees.errors import (
    ExtensionNotRequested,
    GuaranteeAlreadyCovers,
    GuaranteeNotActive,
    GuaranteeTooLate,
    GuaranteeValidityTooShort,
    LetterMalformed,
    LetterMismatch,
    NotTheApplicant,
    SignatureInvalid,
)
from domain.guarantees.events import GuaranteeExtended, GuaranteeExtensionDeclined, GuaranteeExtensionRequested
from domain.guarantees.models import Guarantee
from domain.guarantees.shared import (
    CLOCK_SKEW,
    MAX_REASON,
    Requirement,
    S,
    as_party,
    ensure_open,
    event_audience,
    event_facts,
    expected_letter,
    guarantor_letter,
    locked,
    lot_of,
    requirement,
    visible,
)
from domain.guarantees.states import Party
from domain.publication.models import Lot


def _active(g: Guarantee) -> None:
    if g.status != S.ISSUED.value:
        raise GuaranteeNotActive(state=g.status)


def _needs_extension(g: Guarantee, lot: Lot, now: datetime) -> Requirement:
    """The lot's requirement, if the guarantee falls short of it and the lot still takes bids."""
    rule = requirement(lot)
    ensure_open(lot, rule, now)
    assert rule.valid_until is not None  # ensure_open: a deadline, so a required validity
    if g.valid_until >= rule.valid_until:
        raise GuaranteeAlreadyCovers(required_until=rule.valid_until)
    return rule


@raises(NotTheApplicant, GuaranteeNotActive, GuaranteeAlreadyCovers, GuaranteeTooLate, GuaranteeValidityTooShort)
@use_case("guarantee.extension_request", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def request(
    actor: Actor, guarantee_id: int, valid_until: datetime, idempotency_key: str | None = None
) -> Guarantee:
    """Records the applicant's request to its guarantor to extend an issued guarantee that no longer covers the lot's
    deadline plus the bid validity to `valid_until` (at least that); a pending request is replaced, the same one
    again changes nothing."""
    if actor.user_id is None or actor.org_id is None or not actor.has(Role.BIDDER):
        raise PermissionDenied()
    if not isinstance(valid_until, datetime) or valid_until.tzinfo is None:
        raise InvalidInput(field="validUntil")
    g = await visible(actor, guarantee_id)
    if actor.org_id != g.applicant_id:
        raise NotTheApplicant()

    async def change() -> dict[str, Any]:
        current = await locked(g.id)
        _active(current)
        now = clock.now()
        lot, _ = await lot_of(current)
        rule = _needs_extension(current, lot, now)
        assert rule.valid_until is not None
        if valid_until < rule.valid_until:
            raise GuaranteeValidityTooShort(required_until=rule.valid_until, days=rule.validity_days)
        if current.extension_until == valid_until:
            return {"id": current.id}
        current.extension_until = valid_until
        current.extension_requested_at = now
        current.extension_requested_by = actor.user_id
        current.extension_decline_reason = None
        current.updated_at = now
        await current.save()
        await events.record(
            GuaranteeExtensionRequested(
                **event_facts(current, lot),
                extension_until=valid_until,
                required_until=rule.valid_until,
                audience=event_audience(current, lot, beneficiary=False),
            ),
            actor,
        )
        return {"id": current.id}

    request_facts = {"id": g.id, "validUntil": valid_until}
    result, _ = await run_once(actor, idempotency_key, "guarantee.extension_request", request_facts, change)
    return await Guarantee.get(id=result["id"])


@raises(
    SignatureInvalid,
    LetterMalformed,
    LetterMismatch,
    GuaranteeNotActive,
    ExtensionNotRequested,
    GuaranteeAlreadyCovers,
    GuaranteeTooLate,
)
@use_case("guarantee.extend", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def extend(actor: Actor, guarantee_id: int, letter_jws: str, idempotency_key: str | None = None) -> Guarantee:
    """Accepts the guarantor's amended letter iff it is signed by a registered, unrevoked letter key of that guarantor,
    keeps the letter number, says what the guarantee says with the requested expiry, and arrives while the lot takes
    bids: the guarantee then lasts until that expiry and covers again. The same letter sent again returns the
    guarantee; otherwise nothing changes."""
    g = await as_party(actor, guarantee_id, Party.GUARANTOR)
    token = (letter_jws if isinstance(letter_jws, str) else "").strip()
    signed_letter = await guarantor_letter(g, token)
    amended, sha256 = signed_letter.letter, signed_letter.sha256

    async def change() -> dict[str, Any]:
        current = await locked(g.id)
        if current.letter_sha256 == sha256 and current.extended_at is not None:
            return {"id": current.id}  # this amended letter was accepted already
        _active(current)
        if current.extension_until is None:
            raise ExtensionNotRequested()
        now = clock.now()
        if amended.issued_at > now + CLOCK_SKEW:
            raise LetterMalformed(field="issuedAt")
        lot, _ = await lot_of(current)
        rule = _needs_extension(current, lot, now)
        assert rule.deadline is not None
        if amended.letter_no != current.letter_no:
            raise LetterMismatch(field="letterNo")  # an amendment of this letter (保函修改书), not another one
        letters.check(amended, await expected_letter(current, lot, rule.deadline, current.extension_until))
        previous_until, previous_sha256 = current.valid_until, current.letter_sha256
        current.valid_until = current.extension_until
        current.letter_jws = token
        current.letter_sha256 = sha256
        current.key_id = signed_letter.kid
        current.extension_until = None
        current.extended_at = now
        current.next_check_at = current.valid_until
        current.updated_at = now
        await current.save()
        await events.record(
            GuaranteeExtended(
                **event_facts(current, lot),
                previous_valid_until=previous_until,
                previous_letter_sha256=previous_sha256,
                letter_sha256=sha256,
                key_id=signed_letter.kid,
                audience=event_audience(current, lot, beneficiary=True),
            ),
            actor,
        )
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "guarantee.extend", {"id": g.id, "letter": sha256}, change)
    return await Guarantee.get(id=result["id"])


@raises(GuaranteeNotActive, ExtensionNotRequested)
@use_case("guarantee.extension_decline", "Guarantee", lambda actor, guarantee_id, *a, **k: str(guarantee_id))
async def decline(actor: Actor, guarantee_id: int, reason: str, idempotency_key: str | None = None) -> Guarantee:
    """The guarantor refuses the requested extension with its reason: the guarantee stays as it is; its applicant may
    ask again or give other security."""
    g = await as_party(actor, guarantee_id, Party.GUARANTOR)
    why = required_text(reason, "reason", MAX_REASON)

    async def change() -> dict[str, Any]:
        current = await locked(g.id)
        _active(current)
        if current.extension_until is None:
            raise ExtensionNotRequested()
        now = clock.now()
        asked = current.extension_until
        current.extension_until = None
        current.extension_decline_reason = why
        current.updated_at = now
        await current.save()
        lot, _ = await lot_of(current)
        await events.record(
            GuaranteeExtensionDeclined(
                **event_facts(current, lot),
                extension_until=asked,
                reason=why,
                audience=event_audience(current, lot, beneficiary=False),
            ),
            actor,
        )
        return {"id": current.id}

    answer = {"id": g.id, "reason": why}
    result, _ = await run_once(actor, idempotency_key, "guarantee.extension_decline", answer, change)
    return await Guarantee.get(id=result["id"])
