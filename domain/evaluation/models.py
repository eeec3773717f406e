"""The verifiable expert draw (专家抽取) for a lot's evaluation committee."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ExpertDraw(Model):
    """One draw (the first, or a replacement 补抽) for a lot: committed before the bid deadline,
    revealed after it, its seed derived from the revealed secret and the bid receipts.

    eligible and selected are lists of expert ids, kept so that anyone can recompute the draw.
    """

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="expert_draws", on_delete=fields.RESTRICT
    )
    lot_id: int
    round = fields.IntField()
    specialty = fields.CharField(max_length=64)
    size = fields.IntField()
    commitment = fields.CharField(max_length=64)
    committed_by = fields.BigIntField()
    committed_at = fields.DatetimeField()
    secret = fields.CharField(max_length=128, null=True)
    receipts_digest = fields.CharField(max_length=64, null=True)
    seed = fields.CharField(max_length=64, null=True)
    eligible = fields.JSONField(null=True)
    selected = fields.JSONField(null=True)
    replaces = fields.JSONField(null=True)
    reason = fields.TextField(null=True)
    status = fields.CharField(max_length=16)
    revealed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "expert_draw"
        unique_together = (("lot_id", "round"),)
