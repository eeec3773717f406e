"""Guided tasks and venue booking: rooms, calendars, bookings (issue 24)."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0037_single_sign_on")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="Room",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("name", fields.CharField(max_length=100, unique=True)),
                ("kind", fields.CharField(max_length=24, db_index=True)),
                ("seats", fields.IntField()),
                (
                    "equipment",
                    fields.JSONField(
                        default=list, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("location", fields.CharField(max_length=200, default="", db_default="")),
                ("active", fields.BooleanField(default=True, db_default=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "venue_room", "app": "palmtrade", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Booking",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("room_id", fields.BigIntField()),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("purpose", fields.CharField(max_length=16)),
                ("status", fields.CharField(max_length=16)),
                ("seats", fields.IntField()),
                ("starts_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ends_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("booked_by", fields.BigIntField(null=True)),
                ("cancelled_by", fields.BigIntField(null=True)),
                ("cancel_reason", fields.CharField(max_length=32, null=True)),
                (
                    "details",
                    fields.JSONField(
                        default=dict, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads
                    ),
                ),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "venue_booking",
                "app": "palmtrade",
                "indexes": [Index(fields=["room_id", "status", "starts_at"])],
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
