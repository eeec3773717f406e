"""The contract of an award as an object: drafted with its file (documents purpose contract), signed by both parties
with their bound certificates (act contract.sign), then recorded and announced at once; changed (变更) with a
reason from the list, amounts and documents, each change published as 合同变更公告; accepted (验收, 政府采购法
第四十一条); paid; completed by the performance record (services.record_performance) or terminated early.

The 30-day deadline and its overdue flag stay the award's (services.flag_contract_overdue); a contract signed late
is recorded as late.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
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
    ContractChangeTooLarge,
    ContractSignedAlready,
    PaymentsExceedContract,
)
from domain.results.models import Award, Contract, ContractChange, ContractPayment
from domain.results.states import (
    CHANGE_BASIS,
    CONTRACT,
    TERMINATION_BASIS,
    ChangeReason,
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
    step: str  # drafted, signed, changed, accepted, paid, terminated
    amount_fen: int
    waiting_for: int | None = None  # drafted/signed: the organisation whose signature is awaited


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


@raises(ContractSignedAlready, *SIGNATURE_ERRORS)
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
        raise NotFound()
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


@raises(ContractChangeTooLarge)
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
    """A change (变更) of the signed contract agreed by both parties, with its reason, the new amount and the
    agreement's files; published as 合同变更公告 for government procurement (政府采购法 第四十九条、第五十条;
    政府采购信息发布管理办法) and whenever the amount changes."""
    try:
        why = ChangeReason(reason)
    except ValueError:
        raise InvalidInput(field="reason") from None
    text = required_text(rationale, "rationale", MAX_TEXT)
    after = _amount(amount_fen)
    _, project = await results._managed_lot(actor, lot_id)
    request = {"lot": lot_id, "reason": why.value, "text": text, "amount": after, "docs": document_ids}

    async def change() -> dict[str, Any]:
        lot, made = await _locked(lot_id)
        changes = list(await ContractChange.filter(contract_id=made.id).order_by("seq"))
        supplemented = sum(c.after_fen - c.before_fen for c in changes if c.reason == ChangeReason.SUPPLEMENT.value)
        facts = {
            "reason": why.value,
            "original_fen": made.original_fen,
            "before_fen": made.amount_fen,
            "after_fen": after,
            "supplemented_fen": supplemented,
        }
        CONTRACT.fire(made.status, "change", by=actor, **facts)
        docs = await files.named_documents(document_ids, PURPOSE, [lot_id], "documentIds")
        zh, basis = CHANGE_BASIS[why]
        now = clock.now()
        row = await ContractChange.create(
            contract_id=made.id,
            lot_id=lot_id,
            seq=len(changes) + 1,
            reason=why.value,
            basis=basis,
            rationale=text,
            before_fen=made.amount_fen,
            after_fen=after,
            document_ids=[d.id for d in docs],
            changed_by=actor.user_id,
            changed_at=now,
        )
        if project.category == Category.GOVERNMENT_PROCUREMENT.value or after != made.amount_fen:
            body = (
                f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）合同（编号 {html.escape(made.contract_no)}）"
                f"第 {row.seq} 次变更：{zh}（{basis}）。</p><p>{html.escape(text)}</p>"
                f"<p>变更前合同金额：人民币 {results._yuan(made.amount_fen)} 元；"
                f"变更后合同金额：人民币 {results._yuan(after)} 元。</p>"
            )
            row.announcement_id = await _publish(actor, lot, f"{lot.name}合同变更公告", body, docs)
            await row.save(update_fields=["announcement_id"])
        made.amount_fen, made.updated_at = after, now
        await made.save(update_fields=["amount_fen", "updated_at"])
        await _event(actor, made, project, "changed")
        return {"id": row.id}

    result, _ = await run_once(actor, idempotency_key, "contract.change", request, change)
    return await ContractChange.get(id=result["id"])


@raises()
@use_case("contract.terminate", "Lot", lambda actor, lot_id, *a, **k: str(lot_id))
async def terminate(
    actor: Actor,
    lot_id: int,
    reason: str,
    explanation: str,
    document_ids: list[int],
    idempotency_key: str | None = None,
) -> Contract:
    """Ends the signed contract early with its reason and documents; published as 合同终止公告."""
    try:
        why = TerminationReason(reason)
    except ValueError:
        raise InvalidInput(field="reason") from None
    text = required_text(explanation, "explanation", MAX_TEXT)
    _, project = await results._managed_lot(actor, lot_id)
    request = {"lot": lot_id, "reason": why.value, "text": text, "docs": document_ids}

    async def change() -> dict[str, Any]:
        lot, made = await _locked(lot_id)
        status = CONTRACT.fire(made.status, "terminate", by=actor)
        docs = await files.named_documents(document_ids, PURPOSE, [lot_id], "documentIds")
        zh, basis = TERMINATION_BASIS[why]
        body = (
            f"<p>{html.escape(lot.name)}（交易标识码 {lot.trade_code}）合同（编号 {html.escape(made.contract_no)}）"
            f"因{zh}，依据{basis}终止。</p><p>{html.escape(text)}</p>"
        )
        now = clock.now()
        made.termination_announcement_id = await _publish(actor, lot, f"{lot.name}合同终止公告", body, docs)
        made.status, made.terminated_at, made.updated_at = status.value, now, now
        made.termination_reason, made.termination_explanation = why.value, text
        await made.save()
        await _event(actor, made, project, "terminated")
        return {"id": made.id}

    result, _ = await run_once(actor, idempotency_key, "contract.terminate", request, change)
    return await Contract.get(id=result["id"])


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
    changes: list[ContractChange]
    payments: list[ContractPayment]
    signature_ids: list[int]
    private: bool  # the caller is a party or a keeper: the acceptance report and the vouchers too


async def contract_of(actor: Actor, lot_id: int) -> ContractView | None:
    """The lot's contract: public once signed and announced (with its changes); pending, and its payments and
    acceptance, only for both parties, the agency and the lot's keepers."""
    made = await Contract.get_or_none(lot_id=lot_id)
    if made is None:
        return None
    lot = await Lot.get(id=lot_id)
    project = await Project.get(id=lot.project_id)
    private = results._keeper(actor, project) or (actor.org_id is not None and actor.org_id == made.organisation_id)
    if made.status == ContractStatus.PENDING.value and not private:
        return None
    changes = list(await ContractChange.filter(contract_id=made.id).order_by("seq"))
    # payments are public, as the OCDS implementation publishes them; their voucher numbers are not
    payments = list(await ContractPayment.filter(contract_id=made.id).order_by("paid_on", "id"))
    ids = [i for i in (made.buyer_signature_id, made.supplier_signature_id) if i is not None]
    return ContractView(made, changes, payments, ids, private)
