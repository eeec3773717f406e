"""Registrations of market entities for lots (报名)."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


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


class Invitation(Model):
    """An organisation invited to an invited tender (邀请招标, 投标邀请书): only those invited may register and bid."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    organisation_id = fields.BigIntField()
    invited_by = fields.BigIntField(null=True)
    invited_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)  # the invitee was told: when invited on an open lot, else at publication
    # how it was invited (procedures.InvitationMethod): letter (邀请招标), or for a negotiation or consultation an
    # announcement, a draw from the supplier pool, or a written recommendation by the purchaser or an expert
    method = fields.CharField(max_length=16, default="letter")
    recommended_by = fields.CharField(max_length=16, null=True)  # purchaser | expert (a recommendation)

    class Meta:
        table = "lot_invitation"
        unique_together = (("lot_id", "organisation_id"),)
