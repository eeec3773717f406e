"""Provincial exchange deliveries and receipts; data-quality findings (issue 24)."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0039_treasury_invoices")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="ProvincialMessage",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("message_id", fields.CharField(max_length=64, unique=True)),
                ("object_type", fields.CharField(max_length=32)),
                ("object_id", fields.BigIntField()),
                ("lot_id", fields.BigIntField(null=True, db_index=True)),
                ("category", fields.CharField(max_length=32)),
                ("kind", fields.CharField(max_length=32)),
                ("data_type", fields.CharField(max_length=16)),
                (
                    "payload",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("digest", fields.CharField(max_length=64)),
                ("status", fields.CharField(max_length=16)),
                ("attempts", fields.IntField(default=0)),
                ("due_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("lease_until", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("lease_owner", fields.CharField(max_length=80, null=True)),
                ("last_error", fields.CharField(max_length=500, null=True)),
                ("receipt_id", fields.CharField(max_length=64, null=True)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("published_on", fields.DateField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "provincial_message",
                "app": "palmtrade",
                "indexes": [Index(fields=["status", "due_at"]), Index(fields=["published_on"])],
                "pk_attr": "id",
                "table_description": "One published object as sent to the provincial platform "
                "(省公共资源交易平台): its message id (the province",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="QualityFinding",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("category", fields.CharField(max_length=32, db_index=True)),
                ("rule", fields.CharField(max_length=16, db_index=True)),
                ("blocking", fields.BooleanField()),
                ("object_type", fields.CharField(max_length=32)),
                ("object_id", fields.BigIntField()),
                (
                    "detail",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("found_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "quality_finding",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A data-quality rule a lot breaks, as the last check found it (the nightly run "
                "or the check before a send).",
            },
            bases=["Model"],
        ),
    ]
