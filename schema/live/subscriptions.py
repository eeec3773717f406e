"""Live events over graphql-transport-ws: what the caller may see, each event once."""

from collections import OrderedDict
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.common.events import can_see
from domain.common.topics import ANY
from schema import fields
from schema.permissions import IsAuthenticated


@strawberry.type(description="A committed domain event.")
class LiveEvent:
    event_id: str = strawberry.field(description="Unique; a repeat is never delivered twice.")
    type: str = strawberry.field(description="e.g. organisation.registered")
    object_type: str = strawberry.field(description="The type of object the event is about, e.g. Lot.")
    object_id: str = strawberry.field(description="The database id of that object.")
    occurred_at: datetime = strawberry.field(description="When the event happened.")
    payload: JSON = strawberry.field(description="The event's public fields, as JSON.")


@strawberry.type
class LiveSubscriptions:
    @fields.subscription(
        description="Events visible to the caller, as they are committed.", permission_classes=[IsAuthenticated]
    )
    async def events(
        self,
        info: Info,
        types: Annotated[
            list[str] | None,
            strawberry.argument(
                description="Only events of these types, e.g. organisation.registered; null: every type."
            ),
        ] = None,
    ) -> AsyncGenerator[LiveEvent, None]:
        actor = info.context.actor
        wanted = set(types or ())
        seen: OrderedDict[str, None] = OrderedDict()
        # every topic: the caller may see events of any lot (a process with such a subscriber reads them all)
        async for message in info.context.bus.subscribe(topics=(ANY,)):
            if wanted and message["type"] not in wanted:
                continue
            if not can_see(message.get("audience", {}), actor):
                continue
            event_id = message["eventId"]
            if event_id in seen:
                continue
            seen[event_id] = None
            if len(seen) > 10_000:
                seen.popitem(last=False)
            yield LiveEvent(
                event_id=event_id,
                type=message["type"],
                object_type=message["objectType"],
                object_id=message["objectId"],
                occurred_at=datetime.fromisoformat(message["occurredAt"]),
                payload=message["payload"],
            )
