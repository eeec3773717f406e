"""Registrations of market entities for lots (报名)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Registration(Model):
    """An organisation registered for a lot. Withdrawing keeps the row, registering again reopens it."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="registrations", on_delete=fields.RESTRICT
    )
    lot_id: int
    organisation: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Organisation", related_name="registrations", on_delete=fields.RESTRICT
    )
    organisation_id: int
    user_id = fields.BigIntField()
    status = fields.CharField(max_length=16)
    registered_at = fields.DatetimeField()
    withdrawn_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "registration"
        unique_together = (("lot_id", "organisation_id"),)
        indexes = (("lot_id", "status"),)
