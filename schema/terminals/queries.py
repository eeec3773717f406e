"""Terminals as operators see them."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.terminals import services
from schema import fields
from schema.permissions import IsOperator
from schema.relay import Before, Connection, Last, paginate
from schema.terminals.types import Terminal


@strawberry.type
class TerminalQueries:
    @fields.field(description="The registered terminals, newest first (operators).", permission_classes=[IsOperator])
    async def terminals(
        self,
        info: Info,
        first: Annotated[
            int | None, strawberry.argument(description="How many terminals to return (capped by the server).")
        ] = None,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The cursor of the last terminal already read: the page continues after it."
            ),
        ] = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[Terminal]:
        return await paginate(
            info, services.terminals(info.context.actor), first, after, Terminal.from_model, last, before
        )
