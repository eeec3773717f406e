"""Rooms and bookings as each may see them; the halls' schedule of the day for kiosks and anyone."""

from datetime import date
from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.common import clock
from domain.common.errors import NotFound
from domain.venues import services
from domain.venues.states import RoomKind
from schema import fields
from schema.permissions import IsAuthenticated
from schema.relay import int_id, to_global_id
from schema.venues.types import Booking, HallSlot, Room


@strawberry.type
class VenueQueries:
    @fields.field(
        description="The trading centre's rooms: all of them for operators and supervisors; for anyone else the "
        "opening halls in use only (evaluation rooms are never shown to bidders).",
        permission_classes=[IsAuthenticated],
    )
    async def rooms(
        self,
        info: Info,
        kind: Annotated[RoomKind | None, strawberry.argument(description="Only rooms of this kind; null: all.")] = None,
    ) -> list[Room]:
        return [Room.from_model(r) for r in await services.rooms(info.context.actor, kind)]

    @fields.field(
        description="A lot's room bookings: the opening's for any signed-in caller, the evaluation's (and cancelled "
        "ones) only for operators and supervisors.",
        permission_classes=[IsAuthenticated],
    )
    async def lot_bookings(
        self, info: Info, lot_id: Annotated[strawberry.ID, strawberry.argument(description="Global id of the lot.")]
    ) -> list[Booking]:
        try:
            found = await services.lot_bookings(info.context.actor, int_id(lot_id, "Lot", "lotId"))
        except NotFound:
            return []
        return [Booking.from_model(b) for b in found]

    @fields.field(
        description="The opening halls' schedule of one day (Asia/Shanghai), for the hall's kiosks: public, as "
        "openings are; evaluation rooms never appear."
    )
    async def hall_schedule(
        self,
        day: Annotated[
            date | None, strawberry.argument(description="The day in Asia/Shanghai, years 2000 to 2199; null: today.")
        ] = None,
    ) -> list[HallSlot]:
        return [
            HallSlot(
                hall=s.room.name,
                location=s.room.location,
                lot_id=strawberry.ID(to_global_id("Lot", s.lot.id)),
                lot_name=s.lot.name,
                trade_code=s.lot.trade_code,
                starts_at=s.booking.starts_at,
                ends_at=s.booking.ends_at,
                time_text=f"{clock.shanghai_text(s.booking.starts_at)} - {clock.shanghai_text(s.booking.ends_at)}",
            )
            for s in await services.hall_schedule(day)
        ]
