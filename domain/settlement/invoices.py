"""Electronic invoices (数电发票) for the platform's service fees, issued through the tax-invoice provider (Nuonuo,
adapters.py); the file the provider delivers (PDF) kept through the documents storage for the buyer organisation and
operators only; reversed only by a red invoice (红字发票, 红冲) with a reason and its own number. The provider is asked
before the transaction that records the invoice (its result is polled), under order numbers a retry finds again
(blue_prefix, red_serial), so the provider issues it once.

Deposits' interest is not invoiced: interest on deposits is not a taxable sale (存款利息 不征收增值税, 财税〔2016〕36号
附件1 《销售服务、无形资产、不动产注释》), and the bank, not the platform, pays it with the refund.

Amounts are integer fen, price including tax. Tax = amount x rate / (1 + rate), rounded half up to the fen
(四舍五入); the rate is a setting (INVOICE_SERVICE_FEE_TAX_RATE_BP, 600 = 6%).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

from domain.accounts.models import Organisation
from domain.common import clock, events
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises, required_text
from domain.common.events import Audience, DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.ids import InvalidCreditCode, is_valid_uscc
from domain.documents.storing import Made, keep_file
from domain.settlement import adapters
from domain.settlement.adapters import IssuedInvoice
from domain.settlement.errors import (
    BuyerTaxIdInvalid,
    InvoiceAlreadyIssued,
    InvoiceProviderDown,
    InvoiceSerialDuplicate,
)
from domain.settlement.models import Invoice, ServiceFee
from domain.settlement.states import INVOICE, InvoiceStatus

PURPOSE = "invoice"
MAX_FEE_FEN = 10**12


@dataclass(frozen=True, kw_only=True)
class InvoiceEvent(DomainEvent):
    """An invoice was issued or reversed (`step`), to the buyer organisation and operators."""

    type = "invoice.changed"
    object_type = "Invoice"
    step: str
    invoice_no: str
    fee_id: int
    amount_fen: int
    tax_fen: int


def tax_of(amount_fen: int, rate_bp: int) -> int:
    """The tax in a price including tax: amount x rate / (1 + rate), rounded half up (away from zero) to the fen."""
    sign = -1 if amount_fen < 0 else 1
    num, den = abs(amount_fen) * rate_bp, 10_000 + rate_bp
    return sign * ((2 * num + den) // (2 * den))


def _operator(actor: Actor) -> None:
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()


@raises()
@use_case("service_fee.create", "Organisation", lambda actor, org_id, *a, **k: str(org_id))
async def create_fee(actor: Actor, org_id: int, lot_id: int | None, item: str, amount_fen: int) -> ServiceFee:
    """Records a platform service fee an operator charges an organisation, price including tax."""
    _operator(actor)
    what = required_text(item, "item", 100)
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or not 0 < amount_fen <= MAX_FEE_FEN:
        raise InvalidInput(field="amountFen")
    if not await Organisation.exists(id=org_id):
        raise NotFound()
    return await ServiceFee.create(
        organisation_id=org_id,
        lot_id=lot_id,
        item=what,
        amount_fen=amount_fen,
        created_by=actor.user_id or 0,
        created_at=clock.now(),
    )


def blue_prefix(fee_id: int) -> str:
    """The stem of a fee's blue order numbers at the provider, our serials: PTF<fee>B00, B01, ... one per attempt
    after failed ones (adapters.issue_blue)."""
    return f"PTF{fee_id:010d}B"


def red_serial(fee_id: int) -> str:
    """The order number (and serial) of the red invoice reversing a fee's blue one: one only."""
    return f"PTF{fee_id:010d}R00"


async def _keep_pdf(pdf: bytes, invoice: Invoice) -> int:
    made = Made(
        name=f"发票-{invoice.invoice_no}.pdf",
        purpose=PURPOSE,
        owner_type="Invoice",
        owner_id=invoice.id,
        lot_id=None,
        organisation_id=invoice.buyer_org_id,
    )
    doc = await keep_file(io.BytesIO(pdf), made)
    return int(doc.id)


async def _event(actor: Actor, invoice: Invoice, step: str) -> None:
    await events.record(
        InvoiceEvent(
            object_id=str(invoice.id),
            step=step,
            invoice_no=invoice.invoice_no,
            fee_id=invoice.fee_id,
            amount_fen=invoice.amount_fen,
            tax_fen=invoice.tax_fen,
            audience=Audience(orgs=(invoice.buyer_org_id,), roles=(Role.OPERATOR.value,)),
        ),
        actor,
    )


@raises(InvoiceAlreadyIssued, BuyerTaxIdInvalid, InvoiceSerialDuplicate, InvoiceProviderDown, InvalidCreditCode)
@use_case("invoice.issue", "ServiceFee", lambda actor, fee_id, *a, **k: str(fee_id))
async def issue_invoice(actor: Actor, fee_id: int, idempotency_key: str | None = None) -> Invoice:
    """Issues the blue invoice of a fee once, to the organisation charged (its unified social credit code as the
    buyer's taxpayer id); a provider error changes nothing."""
    _operator(actor)
    fee = await ServiceFee.get_or_none(id=fee_id)
    if fee is None:
        raise NotFound()
    buyer = await Organisation.get(id=fee.organisation_id)
    if not is_valid_uscc(buyer.credit_code):
        raise InvalidCreditCode(buyer.credit_code)
    rate = adapters.deps.tax_rate_bp
    tax = tax_of(fee.amount_fen, rate)
    # the provider first, outside the transaction (its result is polled): a retry resumes the same order
    issued: IssuedInvoice | None = None
    if not await Invoice.exists(fee_id=fee.id, colour="blue"):
        prefix = blue_prefix(fee.id)
        issued = await adapters.issue_blue(prefix, buyer.name, buyer.credit_code, fee.item, fee.amount_fen, tax, rate)

    async def change() -> dict[str, Any]:
        if issued is None or await Invoice.exists(fee_id=fee.id, colour="blue"):
            raise InvoiceAlreadyIssued()
        invoice = await Invoice.create(
            serial=issued.order_no,
            invoice_no=issued.invoice_no[:32],
            colour="blue",
            fee_id=fee.id,
            buyer_org_id=buyer.id,
            buyer_name=buyer.name,
            buyer_tax_id=buyer.credit_code,
            item=fee.item,
            amount_fen=fee.amount_fen,
            tax_rate_bp=rate,
            tax_fen=tax,
            status=INVOICE.fire(None, "issue", by=actor).value,
            issued_by=actor.user_id or 0,
            issued_at=issued.issued_at,
        )
        invoice.document_id = await _keep_pdf(issued.pdf, invoice)
        await invoice.save(update_fields=["document_id"])
        await _event(actor, invoice, "issued")
        return {"id": invoice.id}

    result, _ = await run_once(actor, idempotency_key, "invoice.issue", {"fee": fee_id}, change)
    return await Invoice.get(id=result["id"])


@raises(BuyerTaxIdInvalid, InvoiceSerialDuplicate, InvoiceProviderDown)
@use_case("invoice.reverse", "Invoice", lambda actor, invoice_id, *a, **k: str(invoice_id))
async def reverse_invoice(actor: Actor, invoice_id: int, reason: str, idempotency_key: str | None = None) -> Invoice:
    """Reverses an issued blue invoice by a red one (红字发票) for its full amount, with a reason and its own number;
    the original is marked reversed. The red invoice."""
    _operator(actor)
    why = required_text(reason, "reason", 200)
    original = await Invoice.get_or_none(id=invoice_id, colour="blue")
    if original is None:
        raise NotFound()

    serial = red_serial(original.fee_id)
    # the provider first, outside the transaction, only for an invoice that may be reversed (a replay or a refusal
    # is answered by change() alone)
    issued: IssuedInvoice | None = None
    if INVOICE.allows(original.status, "reverse", by=actor) and not await Invoice.exists(original_id=original.id):
        issued = await adapters.issue_red(serial, original.invoice_no, original.buyer_name, original.buyer_tax_id)

    async def change() -> dict[str, Any]:
        row = await Invoice.get(id=original.id)
        new_status = INVOICE.fire(row.status, "reverse", by=actor).value
        if issued is None:
            raise InvoiceProviderDown()
        now = clock.now()
        red = await Invoice.create(
            serial=serial,
            invoice_no=issued.invoice_no[:32],
            colour="red",
            fee_id=row.fee_id,
            original_id=row.id,
            buyer_org_id=row.buyer_org_id,
            buyer_name=row.buyer_name,
            buyer_tax_id=row.buyer_tax_id,
            item=row.item,
            amount_fen=-row.amount_fen,
            tax_rate_bp=row.tax_rate_bp,
            tax_fen=-row.tax_fen,
            status=InvoiceStatus.ISSUED.value,
            reason=why,
            issued_by=actor.user_id or 0,
            issued_at=issued.issued_at,
        )
        red.document_id = await _keep_pdf(issued.pdf, red)
        await red.save(update_fields=["document_id"])
        row.status, row.reversed_at = new_status, now
        await row.save(update_fields=["status", "reversed_at"])
        await _event(actor, row, "reversed")
        await _event(actor, red, "issued")
        return {"id": red.id}

    result, _ = await run_once(
        actor, idempotency_key, "invoice.reverse", {"invoice": invoice_id, "reason": why}, change
    )
    return await Invoice.get(id=result["id"])


async def invoices_of(actor: Actor, org_id: int) -> list[Invoice]:
    """An organisation's invoices, for itself and operators only."""
    if actor.org_id != org_id and not actor.has(Role.OPERATOR):
        raise NotFound()
    return list(await Invoice.filter(buyer_org_id=org_id).order_by("id"))
