"""Supervision (行政监督): collusion alerts (围标串标预警), read from the facts of domain/access/models."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class CollusionAlert(Model):
    """One collusion signal raised on one lot, with its evidence and its handling by a supervisor.

    One row per lot and signal, so a lot evaluated again raises nothing twice.
    """

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField()
    signal = fields.CharField(max_length=32)
    category = fields.CharField(max_length=32, db_index=True)
    region_code = fields.CharField(max_length=6)
    organisations: list[dict[str, Any]] = fields.JSONField()
    evidence: dict[str, Any] = fields.JSONField()
    status = fields.CharField(max_length=16, db_index=True)
    history: list[dict[str, Any]] = fields.JSONField(default=list)
    raised_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "collusion_alert"
        unique_together = (("lot_id", "signal"),)
