"""Deposits of a lot, and refunds overdue: who paid, who is owed, who is late."""

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.access import scope
from domain.accounts.models import Organisation as OrganisationModel
from domain.common.errors import DomainError
from domain.deposits import services as deposits
from domain.deposits.models import DepositAccount as DepositAccountModel
from domain.publication.models import Lot as LotModel
from schema import fields
from schema.accounts.types import Organisation
from schema.permissions import IsSupervisorOrOperator, IsUser
from schema.publication.types import Lot
from schema.registration.types import DepositAccount
from schema.relay import Before, Connection, Last, int_id, paginate


@strawberry.type(description="One bidder's deposit for a lot, with whom it belongs to.")
class LotDeposit:
    _model: strawberry.Private[DepositAccountModel]
    deposit: DepositAccount = strawberry.field(description="The deposit account.")
    overdue_flagged_at: datetime | None = strawberry.field(
        description="When the refund was flagged as overdue (not refunded by its due date)."
    )

    @fields.field(description="The bidder that owes or paid the deposit.")
    async def organisation(self) -> Organisation:
        return Organisation.from_model(await OrganisationModel.get(id=self._model.organisation_id))

    @fields.field(description="The lot.")
    async def lot(self) -> Lot:
        return Lot.from_model(await LotModel.get(id=self._model.lot_id))

    @fields.field(
        description="Who paid, from which account: refunds go back there. Operators and the supervisors of the "
        "lot's category."
    )
    async def payer_name(self, info: Info) -> str | None:
        return self._model.payer_name if await scope.keeps_lot(info.context.actor, self._model.lot_id) else None

    @fields.field(description="The account the deposit came from. Operators and the supervisors of the lot's category.")
    async def payer_account(self, info: Info) -> str | None:
        return self._model.payer_account if await scope.keeps_lot(info.context.actor, self._model.lot_id) else None

    @classmethod
    def from_model(cls, m: DepositAccountModel) -> "LotDeposit":
        return cls(_model=m, deposit=DepositAccount.from_model(m), overdue_flagged_at=m.overdue_flagged_at)


@strawberry.type
class DepositQueries:
    @fields.field(
        description="The deposits of a lot, newest first: operators and the supervisors of its category; the "
        "tenderer or its agency once the opening has begun. Null for anyone else.",
        permission_classes=[IsUser],
    )
    async def lot_deposits(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        first: Annotated[
            int | None, strawberry.argument(description="How many deposit accounts to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last deposit account already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[LotDeposit] | None:
        try:
            query = await deposits.lot_deposits(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await paginate(info, query, first, after, LotDeposit.from_model, last, before)

    @fields.field(
        description="Deposits not refunded by their due date (5 days after the contract), newest first.",
        permission_classes=[IsSupervisorOrOperator],
    )
    async def overdue_refunds(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many deposit accounts to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last deposit account already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[LotDeposit]:
        return await paginate(
            info, deposits.overdue_refunds(info.context.actor), first, after, LotDeposit.from_model, last, before
        )
