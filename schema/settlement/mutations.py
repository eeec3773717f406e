"""Treasury payment requests and reconciliation, service fees and invoices. Decode, call one service, map."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.settlement import invoices, treasury
from schema.errors import mutation, result_union
from schema.permissions import IsOperator, IsUser
from schema.relay import int_id
from schema.scalars import Fen
from schema.settlement.types import Invoice, ServiceFee, TreasuryMismatch, TreasuryPayment, TreasuryPaymentKind

_KEY = "Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars)."


@strawberry.input(description="Ask the treasury to pay: a contract instalment or a service fee.")
class TreasuryPaymentRequestInput:
    kind: TreasuryPaymentKind = strawberry.field(description="What it pays.")
    amount_fen: Fen = strawberry.field(
        description="The amount in fen: a contract instalment at most the contract amount less what was requested; "
        "a fee its whole amount."
    )
    payee_account: str = strawberry.field(description="The payee's bank account number (digits).")
    purpose: str = strawberry.field(description="What it pays for (e.g. 第一期进度款), at most 200 characters.")
    lot_id: strawberry.ID | None = strawberry.field(default=None, description="The lot of a contract payment.")
    fee_id: strawberry.ID | None = strawberry.field(default=None, description="The ServiceFee of a fee payment.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The request is stored and, if the treasury could be reached, sent.")
class TreasuryPaymentRequested:
    payment: TreasuryPayment = strawberry.field(description="The request as it stands.")


@strawberry.input(description="Compare the treasury's statement of one day with the platform's requests.")
class TreasuryReconcileInput:
    day: date = strawberry.field(description="The statement's day (Beijing).")


@strawberry.type(description="The day was reconciled.")
class TreasuryReconciled:
    mismatches: list[TreasuryMismatch] = strawberry.field(description="Every difference recorded for the day.")


@strawberry.input(description="Charge an organisation a platform service fee, price including tax.")
class ServiceFeeCreateInput:
    organisation_id: strawberry.ID = strawberry.field(description="The Organisation charged (the invoice's buyer).")
    item: str = strawberry.field(description="What the fee is for (e.g. 交易服务费), at most 100 characters.")
    amount_fen: Fen = strawberry.field(description="The price including tax, in fen.")
    lot_id: strawberry.ID | None = strawberry.field(default=None, description="The lot it concerns, if any.")


@strawberry.type(description="The fee is recorded.")
class ServiceFeeCreated:
    fee: ServiceFee = strawberry.field(description="The fee.")


@strawberry.input(description="Issue the electronic invoice of a service fee.")
class InvoiceIssueInput:
    fee_id: strawberry.ID = strawberry.field(description="The ServiceFee's global id.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The provider issued the invoice; its file is kept.")
class InvoiceIssued:
    invoice: Invoice = strawberry.field(description="The invoice.")


@strawberry.input(description="Reverse an issued invoice by a red-letter invoice (红字发票).")
class InvoiceReverseInput:
    invoice_id: strawberry.ID = strawberry.field(description="The blue Invoice's global id.")
    reason: str = strawberry.field(description="Why (e.g. 开票有误、服务中止), at most 200 characters.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The red invoice is issued and the original marked reversed.")
class InvoiceReversed:
    invoice: Invoice = strawberry.field(description="The red invoice, with its own number.")


TreasuryPaymentRequestResult = result_union(
    "TreasuryPaymentRequestResult", TreasuryPaymentRequested, [treasury.request_payment]
)
TreasuryReconcileResult = result_union("TreasuryReconcileResult", TreasuryReconciled, [treasury.reconcile])
ServiceFeeCreateResult = result_union("ServiceFeeCreateResult", ServiceFeeCreated, [invoices.create_fee])
InvoiceIssueResult = result_union("InvoiceIssueResult", InvoiceIssued, [invoices.issue_invoice])
InvoiceReverseResult = result_union("InvoiceReverseResult", InvoiceReversed, [invoices.reverse_invoice])


@strawberry.type
class SettlementMutations:
    @mutation(
        TreasuryPaymentRequestResult,
        description="Ask the treasury's centralised payment system (国库集中支付) to pay a contract instalment "
        "(the lot's tenderer or agency, under a signed contract) or a service fee (the organisation charged).",
        permission_classes=[IsUser],
    )
    async def treasury_payment_request(
        self,
        info: Info,
        input: Annotated[TreasuryPaymentRequestInput, strawberry.argument(description="What to pay, to whom.")],
    ) -> TreasuryPaymentRequested:
        payment = await treasury.request_payment(
            info.context.actor,
            int_id(input.lot_id, "Lot", "lotId") if input.lot_id else None,
            input.kind.value,
            int(input.amount_fen),
            input.payee_account,
            input.purpose,
            int_id(input.fee_id, "ServiceFee", "feeId") if input.fee_id else None,
            input.idempotency_key,
        )
        return TreasuryPaymentRequested(payment=TreasuryPayment.from_model(payment))

    @mutation(
        TreasuryReconcileResult,
        description="Reconcile one day's treasury statement now (operators); the worker does yesterday's daily.",
        permission_classes=[IsOperator],
    )
    async def treasury_reconcile(
        self, info: Info, input: Annotated[TreasuryReconcileInput, strawberry.argument(description="The day.")]
    ) -> TreasuryReconciled:
        found = await treasury.reconcile(input.day)
        return TreasuryReconciled(mismatches=[TreasuryMismatch.from_model(m) for m in found])

    @mutation(
        ServiceFeeCreateResult,
        description="Charge an organisation a platform service fee (operators).",
        permission_classes=[IsOperator],
    )
    async def service_fee_create(
        self, info: Info, input: Annotated[ServiceFeeCreateInput, strawberry.argument(description="The fee.")]
    ) -> ServiceFeeCreated:
        fee = await invoices.create_fee(
            info.context.actor,
            int_id(input.organisation_id, "Organisation", "organisationId"),
            int_id(input.lot_id, "Lot", "lotId") if input.lot_id else None,
            input.item,
            int(input.amount_fen),
        )
        return ServiceFeeCreated(fee=ServiceFee.from_model(fee))

    @mutation(
        InvoiceIssueResult,
        description="Issue the electronic invoice (数电发票) of a service fee through the tax-invoice provider "
        "(operators); a provider error changes nothing.",
        permission_classes=[IsOperator],
    )
    async def invoice_issue(
        self, info: Info, input: Annotated[InvoiceIssueInput, strawberry.argument(description="The fee.")]
    ) -> InvoiceIssued:
        made = await invoices.issue_invoice(
            info.context.actor, int_id(input.fee_id, "ServiceFee", "feeId"), input.idempotency_key
        )
        return InvoiceIssued(invoice=Invoice.from_model(made))

    @mutation(
        InvoiceReverseResult,
        description="Reverse an issued invoice by a red-letter invoice with a reason (红冲, operators).",
        permission_classes=[IsOperator],
    )
    async def invoice_reverse(
        self, info: Info, input: Annotated[InvoiceReverseInput, strawberry.argument(description="The invoice.")]
    ) -> InvoiceReversed:
        red = await invoices.reverse_invoice(
            info.context.actor, int_id(input.invoice_id, "Invoice", "invoiceId"), input.reason, input.idempotency_key
        )
        return InvoiceReversed(invoice=Invoice.from_model(red))
