"""Treasury payment requests, statement mismatches, service fees and invoices as GraphQL types."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from domain.settlement import models
from schema.describe import describe_values
from schema.relay import to_global_id
from schema.scalars import Fen


@strawberry.enum(description="What a treasury payment request pays.")
class TreasuryPaymentKind(StrEnum):
    CONTRACT = "contract"
    SERVICE_FEE = "service_fee"


@strawberry.enum(description="Where a treasury payment request stands.")
class TreasuryPaymentStatus(StrEnum):
    REQUESTED = "requested"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    PAID = "paid"
    REJECTED = "rejected"
    RETURNED = "returned"


describe_values(
    TreasuryPaymentKind,
    {"CONTRACT": "An instalment of a signed contract's price.", "SERVICE_FEE": "A platform service fee."},
)
describe_values(
    TreasuryPaymentStatus,
    {
        "REQUESTED": "Stored; queued until the treasury acknowledges it.",
        "SUBMITTED": "The treasury acknowledged the signed request.",
        "ACCEPTED": "The treasury accepted it for payment.",
        "PAID": "The treasury paid the payee.",
        "REJECTED": "The treasury refused it; see reason.",
        "RETURNED": "Paid, then returned by the payee's bank (退汇); see reason.",
    },
)


@strawberry.type(
    description="A payment the tenderer asked the treasury's centralised payment system (国库集中支付) "
    "to make: seen by the contract's parties, operators and the supervisors of the lot's category."
)
class TreasuryPayment:
    id: strawberry.ID = strawberry.field(description="Global id.")
    request_no: str = strawberry.field(description="The request number, the treasury's idempotency key too.")
    kind: TreasuryPaymentKind = strawberry.field(description="What it pays.")
    lot_id: strawberry.ID | None = strawberry.field(description="The lot's global id, if any.")
    amount_fen: Fen = strawberry.field(description="The amount, in fen.")
    purpose: str = strawberry.field(description="What the payment is for, as the tenderer wrote it.")
    status: TreasuryPaymentStatus = strawberry.field(description="Where it stands.")
    reason: str | None = strawberry.field(description="The treasury's reason for a rejection or a return.")
    treasury_ref: str | None = strawberry.field(description="The treasury's own reference, once it has one.")
    requested_at: datetime = strawberry.field(description="When it was requested.")
    paid_at: datetime | None = strawberry.field(description="When the treasury reported it paid.")

    @classmethod
    def from_model(cls, m: models.TreasuryPayment) -> TreasuryPayment:
        return cls(
            id=strawberry.ID(to_global_id("TreasuryPayment", m.id)),
            request_no=m.request_no,
            kind=TreasuryPaymentKind(m.kind),
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)) if m.lot_id is not None else None,
            amount_fen=Fen(m.amount_fen),
            purpose=m.purpose,
            status=TreasuryPaymentStatus(m.status),
            reason=m.reason,
            treasury_ref=m.treasury_ref,
            requested_at=m.requested_at,
            paid_at=m.paid_at,
        )


@strawberry.type(description="A difference between the treasury's daily statement and the platform's requests.")
class TreasuryMismatch:
    statement_day: date = strawberry.field(description="The statement's day (Beijing).")
    request_no: str = strawberry.field(description="The request number concerned.")
    kind: str = strawberry.field(description="missing, unknown, amount or status.")
    ours: JSON | None = strawberry.field(description="What the platform holds.")
    theirs: JSON | None = strawberry.field(description="What the treasury's statement says.")

    @classmethod
    def from_model(cls, m: models.TreasuryMismatch) -> TreasuryMismatch:
        ours: Any = m.ours
        theirs: Any = m.theirs
        return cls(statement_day=m.statement_day, request_no=m.request_no, kind=m.kind, ours=ours, theirs=theirs)


@strawberry.type(description="A platform service fee charged to an organisation, price including tax.")
class ServiceFee:
    id: strawberry.ID = strawberry.field(description="Global id.")
    item: str = strawberry.field(description="What the fee is for.")
    amount_fen: Fen = strawberry.field(description="The price including tax, in fen.")
    created_at: datetime = strawberry.field(description="When it was charged.")

    @classmethod
    def from_model(cls, m: models.ServiceFee) -> ServiceFee:
        return cls(
            id=strawberry.ID(to_global_id("ServiceFee", m.id)),
            item=m.item,
            amount_fen=Fen(m.amount_fen),
            created_at=m.created_at,
        )


@strawberry.type(description="An electronic invoice (数电发票): blue, or red (红字) reversing a blue one.")
class Invoice:
    id: strawberry.ID = strawberry.field(description="Global id.")
    invoice_no: str = strawberry.field(description="The invoice number the tax system gave.")
    colour: str = strawberry.field(description="blue, or red for a reversal (红字发票).")
    status: str = strawberry.field(description="issued, or reversed (a red invoice offsets it).")
    buyer_name: str = strawberry.field(description="The buyer organisation's name.")
    buyer_tax_id: str = strawberry.field(description="The buyer's taxpayer id (its unified social credit code).")
    item: str = strawberry.field(description="What was sold.")
    amount_fen: Fen = strawberry.field(description="Price including tax, in fen; negative on a red invoice.")
    tax_rate_bp: int = strawberry.field(description="The tax rate in basis points (600 is 6%).")
    tax_fen: Fen = strawberry.field(description="The tax in the price, rounded half up to the fen.")
    reason: str | None = strawberry.field(description="Why it was reversed (on the red invoice).")
    document_id: strawberry.ID | None = strawberry.field(
        description="The invoice file (PDF) as a document: the buyer organisation and operators may download it."
    )
    issued_at: datetime = strawberry.field(description="When it was issued.")
    reversed_at: datetime | None = strawberry.field(description="When it was reversed.")

    @classmethod
    def from_model(cls, m: models.Invoice) -> Invoice:
        return cls(
            id=strawberry.ID(to_global_id("Invoice", m.id)),
            invoice_no=m.invoice_no,
            colour=m.colour,
            status=m.status,
            buyer_name=m.buyer_name,
            buyer_tax_id=m.buyer_tax_id,
            item=m.item,
            amount_fen=Fen(m.amount_fen),
            tax_rate_bp=m.tax_rate_bp,
            tax_fen=Fen(m.tax_fen),
            reason=m.reason,
            document_id=strawberry.ID(to_global_id("Document", m.document_id)) if m.document_id else None,
            issued_at=m.issued_at,
            reversed_at=m.reversed_at,
        )
