"""The change feed for integrators: every public change in commit order, resumable from a cursor."""

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.permission import BasePermission
from strawberry.scalars import JSON
from strawberry.types import Info

from domain.common.actors import Role
from domain.common.errors import InvalidInput
from domain.publication import feed
from domain.publication.models import FeedEntry
from schema import fields
from schema.permissions import IsAuthenticated
from schema.relay import to_global_id

FEED_SCOPE = "feed:read"
DEFAULT_FIRST = 100
MAX_FIRST = 1000


class CanReadFeed(BasePermission):
    """Integrator clients granted `feed:read`, and operators."""

    message = "FORBIDDEN: only integrators with feed:read and operators may read the change feed / 无权读取变更流"
    error_extensions = {"code": "FORBIDDEN"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        actor = info.context.actor
        return actor.has(Role.OPERATOR) or (actor.has(Role.INTEGRATOR) and FEED_SCOPE in actor.scopes)


@strawberry.type(description="One public change: an announcement published, or a lot's status moved.")
class Change:
    seq: int = strawberry.field(description="Position in the feed: consecutive from 1, in commit order.")
    kind: str = strawberry.field(description="What happened: announcement.published or lot.status_changed.")
    object_type: str = strawberry.field(description="The changed object's type: Announcement or Lot.")
    object_id: strawberry.ID = strawberry.field(description="The changed object's global id (readable with node).")
    trade_code: str | None = strawberry.field(description="The trade identifier of the project or lot.")
    committed_at: datetime = strawberry.field(
        description="When the change entered the feed (UTC), in the transaction that gave it its seq: never earlier "
        "than the entry before it, so it grows with seq (not the time the change happened inside its own "
        "transaction, which a later entry can hold earlier). Resume with the cursor; resuming by time, keep the "
        "entries at or after the last time seen."
    )
    payload: JSON = strawberry.field(description="The change as recorded, e.g. title, category and regionCode.")

    @classmethod
    def from_model(cls, m: FeedEntry) -> "Change":
        return cls(
            seq=m.seq,
            kind=m.kind,
            object_type=m.object_type,
            object_id=strawberry.ID(to_global_id(m.object_type, m.object_id)),
            trade_code=m.trade_code,
            committed_at=m.committed_at,
            payload=JSON(m.payload),
        )


@strawberry.type(description="A page of the change feed.")
class ChangePage:
    entries: list[Change] = strawberry.field(description="Changes after the cursor, oldest first.")
    end_cursor: str = strawberry.field(
        description="Pass as `after` to continue; when the page is empty it is the cursor given, so polling resumes."
    )
    has_more: bool = strawberry.field(description="Whether further changes were already committed after this page.")


@strawberry.type
class FeedQueries:
    @fields.field(
        description="Every public change in commit order, for integrators with feed:read and operators. "
        "A reader that resumes from `endCursor` never misses a change and never sees one twice. "
        "`first` is capped at 1000.",
        permission_classes=[IsAuthenticated, CanReadFeed],
    )
    async def changes(
        self,
        info: Info,
        after: Annotated[
            str | None,
            strawberry.argument(
                description="The `endCursor` of the last page read; null starts from the first change."
            ),
        ] = None,
        first: Annotated[
            int | None, strawberry.argument(description="How many changes to return, at most 1000.")
        ] = DEFAULT_FIRST,
    ) -> ChangePage:
        wanted = DEFAULT_FIRST if first is None else first
        if wanted < 1:
            raise InvalidInput(field="first")
        size = min(wanted, MAX_FIRST)
        rows, _ = await feed.read(after, size + 1, cap=size + 1)
        page = rows[:size]
        end = feed.cursor_of(page[-1].seq if page else feed.seq_of(after))
        return ChangePage(entries=[Change.from_model(r) for r in page], end_cursor=end, has_more=len(rows) > size)
