"""Reading treasury payment requests, reconciliation mismatches and invoices."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import NotFound
from domain.settlement import invoices, treasury
from domain.settlement.models import TreasuryMismatch as MismatchModel
from schema import fields
from schema.permissions import IsSupervisorOrOperator, IsUser
from schema.relay import int_id
from schema.settlement.types import Invoice, TreasuryMismatch, TreasuryPayment


@strawberry.type
class SettlementQueries:
    @fields.field(
        description="A lot's treasury payment requests, oldest first: for the contract's parties (tenderer, agency, "
        "supplier), operators and the supervisors of the lot's category; empty for anyone else.",
        permission_classes=[IsUser],
    )
    async def treasury_payments(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="The lot's global id.")]
    ) -> list[TreasuryPayment]:
        rows = await treasury.payments_of_lot(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        return [TreasuryPayment.from_model(p) for p in rows]

    @fields.field(
        description="The differences the reconciliation found for a day (operators and supervisors).",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def treasury_mismatches(
        self, info: Info, day: Annotated[date, strawberry.argument(description="The statement's day (Beijing).")]
    ) -> list[TreasuryMismatch]:
        return [TreasuryMismatch.from_model(m) for m in await MismatchModel.filter(statement_day=day).order_by("id")]

    @fields.field(
        description="An organisation's invoices, oldest first: for itself and operators; empty for anyone else.",
        permission_classes=[IsUser],
    )
    async def invoices(
        self,
        info: Info,
        organisation_id: Annotated[strawberry.ID, strawberry.argument(description="The buyer organisation.")],
    ) -> list[Invoice]:
        try:
            rows = await invoices.invoices_of(info.context.actor, int_id(organisation_id, "Organisation", "id"))
        except NotFound:
            return []
        return [Invoice.from_model(i) for i in rows]
