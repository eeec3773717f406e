"""Scheduled statistics reports to supervisors: one stored snapshot per supervisor, period kind and period."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class StatisticsReport(Model):
    """The figures of one complete period for one supervisor organisation's categories, made at the period's end;
    never public (read by that supervisor and operators only)."""

    id = fields.BigIntField(primary_key=True)
    supervisor_id = fields.BigIntField(db_index=True)
    period = fields.CharField(max_length=16)
    label = fields.CharField(max_length=16)
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    categories: list[str] = fields.JSONField()
    rows: list[dict[str, Any]] = fields.JSONField()
    csv = fields.TextField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "statistics_report"
        unique_together = (("supervisor_id", "period", "label"),)
