"""Accredited third-party e-trading systems (市场化电子交易系统) and the authorisations tenderers give them."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class AccreditedSystem(Model):
    """A market-run e-trading system accredited by the operator; it signs in with its integrator client."""

    id = fields.BigIntField(primary_key=True)
    client_id = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200)
    operator_company = fields.CharField(max_length=200)
    accreditation_no = fields.CharField(max_length=64, unique=True)
    valid_until = fields.DatetimeField()
    status = fields.CharField(max_length=16, db_index=True)
    reason: str | None = fields.TextField(null=True)
    accredited_by = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "accredited_system"


class SystemAuthorisation(Model):
    """A tenderer's authorisation of an accredited system to act for it, with a subset of the system's scopes."""

    id = fields.BigIntField(primary_key=True)
    system: fields.ForeignKeyRelation[AccreditedSystem] = fields.ForeignKeyField(
        "palmtrade.AccreditedSystem", related_name="authorisations", on_delete=fields.RESTRICT
    )
    system_id: int
    tenderer_id = fields.BigIntField(db_index=True)
    scopes: list[str] = fields.JSONField()
    expires_at = fields.DatetimeField()
    granted_by = fields.BigIntField()
    granted_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)
    revoked_by = fields.BigIntField(null=True)
    revoke_reason: str | None = fields.TextField(null=True)

    class Meta:
        table = "system_authorisation"
