"""Credit records and the joint-punishment list (失信联合惩戒)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class CreditRecord(Model):
    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="credit_records", on_delete=fields.RESTRICT
    )
    organisation_id: int
    kind = fields.CharField(max_length=8)
    category = fields.CharField(max_length=64)
    description = fields.TextField()
    source = fields.CharField(max_length=200)
    recorded_by = fields.BigIntField()
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "credit_record"


class JointPunishment(Model):
    """An entry of the joint-punishment list: barred from registering anywhere while in force."""

    id = fields.BigIntField(primary_key=True)
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="punishments", on_delete=fields.RESTRICT
    )
    organisation_id: int
    reason = fields.TextField()
    authority = fields.CharField(max_length=200)
    document_no = fields.CharField(max_length=100)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField(null=True)
    lifted_at = fields.DatetimeField(null=True)
    lifted_reason = fields.TextField(null=True)
    recorded_by = fields.BigIntField()
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "joint_punishment"
        indexes = (("organisation_id", "starts_at"),)
