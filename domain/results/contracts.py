"""The contract of an award as an object: drafted with its file (documents purpose contract), signed by both parties
with their bound certificates (act contract.sign), then recorded and announced at once; changed (变更) with a
reason from the list, amounts and documents, or terminated early, each proposed by one party and in effect only once
both signed it (act contract.change; the other party may decline it, its proposer withdraw it), a change published as
合同变更公告 where the law asks and a termination as 合同终止公告; accepted (验收, 政府采购法 第四十一条); paid;
completed by the performance record (services.record_performance).

A contract signed off the platform and recorded by services.record_contract gets a contract too (origin
"recorded": no file, no signatures on the platform), so its changes, acceptance, payments and OCDS record work alike.

The 30-day deadline and its overdue flag stay the award's (services.flag_contract_overdue); a contract signed late
is recorded as late.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from domain.certificates import acts
from domain.certificates import signatures as act_signatures
from domain.certificates.errors import SIGNATURE_ERRORS
from domain.certificates.signatures import Signed
from domain.common import clock, events
from domain.common.actors import SYSTEM, Actor
from domain.common.catalogue import Category
from domain.common.errors import InvalidInput, InvalidTransition, NotFound, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.storage import lock
from domain.publication.announcements import announce
from domain.publication.models import Lot, Project
from domain.publication.states import AnnouncementType
from domain.results import files
from domain.results import services as results
from domain.results.errors import (
    ContractAmountMismatch,
    ContractChangeDecided,
    ContractChangePending,
    ContractChangeTooLarge,
    ContractSignedAlready,
    NotContractParty,
    PaymentsExceedContract,
)
from domain.results.models import Award, Contract, ContractChange, ContractPayment
from domain.results.states import (
    CHANGE_BASIS,
    CONTRACT,
    CONTRACT_CHANGE,
    TERMINATION_BASIS,
    ChangeKind,
    ChangeReason,
    ChangeStatus,
    ContractStatus,
    TerminationReason,
)

PURPOSE = "contract"
MAX_TEXT = 2000


@dataclass(frozen=True, kw_only=True)
class ContractEvent(DomainEvent):
    """To both parties (and the tenderer's agency) and the keepers: the contract moved; `step` says how."""

    type = "result.contract"
    object_type = "Contract"
    lot_id: int
    contract_no: str
    # drafted, signed, changed, accepted, paid, terminated; change_/termination_ proposed, signed, declined, withdrawn
    step: str
    amount_fen: int
    waiting_for: int | None = None  # the organisation whose signature is awaited, or told of a decline/withdrawal


def _amount(value: int, field: str = "amountFen") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= results.MAX_PRICE_FEN:
        raise InvalidInput(field=field)
    return value


def _day(value: date, field: str, not_before: date | None) -> date:
    if not isinstance(value, date) or value > results._today() or (not_before is not None and value < not_before):
        raise InvalidInput(field=field)
    return value


async def _event(actor: Actor, made: Contract, project: Project, step: str, waiting_for: int | None = None) -> None:
    await events.record(
        ContractEvent(
            object_id=str(made.id),
            lot_id=made.lot_id,
            contract_no=made.contract_no,
            step=step,
            amount_fen=made.amount_fen,
            waiting_for=waiting_for,
            audience=Audience(orgs=(made.organisation_id, *results._managers(project)), roles=results.KEEPERS),
        ),
        actor,
    )


async def _locked(lot_id: int) -> tuple[Lot, Contract]:
    lot = await lock(Lot.filter(id=lot_id)).get()
    made = await lock(Contract.filter(lot_id=lot_id)).first()
    if made is None:
        raise InvalidTransition(state=lot.status)
    return lot, made


@raises(ContractAmountMismatch)
@use_case("contract.draft", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def draft(
    actor: Actor,
    lot_id: int,
    contract_no: str,
    amount_fen: int,
    document_ids: list[int],
    idempotency_key: str | None = None,
) -> Contract:
    """The tenderer's contract for the award: its number, the winning price and its files; both parties sign next."""
    number = required_text(contract_no, "contractNo", 64)
    amount = _amount(amount_fen)
    _, project = await results._managed_lot(actor, lot_id)
    request = {"lot": lot_id, "no": number, "amount": amount, "docs": document_ids}

    async def change() -> dict[str, Any]:
        lot = await lock(Lot.filter(id=lot_id)).get()
        award = await lock(Award.filter(lot_id=lot_id)).first()
        if award is None:
            raise InvalidTransition(state=lot.status)
        if await Contract.exists(lot_id=lot_id):
            raise InvalidTransition(state=(await Contract.get(lot_id=lot_id)).status)
        facts = {"award_status": award.status, "amount_fen": amount, "price_fen": award.price_fen}
        status = CONTRACT.fire(None, "draft", by=actor, **facts)
        docs = await files.named_documents(document_ids, PURPOSE, [lot_id], "documentIds")
        now = clock.now()
        made = await Contract.create(
            lot_id=lot_id,
            award_id=award.id,
            organisation_id=award.organisation_id,
            contract_no=number,
            original_fen=amount,
            amount_fen=amount,
            document_ids=[d.id for d in docs],
            documents_sha256=[d.sha256 for d in docs],
            status=status.value,
            drafted_by=actor.user_id,
            drafted_at=now,
            updated_at=now,
        )
        await _event(actor, made, project, "drafted", waiting_for=None)
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "contract.draft", request, change)
    return await Contract.get(id=result["id"])


def content_of(lot: Lot, made: Contract) -> dict[str, Any]:
    """What each party signs (mobile_contract/SIGNATURES.md)."""
    return acts.contract_sign(lot.trade_code, made.contract_no, made.amount_fen, made.documents_sha256)


@raises(ContractSignedAlready, NotContractParty, *SIGNATURE_ERRORS)
@use_case("contract.sign", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def sign(actor: Actor, lot_id: int, signed: Signed | None, idempotency_key: str | None = None) -> Contract:
    """One party signs the drafted contract with its bound certificate: the tenderer's side (its own users, not the
    agency's) or the winner's. When both have, the contract is recorded and announced at once and the lot is
    contracted (the winner's security goes)."""
    lot = await Lot.get_or_none(id=lot_id)
    made = await Contract.get_or_none(lot_id=lot_id)
    if lot is None or made is None or actor.org_id is None:
        raise NotFound()
    project = await Project.get(id=lot.project_id)
    if actor.org_id == project.tenderer_id:
        side = "buyer"
    elif actor.org_id == made.organisation_id:
        side = "supplier"
    else:
        raise _not_a_party(actor, project, made)
    verified = await act_signatures.check(actor, content_of(lot, made), signed, required=True)
    assert verified is not None  # required
    request = {"lot": lot_id, "side": side, "signature": verified.signature}

    async def change() -> dict[str, Any]:
        locked, current = await _locked(lot_id)
        if current.documents_sha256 != made.documents_sha256 or current.amount_fen != made.amount_fen:
            raise InvalidTransition(state=current.status)  # not what was signed: cannot happen while pending
        mine = current.buyer_signature_id if side == "buyer" else current.supplier_signature_id
        other = current.supplier_signature_id if side == "buyer" else current.buyer_signature_id
        facts = {"signed_before": mine is not None, "other_signed": other is not None}
        step = "sign_last" if other is not None else "sign"
        status = CONTRACT.fire(current.status, step, by=actor, **facts)
        row = await act_signatures.record(actor, verified, "Contract", current.id, lot_id)
        now = clock.now()
        if side == "buyer":
            current.buyer_signature_id, current.buyer_signed_at = row.id, now
        else:
            current.supplier_signature_id, current.supplier_signed_at = row.id, now
        current.status, current.updated_at = status.value, now
        if status is ContractStatus.ACTIVE:
            award = await lock(Award.filter(lot_id=lot_id)).first()
            today = results._today()
            # the platform publishes it on both signatures, whoever signed last (政府采购法实施条例 第五十条)
            ann = await results.conclude_contract(SYSTEM, locked, award, current.contract_no, current.amount_fen, today)
            await files.attach(
                ann.id, await files.named_documents(current.document_ids, PURPOSE, [lot_id], "documentIds")
            )
            current.signed_on, current.announcement_id = today, ann.id
        await current.save()
        waiting = (
            None
            if status is ContractStatus.ACTIVE
            else (current.organisation_id if side == "buyer" else project.tenderer_id)
        )
        await _event(actor, current, project, "signed", waiting_for=waiting)
        return {"id": current.id}

    result, _ = await run_once(actor, idempotency_key, "contract.sign", request, change)
    return await Contract.get(id=result["id"])


async def _publish(actor: Actor, lot: Lot, title: str, body: str, docs: list[Any]) -> int:
    ann = await announce(actor, lot, AnnouncementType.CONTRACT_CHANGE, title, body)
    await files.attach(ann.id, docs)
    return int(ann.id)


async def _party(actor: Actor, lot_id: int, *, signing: bool) -> tuple[Lot, Project, Contract, str]:
    """The lot, its project and contract, and the caller's side: "buyer" (the tenderer's users; for a proposal, its
    agency too) or "supplier" (the winner's); anyone else is refused as no party."""
    lot = await Lot.get_or_none(id=lot_id)
    made = await Contract.get_or_none(lot_id=lot_id)
    if lot is None or made is None or actor.org_id is None:
        raise NotFound()
    project = await Project.get(id=lot.project_id)
    buyers = (project.tenderer_id,) if signing else results._managers(project)
    if actor.org_id in buyers:
        return lot, project, made, "buyer"
    if actor.org_id == made.organisation_id:
        return lot, project, made, "supplier"
    raise _not_a_party(actor, project, made)


def _not_a_party(actor: Actor, project: Project, made: Contract) -> NotFound | NotContractParty:
    """Why a caller that is neither party may not sign or propose: NotContractParty where it may read the contract
    (announced, or it keeps the lot: the agency, operators, supervisors); NotFound while it is pending and the caller
    may not read it, so a stranger does not learn that a draft exists (contract_of's rule)."""
    if made.status == ContractStatus.PENDING.value and not results._keeper(actor, project):
        return NotFound()
    return NotContractParty()


def change_content(lot: Lot, made: Contract, row: ContractChange) -> dict[str, Any]:
    """What both parties sign for a change or termination (act contract.change, mobile_contract/SIGNATURES.md)."""
    return acts.contract_change(
        lot.trade_code,
        made.contract_no,
        row.seq,
        row.kind,
        row.reason,
        row.before_fen,
        row.after_fen,
        list(row.documents_sha256 or []),
    )


def _other(side: str, project: Project, made: Contract) -> int:
    return int(made.organisation_id if side == "buyer" else project.tenderer_id)


async def _propose(
    actor: Actor,
    lot_id: int,
    kind: ChangeKind,
    reason: str,
    basis: str,
    text: str,
    after: int | None,
    document_ids: list[int],
    idempotency_key: str | None,
) -> ContractChange:
    _, project, _, side = await _party(actor, lot_id, signing=False)
    request = {"lot": lot_id, "kind": kind.value, "reason": reason, "text": text, "amount": after, "docs": document_ids}

    async def change() -> dict[str, Any]:
        _, made = await _locked(lot_id)
        changes = list(await ContractChange.filter(contract_id=made.id).order_by("seq"))
        waiting = [c for c in changes if c.status == ChangeStatus.PROPOSED.value]
        if waiting:
            raise ContractChangePending(seq=waiting[0].seq)
        amount = made.amount_fen if after is None else after
        if kind is ChangeKind.CHANGE:
            CONTRACT.fire(made.status, "change", by=actor, **_change_facts(made, changes, reason, amount))
        else:
            CONTRACT.fire(made.status, "terminate", by=actor)
        docs = await files.named_documents(document_ids, PURPOSE, [lot_id], "documentIds")
        status = CONTRACT_CHANGE.fire(None, "propose", by=actor)
        row = await ContractChange.create(
            contract_id=made.id,
            lot_id=lot_id,
            seq=len(changes) + 1,
            kind=kind.value,
            status=status.value,
            reason=reason,
            basis=basis,
            rationale=text,
            before_fen=made.amount_fen,
            after_fen=amount,
            document_ids=[d.id for d in docs],
            documents_sha256=[d.sha256 for d in docs],
            proposed_by=side,
            changed_by=actor.user_id,
            changed_at=clock.now(),
        )
        await _event(actor, made, project, f"{kind.value}_proposed", waiting_for=_other(side, project, made))
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, f"contract.{kind.value}.propose", request, change)
    return await ContractChange.get(id=result["id"])


def _change_facts(made: Contract, changes: list[ContractChange], reason: str, after: int) -> dict[str, Any]:
    effective = [c for c in changes if c.status == ChangeStatus.EFFECTIVE.value and c.kind == ChangeKind.CHANGE.value]
    supplemented = sum(c.after_fen - c.before_fen for c in effective if c.reason == ChangeReason.SUPPLEMENT.value)
    return {
        "reason": reason,
        "original_fen": made.original_fen,
        "before_fen": made.amount_fen,
        "after_fen": after,
        "supplemented_fen": supplemented,
    }


@raises(ContractChangeTooLarge, ContractChangePending, NotContractParty)
@use_case("contract.change", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def change_contract(
    actor: Actor,
    lot_id: int,
    reason: str,
    rationale: str,
    amount_fen: int,
    document_ids: list[int],
    idempotency_key: str | None = None,
) -> ContractChange:
    """One party (the tenderer, its agency, or the supplier) proposes a change (变更) of the signed contract with its
    reason, the new amount and the agreement's files; it takes effect only once both parties signed it
    (sign_change), then is published as 合同变更公告 for government procurement (政府采购法 第四十九条、第五十条;
    政府采购信息发布管理办法) and whenever the amount changes."""
    try:
        why = ChangeReason(reason)
    except ValueError:
        raise InvalidInput(field="reason") from None
    text = required_text(rationale, "rationale", MAX_TEXT)
    after = _amount(amount_fen)
    _, basis = CHANGE_BASIS[why]
    return await _propose(
        actor, lot_id, ChangeKind.CHANGE, why.value, basis, text, after, document_ids, idempotency_key
    )


@raises(ContractChangePending, NotContractParty)
@use_case("contract.terminate", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def terminate(
    actor: Actor,
    lot_id: int,
    reason: str,
    explanation: str,
    document_ids: list[int],
    idempotency_key: str | None = None,
) -> ContractChange:
    """One party proposes to end the signed contract early with its reason and documents; once both parties signed
    it (sign_change) the contract is terminated and 合同终止公告 published."""
    try:
        why = TerminationReason(reason)
    except ValueError:
        raise InvalidInput(field="reason") from None
    text = required_text(explanation, "explanation", MAX_TEXT)
    _, basis = TERMINATION_BASIS[why]
    return await _propose(
        actor, lot_id, ChangeKind.TERMINATION, why.value, basis, text, None, document_ids, idempotency_key
    )


async def _take_effect(actor: Actor, lot: Lot, project: Project, made: Contract, row: ContractChange) -> None:
    """In the signing transaction: the contract follows the change or ends, announced where the law asks (by the
    platform, whichever party signed last, as the contract itself is)."""
    docs = await files.named_documents(row.document_ids, PURPOSE, [lot.id], "documentIds")
    now = clock.now()
    if row.kind == ChangeKind.CHANGE.value:
        changes = [c for c in await ContractChange.filter(contract_id=made.id) if c.id != row.id]
        facts = _change_facts(made, changes, row.reason, row.after_fen)
        CONTRACT.fire(made.status, "change", by=actor, **facts)
        zh, basis = CHANGE_BASIS[ChangeReason(row.reason)]
        if project.category == Category.GOVERNMENT_PROCUREMENT.value or row.after_fen != made.amount_fen:
            body = (
                f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）合同（编号 {html.escape(made.contract_no)}）"
                f"第 {row.seq} 次变更：{zh}（{basis}），经合同双方签署生效。</p><p>{html.escape(row.rationale)}</p>"
                f"<p>变更前合同金额：人民币 {results._yuan(made.amount_fen)} 元；"
                f"变更后合同金额：人民币 {results._yuan(row.after_fen)} 元。</p>"
            )
            row.announcement_id = await _publish(SYSTEM, lot, f"{lot.name}合同变更公告", body, docs)
        made.amount_fen, made.updated_at = row.after_fen, now
        await made.save(update_fields=["amount_fen", "updated_at"])
        await _event(actor, made, project, "changed")
        return
    status = CONTRACT.fire(made.status, "terminate", by=actor)
    zh, basis = TERMINATION_BASIS[TerminationReason(row.reason)]
    body = (
        f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）合同（编号 {html.escape(made.contract_no)}）"
        f"因{zh}，依据{basis}，经合同双方签署终止。</p><p>{html.escape(row.rationale)}</p>"
    )
    made.termination_announcement_id = await _publish(SYSTEM, lot, f"{lot.name}合同终止公告", body, docs)
    made.status, made.terminated_at, made.updated_at = status.value, now, now
    made.termination_reason, made.termination_explanation = row.reason, row.rationale
    await made.save()
    await _event(actor, made, project, "terminated")


async def _proposal(made: Contract, seq: int) -> ContractChange:
    row = await lock(ContractChange.filter(contract_id=made.id, seq=seq)).first()
    if row is None:
        raise NotFound()
    return row


@raises(ContractSignedAlready, ContractChangeDecided, NotContractParty, *SIGNATURE_ERRORS)
@use_case("contract.change_sign", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def sign_change(
    actor: Actor, lot_id: int, seq: int, signed: Signed | None, idempotency_key: str | None = None
) -> ContractChange:
    """One party signs a proposed change or termination with its bound certificate, over the same content for both
    (the tenderer's own users, not the agency's, or the supplier's); with both signatures it takes effect at once."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise InvalidInput(field="seq")
    lot, project, made, side = await _party(actor, lot_id, signing=True)
    row = await ContractChange.get_or_none(contract_id=made.id, seq=seq)
    if row is None:
        raise NotFound()
    if row.status != ChangeStatus.PROPOSED.value:  # settled: refused before the signature is looked at
        raise ContractChangeDecided(status=row.status)
    verified = await act_signatures.check(actor, change_content(lot, made, row), signed, required=True)
    assert verified is not None  # required
    request = {"lot": lot_id, "seq": seq, "side": side, "signature": verified.signature}

    async def change() -> dict[str, Any]:
        locked, current = await _locked(lot_id)
        proposal = await _proposal(current, seq)
        mine = proposal.buyer_signature_id if side == "buyer" else proposal.supplier_signature_id
        other = proposal.supplier_signature_id if side == "buyer" else proposal.buyer_signature_id
        facts = {"signed_before": mine is not None, "other_signed": other is not None}
        step = "sign_last" if other is not None else "sign"
        status = CONTRACT_CHANGE.fire(proposal.status, step, by=actor, **facts)
        sig = await act_signatures.record(actor, verified, "ContractChange", proposal.id, lot_id)
        now = clock.now()
        if side == "buyer":
            proposal.buyer_signature_id, proposal.buyer_signed_at = sig.id, now
        else:
            proposal.supplier_signature_id, proposal.supplier_signed_at = sig.id, now
        proposal.status = status.value
        if status is ChangeStatus.EFFECTIVE:
            await _take_effect(actor, locked, project, current, proposal)
            proposal.decided_at = now
        else:
            await _event(actor, current, project, f"{proposal.kind}_signed", waiting_for=_other(side, project, current))
        await proposal.save()
        return {"id": proposal.id}

    result, _ = await run_once(actor, idempotency_key, "contract.change_sign", request, change)
    return await ContractChange.get(id=result["id"])


@raises(ContractChangeDecided, ContractSignedAlready, NotContractParty)
@use_case("contract.change_decline", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def decline_change(
    actor: Actor, lot_id: int, seq: int, note: str, idempotency_key: str | None = None
) -> ContractChange:
    """A proposed change or termination is declined by the other party, or withdrawn by its proposer's side, with a
    note; nothing of the contract changes."""
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise InvalidInput(field="seq")
    text = required_text(note, "note", MAX_TEXT)
    _, project, _, side = await _party(actor, lot_id, signing=False)
    request = {"lot": lot_id, "seq": seq, "note": text}

    async def change() -> dict[str, Any]:
        _, current = await _locked(lot_id)
        proposal = await _proposal(current, seq)
        step = "withdraw" if proposal.proposed_by == side else "decline"
        status = CONTRACT_CHANGE.fire(proposal.status, step, by=actor)
        proposal.status, proposal.decided_by, proposal.decided_at = status.value, actor.user_id, clock.now()
        proposal.decision_note = text
        await proposal.save()
        proposer = project.tenderer_id if proposal.proposed_by == "buyer" else current.organisation_id
        told = _other(side, project, current) if step == "withdraw" else proposer
        await _event(actor, current, project, f"{proposal.kind}_{status.value}", waiting_for=told)
        return {"id": proposal.id}

    result, _ = await run_once(actor, idempotency_key, "contract.change_decline", request, change)
    return await ContractChange.get(id=result["id"])


@raises()
@use_case("contract.accept", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def accept(
    actor: Actor,
    lot_id: int,
    accepted_on: date,
    passed: bool,
    summary: str,
    document_ids: list[int],
    idempotency_key: str | None = None,
) -> Contract:
    """Records the acceptance (验收, 政府采购法 第四十一条; 政府采购法实施条例 第四十五条), once, with its result,
    report and files."""
    text = required_text(summary, "summary", MAX_TEXT)
    _, project = await results._managed_lot(actor, lot_id)
    request = {"lot": lot_id, "on": str(accepted_on), "passed": bool(passed), "text": text, "docs": document_ids}

    async def change() -> dict[str, Any]:
        _, made = await _locked(lot_id)
        CONTRACT.fire(made.status, "accept", by=actor, accepted=made.accepted_at is not None)
        day = _day(accepted_on, "acceptedOn", made.signed_on)
        docs = await files.named_documents(document_ids, PURPOSE, [lot_id], "documentIds")
        now = clock.now()
        made.accepted_on, made.acceptance_passed, made.acceptance_summary = day, bool(passed), text
        made.acceptance_document_ids, made.accepted_at, made.updated_at = [d.id for d in docs], now, now
        await made.save()
        await _event(actor, made, project, "accepted")
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "contract.accept", request, change)
    return await Contract.get(id=result["id"])


@raises(PaymentsExceedContract)
@use_case("contract.pay", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def record_payment(
    actor: Actor,
    lot_id: int,
    amount_fen: int,
    paid_on: date,
    milestone: str,
    reference: str,
    idempotency_key: str | None = None,
) -> ContractPayment:
    """Records a payment to the supplier; all payments together stay within the contract's current amount; a
    reference (the voucher number) is recorded once per contract."""
    amount = _amount(amount_fen)
    what = required_text(milestone, "milestone", 200)
    ref = required_text(reference, "reference", 64)
    _, project = await results._managed_lot(actor, lot_id)
    request = {"lot": lot_id, "amount": amount, "on": str(paid_on), "milestone": what, "ref": ref}

    async def change() -> dict[str, Any]:
        _, made = await _locked(lot_id)
        existing = await ContractPayment.get_or_none(contract_id=made.id, reference=ref)
        if existing is not None:
            if (existing.amount_fen, existing.paid_on) != (amount, paid_on):
                raise InvalidInput(field="reference")
            return {"id": existing.id}
        paid = sum(p.amount_fen for p in await ContractPayment.filter(contract_id=made.id))
        facts = {"amount_fen": made.amount_fen, "paid_fen": paid, "payment_fen": amount}
        CONTRACT.fire(made.status, "pay", by=actor, **facts)
        day = _day(paid_on, "paidOn", made.signed_on)
        row = await ContractPayment.create(
            contract_id=made.id,
            lot_id=lot_id,
            amount_fen=amount,
            paid_on=day,
            milestone=what,
            reference=ref,
            recorded_by=actor.user_id,
            recorded_at=clock.now(),
        )
        await _event(actor, made, project, "paid")
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "contract.pay", request, change)
    return await ContractPayment.get(id=result["id"])


@dataclass(frozen=True, slots=True)
class ContractView:
    contract: Contract
    changes: list[ContractChange]  # the changes in effect, oldest first
    payments: list[ContractPayment]
    signature_ids: list[int]
    private: bool  # the caller is a party or a keeper: the acceptance report and the vouchers too
    proposals: list[ContractChange] = field(default_factory=list)  # every change and termination (parties, keepers)
    to_sign: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> what both parties sign for it


async def contract_of(actor: Actor, lot_id: int) -> ContractView | None:
    """The lot's contract: public once signed and announced (with its changes in effect); pending, its proposed,
    declined and withdrawn changes, its payments' vouchers and acceptance report, only for both parties, the agency
    and the lot's keepers."""
    made = await Contract.get_or_none(lot_id=lot_id)
    if made is None:
        return None
    lot = await Lot.get(id=lot_id)
    project = await Project.get(id=lot.project_id)
    private = results._keeper(actor, project) or (actor.org_id is not None and actor.org_id == made.organisation_id)
    if made.status == ContractStatus.PENDING.value and not private:
        return None
    rows = list(await ContractChange.filter(contract_id=made.id).order_by("seq"))
    effective = [r for r in rows if r.status == ChangeStatus.EFFECTIVE.value]
    changes = [r for r in effective if r.kind == ChangeKind.CHANGE.value]
    proposals = rows if private else effective
    # payments are public, as the OCDS implementation publishes them; their voucher numbers are not
    payments = list(await ContractPayment.filter(contract_id=made.id).order_by("paid_on", "id"))
    ids = [i for i in (made.buyer_signature_id, made.supplier_signature_id) if i is not None]
    to_sign = {r.seq: change_content(lot, made, r) for r in proposals}
    return ContractView(made, changes, payments, ids, private, proposals, to_sign)
