"""Accredited third-party systems, scheduled statistics reports, platform ratings (issue 24)."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

_encoder = functools.partial(dumps, separators=(",", ":"))


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0040_provincial_exchange_quality")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="AccreditedSystem",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("client_id", fields.CharField(max_length=64, unique=True)),
                ("name", fields.CharField(max_length=200)),
                ("operator_company", fields.CharField(max_length=200)),
                ("accreditation_no", fields.CharField(max_length=64, unique=True)),
                ("valid_until", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("status", fields.CharField(max_length=16, db_index=True)),
                ("reason", fields.TextField(null=True, unique=False)),
                ("accredited_by", fields.BigIntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "accredited_system", "app": "palmtrade", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="SystemAuthorisation",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "system",
                    fields.ForeignKeyField(
                        "palmtrade.AccreditedSystem",
                        source_field="system_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="authorisations",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("tenderer_id", fields.BigIntField(db_index=True)),
                ("scopes", fields.JSONField(encoder=_encoder, decoder=loads)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("granted_by", fields.BigIntField()),
                ("granted_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("revoked_by", fields.BigIntField(null=True)),
                ("revoke_reason", fields.TextField(null=True, unique=False)),
            ],
            options={"table": "system_authorisation", "app": "palmtrade", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StatisticsReport",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("supervisor_id", fields.BigIntField(db_index=True)),
                ("period", fields.CharField(max_length=16)),
                ("label", fields.CharField(max_length=16)),
                ("starts_on", fields.DateField()),
                ("ends_on", fields.DateField()),
                ("categories", fields.JSONField(encoder=_encoder, decoder=loads)),
                ("rows", fields.JSONField(encoder=_encoder, decoder=loads)),
                ("csv", fields.TextField(unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "statistics_report",
                "app": "palmtrade",
                "unique_together": (("supervisor_id", "period", "label"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PlatformRating",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("category", fields.CharField(max_length=32, db_index=True)),
                ("agency_id", fields.BigIntField(null=True, db_index=True)),
                ("rater_org_id", fields.BigIntField()),
                ("rater_role", fields.CharField(max_length=16)),
                ("platform_scores", fields.JSONField(encoder=_encoder, decoder=loads)),
                ("agency_scores", fields.JSONField(null=True, encoder=_encoder, decoder=loads)),
                ("comment", fields.TextField(null=True, unique=False)),
                ("rated_at", fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("editable_until", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "platform_rating",
                "app": "palmtrade",
                "unique_together": (("lot_id", "rater_org_id"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
    ]
