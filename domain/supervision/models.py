"""Supervision (行政监督): device and network facts, collusion alerts (围标串标预警)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class NetworkFact(Model):
    """The address and device a bidder acted from at a moment that matters for one lot.

    Read by collusion checks and supervisors only, never shown to other bidders.
    """

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    organisation_id = fields.BigIntField()
    user_id = fields.BigIntField(null=True)
    action = fields.CharField(max_length=32)
    ip = fields.CharField(max_length=64, null=True)
    device_id = fields.CharField(max_length=128, null=True)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "network_fact"


class CollusionAlert(Model):
    """One collusion signal raised on one lot, with its evidence and its handling by a supervisor.

    One row per lot and signal, so a lot evaluated again raises nothing twice.
    """

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField()
    signal = fields.CharField(max_length=32)
    category = fields.CharField(max_length=32, db_index=True)
    region_code = fields.CharField(max_length=6)
    organisations = fields.JSONField()
    evidence = fields.JSONField()
    status = fields.CharField(max_length=16, db_index=True)
    history = fields.JSONField(default=list)
    raised_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "collusion_alert"
        unique_together = (("lot_id", "signal"),)
