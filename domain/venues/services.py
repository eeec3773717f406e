"""Venue booking (场地预约): operators keep the trading centre's rooms; a lot's opening (at its bid deadline) and its
evaluation (the window after) are booked with a free fitting room, chosen automatically unless one is named;
overlapping bookings of one room are refused; the bookings follow the deadline when a clarification moves it and go
with the lot when it fails or is terminated. Every change is an event (the outbox, hence the audit trail)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from domain.common import clock, events
from domain.common.actors import SYSTEM as SYSTEM_ACTOR
from domain.common.actors import Actor, Role
from domain.common.errors import InvalidInput, NotFound, PermissionDenied, raises
from domain.common.events import DomainEvent, use_case
from domain.common.idempotency import run_once
from domain.common.lifecycle import SYSTEM
from domain.common.storage import lock_named
from domain.publication.models import Lot
from domain.publication.states import LotStatus
from domain.venues.errors import (
    BookingCancelledAlready,
    LotAlreadyBooked,
    LotNotBookable,
    NoRoomAvailable,
    RoomNameTaken,
    RoomUnfit,
    VenueConflict,
)
from domain.venues.models import Booking, Room
from domain.venues.states import ROOM_FOR, TABLE, BookingPurpose, BookingStatus, CancelReason, RoomKind

OPENING_HOURS = 2
EVALUATION_HOURS = 8
MAX_SEATS = 2000
MAX_EQUIPMENT = 30
SCHEDULE_YEARS = (2000, 2199)  # the days a schedule may be asked for (date.max + 1 day would overflow)
_LOCK = "venues.calendar"  # one writer of the calendar at a time (PostgreSQL advisory lock; SQLite has one writer)
ENDED = frozenset({LotStatus.FAILED.value, LotStatus.TERMINATED.value})


@dataclass(frozen=True, kw_only=True)
class RoomSaved(DomainEvent):
    type = "venue.room_saved"
    object_type = "Room"
    name: str
    kind: str
    seats: int
    active: bool


@dataclass(frozen=True, kw_only=True)
class VenueBooked(DomainEvent):
    type = "venue.booked"
    object_type = "Lot"
    lot_id: int
    bookings: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class VenueMoved(DomainEvent):
    type = "venue.moved"
    object_type = "Booking"
    lot_id: int
    room_id: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, kw_only=True)
class VenueCancelled(DomainEvent):
    type = "venue.cancelled"
    object_type = "Booking"
    lot_id: int
    room_id: int
    reason: str


@dataclass(frozen=True)
class RoomForm:
    name: str
    kind: RoomKind
    seats: int
    equipment: list[str] = field(default_factory=list)
    location: str = ""
    active: bool = True


def _operator(actor: Actor) -> None:
    if not actor.has(Role.OPERATOR):
        raise PermissionDenied()


def sees_evaluation_rooms(actor: Actor) -> bool:
    """Evaluation rooms and their bookings are for operators and supervisors only: never bidders (评标保密)."""
    return actor.has(Role.OPERATOR, Role.SUPERVISOR)


def _checked(form: RoomForm) -> RoomForm:
    name = form.name.strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput("name")
    if not 1 <= form.seats <= MAX_SEATS:
        raise InvalidInput("seats")
    equipment = [e.strip() for e in form.equipment]
    if len(equipment) > MAX_EQUIPMENT or any(not 1 <= len(e) <= 60 for e in equipment):
        raise InvalidInput("equipment")
    if len(form.location) > 200:
        raise InvalidInput("location")
    return RoomForm(name, RoomKind(form.kind), form.seats, equipment, form.location.strip(), form.active)


@raises(RoomNameTaken)
@use_case("venue.room_save", "Room", lambda actor, form, room_id=None, *a, **k: str(room_id or ""))
async def save_room(
    actor: Actor, form: RoomForm, room_id: int | None = None, idempotency_key: str | None = None
) -> Room:
    """Creates a room, or changes one (its kind stays): names are unique."""
    _operator(actor)
    form = _checked(form)

    async def change() -> dict[str, Any]:
        now = clock.now()
        if await Room.filter(name=form.name).exclude(id=room_id or 0).exists():
            raise RoomNameTaken()
        if room_id is None:
            room = await Room.create(
                name=form.name,
                kind=form.kind.value,
                seats=form.seats,
                equipment=form.equipment,
                location=form.location,
                active=form.active,
                created_at=now,
                updated_at=now,
            )
        else:
            found = await Room.get_or_none(id=room_id)
            if found is None:
                raise NotFound()
            room = found
            room.name, room.seats, room.equipment = form.name, form.seats, form.equipment
            room.location, room.active, room.updated_at = form.location, form.active, now
            await room.save()
        await events.record(
            RoomSaved(object_id=str(room.id), name=room.name, kind=room.kind, seats=room.seats, active=room.active),
            actor,
        )
        return {"id": room.id}

    request = {"room": room_id, "form": [form.name, form.kind.value, form.seats, form.equipment, form.location]}
    result, _ = await run_once(actor, idempotency_key, "venue.room_save", request, change)
    return await Room.get(id=result["id"])


def rooms(actor: Actor, kind: RoomKind | None = None) -> Any:
    """The rooms the caller may see: every room for operators and supervisors, opening halls for anyone else."""
    query = Room.all()
    if not sees_evaluation_rooms(actor):
        query = query.filter(kind=RoomKind.OPENING_HALL.value, active=True)
    if kind is not None:
        query = query.filter(kind=kind.value)
    return query.order_by("kind", "name")


def windows(lot: Lot, evaluation_hours: int = EVALUATION_HOURS) -> dict[BookingPurpose, tuple[datetime, datetime]]:
    """When the lot needs its rooms: the opening from the deadline, the evaluation right after it."""
    value = lot.config.get("opening_at") or lot.config.get("bid_deadline")
    if not value:
        raise LotNotBookable()
    opens = datetime.fromisoformat(value)
    closes = opens + timedelta(hours=OPENING_HOURS)
    return {
        BookingPurpose.OPENING: (opens, closes),
        BookingPurpose.EVALUATION: (closes, closes + timedelta(hours=evaluation_hours)),
    }


async def _busy(room_ids: list[int], starts: datetime, ends: datetime, besides: int = 0) -> dict[int, Booking]:
    """The standing bookings of these rooms that overlap [starts, ends), by room."""
    found = await Booking.filter(
        room_id__in=room_ids, status=BookingStatus.BOOKED.value, starts_at__lt=ends, ends_at__gt=starts
    ).exclude(id=besides)
    return {b.room_id: b for b in found}


async def _room_for(
    purpose: BookingPurpose, seats: int, starts: datetime, ends: datetime, asked: int | None, besides: int = 0
) -> Room:
    """The room asked (if it fits and is free: RoomUnfit, VenueConflict), else the smallest free fitting one."""
    kind = ROOM_FOR[purpose].value
    if asked is not None:
        room = await Room.get_or_none(id=asked)
        if room is None or room.kind != kind or not room.active or room.seats < seats:
            raise RoomUnfit()
        taken = (await _busy([room.id], starts, ends, besides)).get(room.id)
        if taken is not None:
            raise VenueConflict(starts_at=taken.starts_at, ends_at=taken.ends_at)
        return room
    fitting = await Room.filter(kind=kind, active=True, seats__gte=seats).order_by("seats", "id")
    busy = await _busy([r.id for r in fitting], starts, ends, besides)
    for room in fitting:
        if room.id not in busy:
            return room
    raise NoRoomAvailable(starts_at=starts, ends_at=ends)


@dataclass(frozen=True)
class BookingForm:
    lot_id: int
    seats: int
    evaluation_seats: int | None = None
    evaluation_hours: int = EVALUATION_HOURS
    opening_room_id: int | None = None
    evaluation_room_id: int | None = None


@raises(LotAlreadyBooked, LotNotBookable, NoRoomAvailable, RoomUnfit, VenueConflict)
@use_case("venue.book", "Lot", lambda actor, form, *a, **k: str(form.lot_id))
async def book(actor: Actor, form: BookingForm, idempotency_key: str | None = None) -> list[Booking]:
    """Books the lot's opening hall and evaluation room at once, or neither: each the room asked or the smallest
    free one with the seats; a room is never held twice at the same time."""
    _operator(actor)
    if not 1 <= form.seats <= MAX_SEATS:
        raise InvalidInput("seats")
    if form.evaluation_seats is not None and not 1 <= form.evaluation_seats <= MAX_SEATS:
        raise InvalidInput("evaluationSeats")
    if not 1 <= form.evaluation_hours <= 72:
        raise InvalidInput("evaluationHours")

    async def change() -> dict[str, Any]:
        await lock_named(_LOCK)
        lot = await Lot.get_or_none(id=form.lot_id)
        if lot is None or lot.status != LotStatus.OPEN.value:
            raise NotFound() if lot is None or lot.status == LotStatus.DRAFT.value else LotNotBookable()
        if await Booking.filter(lot_id=lot.id, status=BookingStatus.BOOKED.value).exists():
            raise LotAlreadyBooked()
        now = clock.now()
        made = []
        for purpose, (starts, ends) in windows(lot, form.evaluation_hours).items():
            opening = purpose is BookingPurpose.OPENING
            seats = form.seats if opening else (form.evaluation_seats or form.seats)
            asked = form.opening_room_id if opening else form.evaluation_room_id
            room = await _room_for(purpose, seats, starts, ends, asked)
            TABLE.fire(None, "book", by=actor)
            made.append(
                await Booking.create(
                    room_id=room.id,
                    lot_id=lot.id,
                    purpose=purpose.value,
                    status=BookingStatus.BOOKED.value,
                    seats=seats,
                    starts_at=starts,
                    ends_at=ends,
                    booked_by=actor.user_id,
                    details={"evaluation_hours": form.evaluation_hours},
                    created_at=now,
                    updated_at=now,
                )
            )
        await events.record(
            VenueBooked(object_id=str(lot.id), lot_id=lot.id, bookings=tuple(b.id for b in made)), actor
        )
        return {"ids": [b.id for b in made]}

    request = {
        "lot": form.lot_id,
        "seats": [form.seats, form.evaluation_seats, form.evaluation_hours],
        "rooms": [form.opening_room_id, form.evaluation_room_id],
    }
    result, _ = await run_once(actor, idempotency_key, "venue.book", request, change)
    return list(await Booking.filter(id__in=result["ids"]).order_by("starts_at"))


async def _cancel(booking: Booking, actor: Actor, reason: CancelReason, now: datetime) -> None:
    booking.status = TABLE.fire(
        booking.status,
        "cancel" if reason is CancelReason.OPERATOR else "release",
        by=actor if actor.user_id else SYSTEM,
    ).value
    booking.cancelled_by, booking.cancel_reason, booking.updated_at = actor.user_id, reason.value, now
    await booking.save(update_fields=["status", "cancelled_by", "cancel_reason", "updated_at"])
    await events.record(
        VenueCancelled(object_id=str(booking.id), lot_id=booking.lot_id, room_id=booking.room_id, reason=reason.value),
        actor,
    )


@raises(BookingCancelledAlready)
@use_case("venue.cancel", "Booking", lambda actor, booking_id, *a, **k: str(booking_id))
async def cancel(actor: Actor, booking_id: int, idempotency_key: str | None = None) -> Booking:
    """Cancels one booking (operators); the room is free again at once."""
    _operator(actor)

    async def change() -> dict[str, Any]:
        await lock_named(_LOCK)
        booking = await Booking.get_or_none(id=booking_id)
        if booking is None:
            raise NotFound()
        if booking.status == BookingStatus.CANCELLED.value:
            raise BookingCancelledAlready()
        await _cancel(booking, actor, CancelReason.OPERATOR, clock.now())
        return {"id": booking.id}

    result, _ = await run_once(actor, idempotency_key, "venue.cancel", {"booking": booking_id}, change)
    return await Booking.get(id=result["id"])


async def follow_deadline(lot_id: int) -> int:
    """Moves the lot's standing bookings to its current deadline: the same room when it is free then, else another
    free fitting one, else the booking is released (NO_ROOM, told to operators). Idempotent; the count moved."""
    moved = 0
    async with in_transaction():
        await lock_named(_LOCK)
        lot = await Lot.get_or_none(id=lot_id)
        standing = await Booking.filter(lot_id=lot_id, status=BookingStatus.BOOKED.value).order_by("starts_at")
        if lot is None or not standing:
            return 0
        now = clock.now()
        hours = int(standing[-1].details.get("evaluation_hours", EVALUATION_HOURS))
        wanted = windows(lot, hours)
        for booking in standing:
            purpose = BookingPurpose(booking.purpose)
            starts, ends = wanted[purpose]
            if (booking.starts_at, booking.ends_at) == (starts, ends):
                continue
            try:
                try:
                    room = await _room_for(purpose, booking.seats, starts, ends, booking.room_id, booking.id)
                except (VenueConflict, RoomUnfit):
                    room = await _room_for(purpose, booking.seats, starts, ends, None, booking.id)
            except NoRoomAvailable:
                await _cancel(booking, SYSTEM_ACTOR, CancelReason.NO_ROOM, now)
                continue
            booking.status = TABLE.fire(booking.status, "move", by=SYSTEM).value
            booking.room_id, booking.starts_at, booking.ends_at, booking.updated_at = room.id, starts, ends, now
            await booking.save(update_fields=["status", "room_id", "starts_at", "ends_at", "updated_at"])
            await events.record(
                VenueMoved(object_id=str(booking.id), lot_id=lot_id, room_id=room.id, starts_at=starts, ends_at=ends),
                SYSTEM_ACTOR,
            )
            moved += 1
    return moved


async def release_lot(lot_id: int) -> int:
    """Releases every standing booking of a lot that failed or was terminated; the count released."""
    async with in_transaction():
        await lock_named(_LOCK)
        standing = await Booking.filter(lot_id=lot_id, status=BookingStatus.BOOKED.value)
        now = clock.now()
        for booking in standing:
            await _cancel(booking, SYSTEM_ACTOR, CancelReason.LOT_ENDED, now)
    return len(standing)


async def lot_bookings(actor: Actor, lot_id: int) -> list[Booking]:
    """A lot's bookings as the caller may see them: evaluation bookings for operators and supervisors only."""
    if actor.is_anonymous:
        raise PermissionDenied()
    lot = await Lot.get_or_none(id=lot_id)
    if lot is None or lot.status == LotStatus.DRAFT.value:
        raise NotFound()
    query = Booking.filter(lot_id=lot_id)
    if not sees_evaluation_rooms(actor):
        query = query.filter(purpose=BookingPurpose.OPENING.value, status=BookingStatus.BOOKED.value)
    return list(await query.order_by("starts_at", "id"))


@dataclass(frozen=True)
class HallSlot:
    booking: Booking
    room: Room
    lot: Lot


async def hall_schedule(day: date | None = None) -> list[HallSlot]:
    """The opening halls' standing bookings of one day (Asia/Shanghai; today by default): public, as openings are;
    InvalidInput for a day outside SCHEDULE_YEARS."""
    local = day or clock.today()
    if not SCHEDULE_YEARS[0] <= local.year <= SCHEDULE_YEARS[1]:
        raise InvalidInput("day")
    starts = datetime.combine(local, time.min, tzinfo=clock.SHANGHAI)
    ends = starts + timedelta(days=1)
    halls = {r.id: r for r in await Room.filter(kind=RoomKind.OPENING_HALL.value)}
    bookings = await Booking.filter(
        room_id__in=list(halls),
        purpose=BookingPurpose.OPENING.value,
        status=BookingStatus.BOOKED.value,
        starts_at__lt=ends,
        ends_at__gt=starts,
    ).order_by("starts_at", "id")
    lots = {lot.id: lot for lot in await Lot.filter(id__in=[b.lot_id for b in bookings])}
    return [HallSlot(b, halls[b.room_id], lots[b.lot_id]) for b in bookings if b.lot_id in lots]
