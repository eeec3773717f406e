"""What is sent to the provincial platform and what it answered; the data-quality findings of each lot."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class ProvincialMessage(Model):
    """One published object as sent to the provincial platform (省公共资源交易平台): its message id (the province
    dedupes by it, so a retry is never a second item there), the mapped fields, and the delivery state.

    queued -> sent (receipt with the province's id) | held (a blocking data-quality finding) | dead (max tries);
    a sender leases due rows (lease_until) before it sends, as the push sender does."""

    id = fields.BigIntField(primary_key=True)
    message_id = fields.CharField(max_length=64, unique=True)
    object_type = fields.CharField(max_length=32)  # Announcement
    object_id = fields.BigIntField()
    lot_id = fields.BigIntField(null=True, db_index=True)
    category = fields.CharField(max_length=32)
    kind = fields.CharField(max_length=32)  # the announcement type
    data_type = fields.CharField(max_length=16)  # the spec's data set: the notice, the result or the contract
    payload: dict[str, Any] = fields.JSONField()
    digest = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16)
    attempts = fields.IntField(default=0)
    due_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=80, null=True)
    last_error = fields.CharField(max_length=500, null=True)
    receipt_id = fields.CharField(max_length=64, null=True)
    sent_at = fields.DatetimeField(null=True)
    published_on = fields.DateField()  # the day (Beijing) the reconciliation asks the province about
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "provincial_message"
        indexes = (("status", "due_at"), ("published_on",))


class QualityFinding(Model):
    """A data-quality rule a lot breaks, as the last check found it (the nightly run or the check before a send).
    A lot checked again replaces its findings."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    category = fields.CharField(max_length=32, db_index=True)
    rule = fields.CharField(max_length=16, db_index=True)
    blocking = fields.BooleanField()
    object_type = fields.CharField(max_length=32)
    object_id = fields.BigIntField()
    detail: dict[str, Any] = fields.JSONField()
    found_at = fields.DatetimeField()

    class Meta:
        table = "quality_finding"
