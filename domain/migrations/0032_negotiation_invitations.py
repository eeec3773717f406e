"""Invitation lists, panel composition and per-supplier round documents of negotiations (issue 22): how each
invitee was invited (lot_invitation.method, recommended_by), the purchaser's representatives on a negotiation's
panel, and each supplier's thread (negotiation_supplier: the owner of its files, and its elimination)."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0031_contract_signatures")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.AddField(
            model_name="Invitation",
            name="method",
            field=fields.CharField(default="letter", db_default="letter", max_length=16),
        ),
        ops.AddField(
            model_name="Invitation",
            name="recommended_by",
            field=fields.CharField(null=True, max_length=16),
        ),
        ops.AddField(
            model_name="Negotiation",
            name="representatives",
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
        ),
        ops.CreateModel(
            name="NegotiationSupplier",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("negotiation_id", fields.BigIntField(db_index=True)),
                ("lot_id", fields.BigIntField()),
                ("organisation_id", fields.BigIntField()),
                ("status", fields.CharField(max_length=16)),
                ("eliminated_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("eliminated_round", fields.IntField(null=True)),
                ("eliminated_by_user", fields.BigIntField(null=True)),
                ("eliminated_by_expert", fields.BigIntField(null=True)),
                ("reason", fields.TextField(null=True, unique=False)),
            ],
            options={
                "table": "negotiation_supplier",
                "app": "palmtrade",
                "unique_together": (("negotiation_id", "organisation_id"),),
                "pk_attr": "id",
                "table_description": "One supplier in a negotiation: its thread with the panel (the owner of its "
                "round documents and",
            },
            bases=["Model"],
        ),
    ]
