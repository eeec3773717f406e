"""Venue booking's rules: the smallest free fitting room, a named room that is taken refused with its times (nothing
booked), a moved deadline followed in the same room or another free one (or released when none is free), and an
operator's cancellation, once."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain.common.actors import Role
from domain.common.clock import ManualClock
from domain.common.errors import PermissionDenied
from domain.publication.models import Lot
from domain.venues import services
from domain.venues.errors import BookingCancelledAlready, VenueConflict
from domain.venues.models import Booking
from domain.venues.states import RoomKind
from tests.domain.factories import organisation
from tests.support.tendering import OPERATOR, person, published_tender


async def room(name: str, kind: RoomKind, seats: int) -> int:
    return (await services.save_room(OPERATOR, services.RoomForm(name, kind, seats))).id


async def placed(lot_id: int) -> list[tuple[str, int, str, str | None]]:
    """The lot's bookings: purpose, room, status, cancel reason."""
    found = await Booking.filter(lot_id=lot_id).order_by("starts_at", "id")
    return [(b.purpose, b.room_id, b.status, b.cancel_reason) for b in found]


async def move_deadline(lot_id: int, to: datetime) -> None:
    lot = await Lot.get(id=lot_id)
    await Lot.filter(id=lot_id).update(config={**lot.config, "bid_deadline": to.isoformat()})


async def test_rooms_are_allocated_refused_moved_released_and_cancelled(db, manual_clock: ManualClock):
    # given halls of 20, 50 and 100 seats, evaluation rooms of 9 and 15, two lots due at one time
    small = await room("一号开标室", RoomKind.OPENING_HALL, 20)
    middle = await room("二号开标室", RoomKind.OPENING_HALL, 50)
    large = await room("三号开标室", RoomKind.OPENING_HALL, 100)
    eval_small = await room("一号评标室", RoomKind.EVALUATION_ROOM, 9)
    eval_large = await room("二号评标室", RoomKind.EVALUATION_ROOM, 15)
    first, second, third = [(await published_tender()).lot for _ in range(3)]

    # when the first lot is booked for 30 people (9 evaluating), then the second the same
    await services.book(OPERATOR, services.BookingForm(first.id, 30, evaluation_seats=9))
    await services.book(OPERATOR, services.BookingForm(second.id, 30, evaluation_seats=9))

    # then each gets the smallest room that fits and is free: the 50-seat hall, then the 100-seat one
    assert await placed(first.id) == [("opening", middle, "booked", None), ("evaluation", eval_small, "booked", None)]
    assert await placed(second.id) == [("opening", large, "booked", None), ("evaluation", eval_large, "booked", None)]

    # and a third lot naming the taken 50-seat hall is refused with the holder's times, booking nothing
    with pytest.raises(VenueConflict) as refused:
        await services.book(OPERATOR, services.BookingForm(third.id, 10, opening_room_id=middle))
    held = (await Booking.filter(lot_id=first.id).order_by("starts_at").first()).starts_at  # type: ignore[union-attr]
    assert refused.value.params["starts_at"] == held
    assert await placed(third.id) == []

    # given a lot due a day later in the 50-seat hall and the small evaluation room
    manual_clock.advance(timedelta(days=1))
    later = (await published_tender()).lot
    await services.book(OPERATOR, services.BookingForm(later.id, 30, evaluation_seats=9))
    assert await placed(later.id) == [("opening", middle, "booked", None), ("evaluation", eval_small, "booked", None)]
    later_deadline = datetime.fromisoformat(later.config["bid_deadline"])

    # when the first lot's deadline moves to that day, where its own rooms are taken
    await move_deadline(first.id, later_deadline)
    moved = await services.follow_deadline(first.id)
    again = await services.follow_deadline(first.id)

    # then both bookings move, to the free fitting rooms; a repeat moves nothing
    assert (moved, again) == (2, 0)
    assert await placed(first.id) == [("opening", large, "booked", None), ("evaluation", eval_large, "booked", None)]
    assert [b.starts_at for b in await Booking.filter(lot_id=first.id, purpose="opening")] == [later_deadline]

    # when the second lot moves there too: no hall of 30 seats is free, nor an evaluation room
    await move_deadline(second.id, later_deadline)
    assert await services.follow_deadline(second.id) == 0

    # then its bookings are released (NO_ROOM) and the small hall was never used for 30 people
    assert await placed(second.id) == [
        ("opening", large, "cancelled", "no_room"),
        ("evaluation", eval_large, "cancelled", "no_room"),
    ]
    assert small not in {r for _, r, _, _ in await placed(first.id) + await placed(later.id)}

    # when an operator cancels the later lot's opening, twice, and a bidder tries
    opening = await Booking.get(lot_id=later.id, purpose="opening")
    cancelled = await services.cancel(OPERATOR, opening.id)
    with pytest.raises(BookingCancelledAlready):
        await services.cancel(OPERATOR, opening.id)
    bidder = person(await organisation(kinds=["bidder"]), Role.BIDDER)
    evaluation = await Booking.get(lot_id=later.id, purpose="evaluation")
    with pytest.raises(PermissionDenied):
        await services.cancel(bidder, evaluation.id)

    # then only the operator's cancellation counted; once its evaluation room is cancelled too, a third lot moved to
    # that day gets both rooms at once
    assert (cancelled.status, cancelled.cancel_reason, cancelled.cancelled_by) == ("cancelled", "operator", 1)
    assert (await Booking.get(id=evaluation.id)).status == "booked"
    await services.cancel(OPERATOR, evaluation.id)
    await move_deadline(third.id, later_deadline)
    made = await services.book(OPERATOR, services.BookingForm(third.id, 10, evaluation_seats=9, opening_room_id=middle))
    assert [(b.purpose, b.room_id) for b in made] == [("opening", middle), ("evaluation", eval_small)]
    assert made[0].starts_at == later_deadline
