"""Tables for clarifications, questions, deadline moves, invitations (issue 22): bidders' questions on a lot (答疑),
clarifications published as change notices with the deadline they moved, the sealed bids a material change flagged,
and the invitation list of an invited tender (邀请招标)."""

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0025_retention_indexes")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="Question",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("organisation_id", fields.BigIntField()),
                ("asked_by", fields.BigIntField()),
                ("text", fields.TextField()),
                ("status", fields.CharField(max_length=16)),
                ("asked_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("answer", fields.TextField(null=True)),
                ("answered_by", fields.BigIntField(null=True)),
                ("answered_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("clarification_id", fields.BigIntField(null=True)),
            ],
            options={
                "table": "lot_question",
                "app": "palmtrade",
                "indexes": [Index(fields=["lot_id", "status"])],
                "pk_attr": "id",
                "table_description": "A registered bidder's question on a lot (答疑), answered in a clarification.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Clarification",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("announcement_id", fields.BigIntField(unique=True)),
                ("changes_documents", fields.BooleanField()),
                ("deadline_before", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("deadline_after", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("minimum_days", fields.IntField(null=True)),
                ("working_days", fields.BooleanField(default=False)),
                ("legal_basis", fields.CharField(default="", max_length=200)),
                ("flagged_bids", fields.IntField(default=0)),
                ("published_by", fields.BigIntField(null=True)),
                ("published_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "clarification",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A clarification or change of a lot's documents and the deadline it moved.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Invitation",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("organisation_id", fields.BigIntField()),
                ("invited_by", fields.BigIntField(null=True)),
                ("invited_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("sent_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "lot_invitation",
                "app": "palmtrade",
                "unique_together": (("lot_id", "organisation_id"),),
                "pk_attr": "id",
                "table_description": "An organisation invited to an invited tender (邀请招标).",
            },
            bases=["Model"],
        ),
        ops.AddField(model_name="SealedBid", name="flagged_by", field=fields.BigIntField(null=True)),
        ops.AddField(
            model_name="SealedBid",
            name="flagged_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name="SealedBid",
            name="confirmed_at",
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
