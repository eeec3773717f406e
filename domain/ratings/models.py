"""One participant organisation's rating of the platform's (and the agency's) service on one ended lot."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class PlatformRating(Model):
    """Stars per dimension (1-5) for the platform and, where the project had an agency and the rater is not it, for
    the agency; a comment as plain text with personal numbers masked. Editable until `editable_until`."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    category = fields.CharField(max_length=32, db_index=True)
    agency_id = fields.BigIntField(null=True, db_index=True)
    rater_org_id = fields.BigIntField()
    rater_role = fields.CharField(max_length=16)
    platform_scores: dict[str, int] = fields.JSONField()
    agency_scores: dict[str, int] | None = fields.JSONField(null=True)
    comment: str | None = fields.TextField(null=True)
    rated_at = fields.DatetimeField(db_index=True)
    updated_at = fields.DatetimeField()
    editable_until = fields.DatetimeField()

    class Meta:
        table = "platform_rating"
        unique_together = (("lot_id", "rater_org_id"),)
