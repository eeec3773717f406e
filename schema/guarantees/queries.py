"""Guarantees as each party sees them, and the letter check anyone may make without signing in."""

from typing import Annotated

import strawberry
from graphql import GraphQLError
from strawberry.types import Info

from domain.common.actors import Role
from domain.common.errors import DomainError
from domain.guarantees import issuance, reading
from schema import fields
from schema.accounts.types import Organisation
from schema.guarantees.types import Guarantee, GuaranteeCheck, GuaranteeState
from schema.permissions import IsUser, has_role
from schema.relay import Before, Connection, Last, int_id, paginate

VERIFY_PER_MINUTE = 30

IsGuarantor = has_role(Role.GUARANTOR)


@strawberry.type
class GuaranteeQueries:
    @fields.field(
        description="The caller organisation's guarantee applications and guarantees as bidder, newest first.",
        permission_classes=[IsUser],
    )
    async def my_guarantees(
        self,
        info: Info,
        status: Annotated[
            GuaranteeState | None, strawberry.argument(description="Only guarantees in this status; null: all.")
        ] = None,
        lot_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="Only guarantees for this lot (global id); null: all lots."),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many guarantees to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last guarantee already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Guarantee]:
        lot = int_id(lot_id, "Lot", "lotId") if lot_id is not None else None
        query = reading.mine(info.context.actor, status.value if status else None, lot)
        return await paginate(info, query, first, after, Guarantee.from_model, last, before)

    @fields.field(
        description="What bidders asked of the caller's guarantor organisation (all states, or one), newest first.",
        permission_classes=[IsGuarantor],
    )
    async def guarantee_applications(
        self,
        info: Info,
        status: Annotated[
            GuaranteeState | None, strawberry.argument(description="Only applications in this status; null: all.")
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many applications to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last application already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Guarantee]:
        query = reading.applications(info.context.actor, status.value if status else None)
        return await paginate(info, query, first, after, Guarantee.from_model, last, before)

    @fields.field(
        description="The guarantees of a lot, newest first: operators and the supervisors of its category all; "
        "the tenderer (beneficiary) or its agency those issued, once it may know who bids (after the opening where "
        "registrants are secret). Null for anyone else and before that.",
        permission_classes=[IsUser],
    )
    async def lot_guarantees(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        first: Annotated[
            int | None, strawberry.argument(description="How many guarantees to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last guarantee already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Guarantee] | None:
        try:
            query = await reading.lot_guarantees(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await paginate(info, query, first, after, Guarantee.from_model, last, before)

    @fields.field(
        description="Check a guarantee letter by its number and verification code; no sign-in needed (kiosks). "
        "Null when either is wrong. Reveals only what the letter itself says and its status."
    )
    async def guarantee_verify(
        self,
        info: Info,
        letter_no: Annotated[
            str, strawberry.argument(description="The letter number (保函编号) printed on the letter.")
        ],
        verification_code: Annotated[
            str, strawberry.argument(description="The verification code printed on the letter.")
        ],
    ) -> GuaranteeCheck | None:
        services, request = info.context.services, info.context.request
        if services is not None and request is not None and request.client is not None:
            # 10 random characters are not guessable, but a public endpoint still gets a budget per address
            allowed, _ = await services.limiter.hit(f"guarantee-verify:{request.client.host}", VERIFY_PER_MINUTE)
            if not allowed:
                raise GraphQLError(
                    "RATE_LIMITED: too many checks, try again in a minute / 查询过于频繁",
                    extensions={"code": "RATE_LIMITED"},
                )
        found = await reading.check_authenticity(letter_no, verification_code)
        return GuaranteeCheck.of(found) if found else None

    @fields.field(
        description="Approved guarantors that sign letters electronically: whom a bidder may apply to.",
        permission_classes=[IsUser],
    )
    async def guarantors(self) -> list[Organisation]:
        return [Organisation.from_model(o) for o in await issuance.guarantors()]
