"""The trading centre's rooms and their calendars: opening halls and isolated evaluation rooms, booked by lot."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class Room(Model):
    """A room of the trading centre: an opening hall (开标室) or an isolated evaluation room (评标室), its seats
    and equipment; managed by operators. Evaluation rooms are never shown to bidders."""

    id = fields.BigIntField(primary_key=True)
    name = fields.CharField(max_length=100, unique=True)
    kind = fields.CharField(max_length=24, db_index=True)  # opening_hall | evaluation_room
    seats = fields.IntField()
    equipment: list[str] = fields.JSONField(default=list)
    location = fields.CharField(max_length=200, default="", db_default="")
    active = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "venue_room"


class Booking(Model):
    """One room held for one lot's opening (from the bid deadline) or evaluation (a window after it); moved when the
    deadline moves, cancelled by an operator or with the lot. Cancelled bookings stay for the record."""

    id = fields.BigIntField(primary_key=True)
    room_id = fields.BigIntField()
    lot_id = fields.BigIntField(db_index=True)
    purpose = fields.CharField(max_length=16)  # opening | evaluation
    status = fields.CharField(max_length=16)  # booked | cancelled
    seats = fields.IntField()
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField()
    booked_by = fields.BigIntField(null=True)
    cancelled_by = fields.BigIntField(null=True)
    cancel_reason = fields.CharField(max_length=32, null=True)
    details: dict[str, Any] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "venue_booking"
        indexes = (("room_id", "status", "starts_at"),)
