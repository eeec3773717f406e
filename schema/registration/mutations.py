"""Registering for a lot and withdrawing: decode, call one service, map the outcome."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.publication.models import Lot as LotModel
from domain.registration import services as registration
from schema.errors import mutation, result_union
from schema.permissions import IsUser
from schema.registration.types import Registration
from schema.relay import int_id


@strawberry.input(description="Register the caller's organisation for a lot.")
class LotRegisterInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of an open lot.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Registered; approval is automatic.")
class LotRegistered:
    registration: Registration = strawberry.field(
        description="The registration, with its deposit account when the lot asks for security."
    )


LotRegisterResult = result_union("LotRegisterResult", LotRegistered, [registration.register])


@strawberry.input(description="Withdraw the caller's registration before the bid deadline.")
class LotWithdrawInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="Withdrawn.")
class LotWithdrawn:
    registration: Registration = strawberry.field(description="The registration as withdrawn.")


LotWithdrawResult = result_union("LotWithdrawResult", LotWithdrawn, [registration.withdraw])


@strawberry.type
class RegistrationMutations:
    @mutation(LotRegisterResult, description="Register for a lot (报名).", permission_classes=[IsUser])
    async def lot_register(
        self,
        info: Info,
        input: Annotated[LotRegisterInput, strawberry.argument(description="The lot to register for.")],
    ) -> LotRegistered:
        reg = await registration.register(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.idempotency_key
        )
        lot = reg.lot  # register() gives the registration its lot, fetched: securityInPlace reads it no more
        return LotRegistered(registration=Registration.from_model(reg, lot if isinstance(lot, LotModel) else None))

    @mutation(
        LotWithdrawResult, description="Withdraw a registration before the bid deadline.", permission_classes=[IsUser]
    )
    async def lot_withdraw(
        self,
        info: Info,
        input: Annotated[LotWithdrawInput, strawberry.argument(description="The lot whose registration to withdraw.")],
    ) -> LotWithdrawn:
        reg = await registration.withdraw(
            info.context.actor, int_id(input.lot_id, "Lot", "lotId"), input.idempotency_key
        )
        return LotWithdrawn(registration=Registration.from_model(reg))
