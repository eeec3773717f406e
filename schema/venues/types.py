"""Rooms of the trading centre and their bookings."""

from datetime import datetime

import strawberry

from domain.common import clock
from domain.venues import models
from domain.venues.states import BookingPurpose, BookingStatus, RoomKind
from schema.describe import describe_values
from schema.relay import to_global_id

strawberry.enum(RoomKind, name="RoomKind", description="What a room of the trading centre is for.")
describe_values(
    RoomKind,
    {
        "OPENING_HALL": "An opening hall (开标室): its schedule is public.",
        "EVALUATION_ROOM": "An isolated evaluation room (评标室): never shown to bidders.",
    },
)
strawberry.enum(BookingPurpose, name="BookingPurpose", description="What a lot holds a room for.")
describe_values(
    BookingPurpose,
    {
        "OPENING": "The opening, from the bid deadline, in an opening hall.",
        "EVALUATION": "The evaluation, right after the opening, in an isolated evaluation room.",
    },
)
strawberry.enum(BookingStatus, name="BookingStatus", description="booked -> cancelled; moved while booked.")
describe_values(
    BookingStatus,
    {
        "BOOKED": "The room is held for the lot (and follows its deadline).",
        "CANCELLED": "Given back: by an operator, with the lot (failed, terminated), or no room was free at the "
        "moved time.",
    },
)


@strawberry.type(description="A room of the trading centre.")
class Room:
    id: strawberry.ID = strawberry.field(description="Global id of the room.")
    name: str = strawberry.field(description="Its name, unique.")
    kind: RoomKind = strawberry.field(description="Opening hall or evaluation room.")
    seats: int = strawberry.field(description="How many people it seats.")
    equipment: list[str] = strawberry.field(description="Its equipment (screens, recording, shielding ...).")
    location: str = strawberry.field(description="Where it is (floor, number).")
    active: bool = strawberry.field(description="Whether it may be booked.")

    @classmethod
    def from_model(cls, m: models.Room) -> "Room":
        return cls(
            id=strawberry.ID(to_global_id("Room", m.id)),
            name=m.name,
            kind=RoomKind(m.kind),
            seats=m.seats,
            equipment=list(m.equipment or []),
            location=m.location,
            active=m.active,
        )


@strawberry.type(description="A room held for one lot's opening or evaluation.")
class Booking:
    id: strawberry.ID = strawberry.field(description="Global id of the booking.")
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    room_id: strawberry.ID = strawberry.field(description="Global id of the room.")
    purpose: BookingPurpose = strawberry.field(description="Opening or evaluation.")
    status: BookingStatus = strawberry.field(description="Booked or cancelled.")
    seats: int = strawberry.field(description="The seats it needs.")
    starts_at: datetime = strawberry.field(description="From (UTC).")
    ends_at: datetime = strawberry.field(description="Until (UTC).")
    time_text: str = strawberry.field(description="From and until as shown to people (Asia/Shanghai).")
    cancel_reason: str | None = strawberry.field(description="Why it was cancelled: operator, lot_ended or no_room.")

    @classmethod
    def from_model(cls, m: models.Booking) -> "Booking":
        return cls(
            id=strawberry.ID(to_global_id("Booking", m.id)),
            lot_id=strawberry.ID(to_global_id("Lot", m.lot_id)),
            room_id=strawberry.ID(to_global_id("Room", m.room_id)),
            purpose=BookingPurpose(m.purpose),
            status=BookingStatus(m.status),
            seats=m.seats,
            starts_at=m.starts_at,
            ends_at=m.ends_at,
            time_text=f"{clock.shanghai_text(m.starts_at)} - {clock.shanghai_text(m.ends_at)}",
            cancel_reason=m.cancel_reason,
        )


@strawberry.type(description="One opening in a hall on the day: the hall, the lot and the time.")
class HallSlot:
    hall: str = strawberry.field(description="The opening hall's name.")
    location: str = strawberry.field(description="Where the hall is.")
    lot_id: strawberry.ID = strawberry.field(description="Global id of the lot.")
    lot_name: str = strawberry.field(description="The lot's name.")
    trade_code: str = strawberry.field(description="The lot's trade code.")
    starts_at: datetime = strawberry.field(description="From (UTC).")
    ends_at: datetime = strawberry.field(description="Until (UTC).")
    time_text: str = strawberry.field(description="From and until as shown to people (Asia/Shanghai).")
