"""Venue booking (operators): rooms kept, a lot's opening and evaluation booked, a booking cancelled."""

from typing import Annotated

import strawberry
from strawberry.types import Info

from domain.venues import services
from domain.venues.states import RoomKind
from schema.errors import mutation, result_union
from schema.permissions import IsOperator
from schema.relay import int_id
from schema.venues.types import Booking, Room

_KEY = "Retry safely: a repeat with the same key returns the first outcome (≤ 255 chars)."


@strawberry.input(description="A room of the trading centre, new or changed (its kind stays).")
class RoomSaveInput:
    room_id: strawberry.ID | None = strawberry.field(
        default=None, description="Global id of a room to change; null: new."
    )
    name: str = strawberry.field(description="Its name, unique, 1 to 100 characters.")
    kind: RoomKind = strawberry.field(description="Opening hall or isolated evaluation room.")
    seats: int = strawberry.field(description="How many it seats, 1 to 2000.")
    equipment: list[str] = strawberry.field(default_factory=list, description="At most 30 items of 1 to 60 characters.")
    location: str = strawberry.field(default="", description="Where it is, at most 200 characters.")
    active: bool = strawberry.field(default=True, description="Whether it may be booked.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The room as saved.")
class RoomSaved:
    room: Room = strawberry.field(description="The room.")


RoomSaveResult = result_union("RoomSaveResult", RoomSaved, [services.save_room])


@strawberry.input(description="Book a published lot's opening hall (at its bid deadline) and evaluation room (after).")
class VenueBookInput:
    lot_id: strawberry.ID = strawberry.field(description="Global id of an open lot with a bid deadline.")
    seats: int = strawberry.field(description="Seats the opening needs (and the evaluation, unless evaluationSeats).")
    evaluation_seats: int | None = strawberry.field(default=None, description="Seats the evaluation needs.")
    evaluation_hours: int = strawberry.field(default=8, description="How long the evaluation room is held, 1 to 72 h.")
    opening_room_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="A hall to use (VENUE_CONFLICT when it is taken); null: the smallest free fitting one.",
    )
    evaluation_room_id: strawberry.ID | None = strawberry.field(
        default=None, description="An evaluation room to use; null: the smallest free fitting one."
    )
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="Both rooms are held for the lot; they follow its deadline when it moves.")
class VenueBooked:
    bookings: list[Booking] = strawberry.field(description="The opening's and the evaluation's bookings.")


VenueBookResult = result_union("VenueBookResult", VenueBooked, [services.book])


@strawberry.input(description="Cancel a booking: the room is free again at once.")
class VenueCancelInput:
    booking_id: strawberry.ID = strawberry.field(description="Global id of a standing booking.")
    idempotency_key: str | None = strawberry.field(default=None, description=_KEY)


@strawberry.type(description="The booking is cancelled.")
class VenueCancelled:
    booking: Booking = strawberry.field(description="The booking, now cancelled.")


VenueCancelResult = result_union("VenueCancelResult", VenueCancelled, [services.cancel])


@strawberry.type
class VenueMutations:
    @mutation(
        RoomSaveResult,
        description="Create or change a room of the trading centre (operators).",
        permission_classes=[IsOperator],
    )
    async def room_save(
        self, info: Info, input: Annotated[RoomSaveInput, strawberry.argument(description="The room.")]
    ) -> RoomSaved:
        form = services.RoomForm(input.name, input.kind, input.seats, input.equipment, input.location, input.active)
        room_id = int_id(input.room_id, "Room", "roomId") if input.room_id is not None else None
        return RoomSaved(
            room=Room.from_model(await services.save_room(info.context.actor, form, room_id, input.idempotency_key))
        )

    @mutation(
        VenueBookResult,
        description="Book a lot's opening hall and evaluation room (operators).",
        permission_classes=[IsOperator],
    )
    async def venue_book(
        self, info: Info, input: Annotated[VenueBookInput, strawberry.argument(description="The lot and seats.")]
    ) -> VenueBooked:
        form = services.BookingForm(
            lot_id=int_id(input.lot_id, "Lot", "lotId"),
            seats=input.seats,
            evaluation_seats=input.evaluation_seats,
            evaluation_hours=input.evaluation_hours,
            opening_room_id=int_id(input.opening_room_id, "Room", "openingRoomId") if input.opening_room_id else None,
            evaluation_room_id=int_id(input.evaluation_room_id, "Room", "evaluationRoomId")
            if input.evaluation_room_id
            else None,
        )
        made = await services.book(info.context.actor, form, input.idempotency_key)
        return VenueBooked(bookings=[Booking.from_model(b) for b in made])

    @mutation(VenueCancelResult, description="Cancel a room booking (operators).", permission_classes=[IsOperator])
    async def venue_cancel(
        self, info: Info, input: Annotated[VenueCancelInput, strawberry.argument(description="The booking.")]
    ) -> VenueCancelled:
        booking = await services.cancel(
            info.context.actor, int_id(input.booking_id, "Booking", "bookingId"), input.idempotency_key
        )
        return VenueCancelled(booking=Booking.from_model(booking))
