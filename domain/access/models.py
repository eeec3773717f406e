"""Device and network facts (domain/access/network.py): where a bidder acted from, read by collusion checks and
supervisors only."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


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
