"""Claims (索赔) on an issued guarantee: after the bid deadline the beneficiary may claim once, while the
guarantee is valid; the guarantor pays or rejects the claim with a reason."""

from __future__ import annotations

from typing import Any

from domain.certificates import acts
from domain.certificates import signatures as act_signatures
from domain.certificates.errors import SIGNATURE_ERRORS
from domain.certificates.signatures import Signed
from domain.common import clock, events
from domain.common.actors import Actor
from domain.common.errors import InvalidInput, raises, required_text
from domain.common.events import DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.guarantees.errors import ClaimExceedsGuarantee, ClaimTooEarly, GuaranteeAlreadyClaimed
from domain.guarantees.events import GuaranteeClaimed, GuaranteeClaimPaid, GuaranteeClaimRejected
from domain.guarantees.models import Guarantee
from domain.guarantees.shared import (
    MAX_REASON,
    S,
    application_no,
    as_party,
    event_audience,
    event_facts,
    locked,
    lot_of,
    requirement,
)
from domain.guarantees.states import TABLE, GuaranteeStatus, Party


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
    g = await as_party(actor, guarantee_id, Party.BENEFICIARY)
    why = required_text(reason, "reason", MAX_REASON)
    act_signature = await act_signatures.check(
        actor, acts.guarantee_claim(application_no(g), reason), signed, required=False
    )
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool) or amount_fen <= 0:
        raise InvalidInput(field="amountFen")

    async def change() -> dict[str, Any]:
        current = await locked(g.id)
        now = clock.now()
        lot, _ = await lot_of(current)
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
                **event_facts(current, lot),
                claim_amount_fen=amount_fen,
                reason=why,
                audience=event_audience(current, lot, beneficiary=True),
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
    g = await as_party(actor, guarantee_id, Party.GUARANTOR)

    async def change() -> dict[str, Any]:
        current = await locked(g.id)
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
        lot, _ = await lot_of(current)
        facts = {**event_facts(current, lot), "claim_amount_fen": current.claim_amount_fen or 0}
        audience = event_audience(current, lot, beneficiary=True)
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
