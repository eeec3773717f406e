"""Objections (异议), complaints (投诉), reports (举报) and lot suspensions."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class Objection(Model):
    """An objection to the tenderer: on the tender documents, at the opening or on the candidate
    publicity. Answered within the lot's objection_answer_days. While one is pending the lot cannot
    move to award. evidence lists the attachments as name, size and SHA-256."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="objections", on_delete=fields.RESTRICT
    )
    lot_id: int
    stage = fields.CharField(max_length=16)
    organisation_id = fields.BigIntField(db_index=True)
    raised_by = fields.BigIntField()
    reasons = fields.TextField()
    evidence: list[dict[str, Any]] = fields.JSONField()
    status = fields.CharField(max_length=16, db_index=True)
    raised_at = fields.DatetimeField()
    answer_due_at = fields.DatetimeField()
    answer = fields.TextField(null=True)
    answered_by = fields.BigIntField(null=True)
    answered_at = fields.DatetimeField(null=True)
    withdrawn_at = fields.DatetimeField(null=True)
    overdue_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "objection"


class Complaint(Model):
    """A complaint to the supervisor of the category of the lot: accepted or refused within 3 working
    days, decided within 30 working days, possibly suspending the lot meanwhile."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="complaints", on_delete=fields.RESTRICT
    )
    lot_id: int
    category = fields.CharField(max_length=32, db_index=True)
    organisation_id = fields.BigIntField(db_index=True)
    filed_by = fields.BigIntField()
    objection_id = fields.BigIntField(null=True)
    subject = fields.CharField(max_length=16)
    knew_on = fields.DateField()
    reasons = fields.TextField()
    requests = fields.TextField()
    evidence: list[dict[str, Any]] = fields.JSONField()
    status = fields.CharField(max_length=16, db_index=True)
    filed_at = fields.DatetimeField()
    accept_due_at = fields.DatetimeField()
    accepted_at = fields.DatetimeField(null=True)
    refused_reason = fields.TextField(null=True)
    decide_due_at = fields.DatetimeField(null=True)
    handled_by = fields.BigIntField(null=True)
    decision = fields.CharField(max_length=16, null=True)
    decision_reasons = fields.TextField(null=True)
    decided_at = fields.DatetimeField(null=True)
    announcement_id = fields.BigIntField(null=True)
    malicious = fields.BooleanField(default=False)
    withdrawn_at = fields.DatetimeField(null=True)
    overdue_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "complaint"


class Report(Model):
    """A report (举报) about a lot or an entity, from anyone, also anonymously: the reporter follows it
    with a tracking code of which only the SHA-256 is kept."""

    id = fields.BigIntField(primary_key=True)
    tracking_hash = fields.CharField(max_length=64, unique=True)
    lot_id = fields.BigIntField(null=True, db_index=True)
    organisation_id = fields.BigIntField(null=True, db_index=True)
    category = fields.CharField(max_length=32, null=True, db_index=True)
    reporter_user_id = fields.BigIntField(null=True)
    text = fields.TextField()
    evidence: list[dict[str, Any]] = fields.JSONField()
    status = fields.CharField(max_length=16, db_index=True)
    outcome = fields.TextField(null=True)
    handled_by = fields.BigIntField(null=True)
    received_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "report"


class LotSuspension(Model):
    """A suspension of a lot by the supervisor handling a complaint: every transition of the lot is
    blocked until it is lifted."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="suspensions", on_delete=fields.RESTRICT
    )
    lot_id: int
    complaint_id = fields.BigIntField(null=True)
    reason = fields.TextField()
    suspended_by = fields.BigIntField()
    suspended_at = fields.DatetimeField()
    lifted_by = fields.BigIntField(null=True)
    lifted_at = fields.DatetimeField(null=True)

    class Meta:
        table = "lot_suspension"
