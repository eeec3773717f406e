"""Terminals as operators see them."""

import strawberry
from strawberry.types import Info

from domain.terminals import services
from schema.permissions import IsOperator
from schema.relay import Connection, paginate
from schema.terminals.types import Terminal


@strawberry.type
class TerminalQueries:
    @strawberry.field(
        description="The registered terminals, newest first (operators).", permission_classes=[IsOperator]
    )
    async def terminals(self, info: Info, first: int | None = None, after: str | None = None) -> Connection[Terminal]:
        return await paginate(info, services.terminals(info.context.actor), first, after, Terminal.from_model)
