"""Deposits: operators keep (forfeit) a deposit where the rules say so. Decode, call one service, map."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.deposits import services as deposits
from schema.errors import mutation, result_union
from schema.permissions import IsOperator
from schema.registration.types import DepositAccount
from schema.relay import int_id


@strawberry.input(description="Keep a paid deposit instead of refunding it, with the rule that says so.")
class DepositKeepInput:
    deposit_id: strawberry.ID = strawberry.field(description="The DepositAccount's global id.")
    reason: str = strawberry.field(
        description="Why, citing the rule (e.g. 中标人无正当理由不与招标人订立合同, 实施条例第七十四条); "
        "at most 500 characters."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars).",
    )


@strawberry.type(description="The deposit is kept; it will not be refunded.")
class DepositKept:
    deposit: DepositAccount = strawberry.field(description="The deposit account, now kept.")


DepositKeepResult = result_union("DepositKeepResult", DepositKept, [deposits.keep_deposit])


@strawberry.type
class DepositMutations:
    @mutation(
        DepositKeepResult,
        description="Keep (forfeit) a paid deposit where the rules say so (operators).",
        permission_classes=[IsOperator],
    )
    async def deposit_keep(
        self,
        info: Info,
        input: Annotated[
            DepositKeepInput, strawberry.argument(description="The deposit to keep and the rule that allows it.")
        ],
    ) -> DepositKept:
        account = await deposits.keep_deposit(
            info.context.actor,
            int_id(input.deposit_id, "DepositAccount", "depositId"),
            input.reason,
            input.idempotency_key,
        )
        return DepositKept(deposit=DepositAccount.from_model(account))
