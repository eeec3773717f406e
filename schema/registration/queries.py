"""The caller's registrations, and who registered for a lot where that may be seen."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common.errors import DomainError
from domain.registration import services as registration
from schema import fields
from schema.permissions import IsUser
from schema.registration.types import Registration
from schema.relay import Before, Connection, Last, int_id, paginate


@strawberry.type
class RegistrationQueries:
    @fields.field(description="The caller organisation's registrations, newest first.", permission_classes=[IsUser])
    async def my_registrations(
        self,
        info: Info,
        first: Annotated[
            int | None,
            strawberry.argument(description="How many registrations to return, newest first (capped by the server)."),
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last registration already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Registration]:
        return await paginate(
            info, registration.mine(info.context.actor), first, after, Registration.from_model, last, before
        )

    @fields.field(
        description="Who registered for a lot: the tenderer once the list is not secret; operators and the "
        "supervisors of its category.",
        permission_classes=[IsUser],
    )
    async def lot_registrations(
        self,
        info: Info,
        lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")],
        first: Annotated[
            int | None, strawberry.argument(description="How many registrations to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last registration already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Registration] | None:
        try:
            query = await registration.registrants(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except DomainError:
            return None
        return await paginate(info, query, first, after, Registration.from_model, last, before)
