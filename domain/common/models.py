"""Platform-wide records: idempotency keys, the event outbox, scheduler leases and the working-day calendar."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class IdempotencyRecord(Model):
    """A claimed idempotency key: who, for which operation, the input hash and the result."""

    id = fields.BigIntField(primary_key=True)
    caller = fields.CharField(max_length=128)
    key = fields.CharField(max_length=255)
    operation = fields.CharField(max_length=64)
    request_hash = fields.CharField(max_length=64)
    result: Any = fields.JSONField()
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "idempotency_record"
        unique_together = (("caller", "key"),)


class OutboxEvent(Model):
    """A domain event written in the same transaction as the change that caused it."""

    id = fields.BigIntField(primary_key=True)
    event_id = fields.UUIDField(unique=True)
    type = fields.CharField(max_length=64)
    object_type = fields.CharField(max_length=64)
    object_id = fields.CharField(max_length=64)
    outcome = fields.CharField(max_length=16, default="success", db_default="success")
    actor_user_id = fields.BigIntField(null=True)
    actor_org_id = fields.BigIntField(null=True)
    actor_label = fields.CharField(max_length=128)
    actor_ip = fields.CharField(max_length=64, null=True)
    payload: dict[str, Any] = fields.JSONField()
    audience: dict[str, Any] = fields.JSONField()
    occurred_at = fields.DatetimeField()
    dispatched_at = fields.DatetimeField(null=True, db_index=True)
    attempts = fields.IntField(default=0, db_default=0)
    # a delivery that failed is retried from this time on, with backoff, without blocking others
    next_attempt_at = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)

    class Meta:
        table = "outbox_event"


class SchedulerLease(Model):
    """Who may run a periodic job until when, one row per job, taken with a conditional update."""

    name = fields.CharField(max_length=64, primary_key=True)
    holder = fields.CharField(max_length=128)
    leased_until = fields.DatetimeField()
    last_run_at = fields.DatetimeField(null=True)

    class Meta:
        table = "scheduler_lease"


class CalendarDay(Model):
    """A day set by an operator: a public holiday (working false) or an adjusted working day (调休)."""

    day = fields.DateField(primary_key=True)
    working = fields.BooleanField()
    name = fields.CharField(max_length=32)
    set_by = fields.BigIntField(null=True)
    set_at = fields.DatetimeField()

    class Meta:
        table = "calendar_day"
