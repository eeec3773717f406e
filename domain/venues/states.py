"""A venue booking as data: booked for a lot's opening or evaluation, moved with the lot's deadline, cancelled by an
operator or with the lot (failed, terminated), or when no fitting room is free at the moved time."""

from __future__ import annotations

from enum import StrEnum

from domain.common.actors import Role
from domain.common.lifecycle import SYSTEM, Lifecycle, move


class RoomKind(StrEnum):
    OPENING_HALL = "opening_hall"  # 开标室: bidders and the public may see its schedule
    EVALUATION_ROOM = "evaluation_room"  # 评标室 (isolated): never shown to bidders


class BookingPurpose(StrEnum):
    OPENING = "opening"  # from the bid deadline, in an opening hall
    EVALUATION = "evaluation"  # the window after the opening, in an isolated evaluation room


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"


class CancelReason(StrEnum):
    OPERATOR = "operator"  # an operator cancelled it
    LOT_ENDED = "lot_ended"  # the lot failed (流标) or was terminated
    NO_ROOM = "no_room"  # the deadline moved and no fitting room was free at the new time


ROOM_FOR: dict[BookingPurpose, RoomKind] = {
    BookingPurpose.OPENING: RoomKind.OPENING_HALL,
    BookingPurpose.EVALUATION: RoomKind.EVALUATION_ROOM,
}

S = BookingStatus
TABLE: Lifecycle[BookingStatus] = Lifecycle(
    name="Booking",
    states=BookingStatus,
    doc="A room of the trading centre held for one lot's opening or evaluation (场地预约).",
    transitions=(
        move("book", None, S.BOOKED, by={Role.OPERATOR.value}, note="a free room fitting the seats, or the one asked"),
        move("move", S.BOOKED, S.BOOKED, by={SYSTEM}, note="the lot's bid deadline moved (a clarification)"),
        move("cancel", S.BOOKED, S.CANCELLED, by={Role.OPERATOR.value}),
        move(
            "release",
            S.BOOKED,
            S.CANCELLED,
            by={SYSTEM},
            note="the lot failed or was terminated, or no fitting room is free at the moved time",
        ),
    ),
    initial=frozenset({S.BOOKED}),
    final=frozenset({S.CANCELLED}),
)
