"""Treasury payment requests and electronic invoices (issue 24)."""

import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0038_tasks_venues")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="TreasuryPayment",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("request_no", fields.CharField(max_length=32, unique=True)),
                ("kind", fields.CharField(max_length=16)),
                ("lot_id", fields.BigIntField(null=True, db_index=True)),
                ("contract_id", fields.BigIntField(null=True, db_index=True)),
                ("fee_id", fields.BigIntField(null=True, db_index=True)),
                ("payer_org_id", fields.BigIntField()),
                ("payee_org_id", fields.BigIntField()),
                ("payee_account", fields.CharField(max_length=64)),
                ("amount_fen", fields.BigIntField()),
                ("purpose", fields.CharField(max_length=200)),
                ("status", fields.CharField(max_length=16, db_index=True)),
                ("treasury_ref", fields.CharField(max_length=64, null=True)),
                ("reason", fields.TextField(null=True, unique=False)),
                ("attempts", fields.IntField(default=0)),
                ("last_error", fields.CharField(max_length=200, null=True)),
                ("next_attempt_at", fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ("requested_by", fields.BigIntField()),
                ("requested_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("submitted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("accepted_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("paid_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("rejected_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("returned_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "treasury_payment",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "One payment the tenderer asked the treasury to make: an instalment of the contract price to the supplier, or",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TreasuryCallback",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("callback_id", fields.CharField(max_length=64, null=True, unique=True)),
                ("request_no", fields.CharField(max_length=32, null=True, db_index=True)),
                ("status", fields.CharField(max_length=16, null=True)),
                ("outcome", fields.CharField(max_length=16)),
                ("code", fields.CharField(max_length=64, null=True)),
                ("jws_sha256", fields.CharField(max_length=64)),
                (
                    "payload",
                    fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "treasury_callback",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "Every callback the treasury sent, applied or not, with why, callback_id is unique, so a duplicate changes",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TreasuryMismatch",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("statement_day", fields.DateField(db_index=True)),
                ("request_no", fields.CharField(max_length=32)),
                ("kind", fields.CharField(max_length=16)),
                (
                    "ours",
                    fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                (
                    "theirs",
                    fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("found_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "treasury_mismatch",
                "app": "palmtrade",
                "unique_together": (("statement_day", "request_no", "kind"),),
                "pk_attr": "id",
                "table_description": "A difference the daily reconciliation found between the treasury's statement and our requests.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ServiceFee",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("organisation_id", fields.BigIntField(db_index=True)),
                ("lot_id", fields.BigIntField(null=True)),
                ("item", fields.CharField(max_length=100)),
                ("amount_fen", fields.BigIntField()),
                ("created_by", fields.BigIntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "service_fee",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A platform service fee an operator charged an organisation (for a lot, or none), price including tax.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Invoice",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("serial", fields.CharField(max_length=40, unique=True)),
                ("invoice_no", fields.CharField(max_length=32, unique=True)),
                ("colour", fields.CharField(max_length=8)),
                ("fee_id", fields.BigIntField(db_index=True)),
                ("original_id", fields.BigIntField(null=True)),
                ("buyer_org_id", fields.BigIntField(db_index=True)),
                ("buyer_name", fields.CharField(max_length=200)),
                ("buyer_tax_id", fields.CharField(max_length=18)),
                ("item", fields.CharField(max_length=100)),
                ("amount_fen", fields.BigIntField()),
                ("tax_rate_bp", fields.IntField()),
                ("tax_fen", fields.BigIntField()),
                ("status", fields.CharField(max_length=16)),
                ("reason", fields.TextField(null=True, unique=False)),
                ("document_id", fields.BigIntField(null=True)),
                ("issued_by", fields.BigIntField()),
                ("issued_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("reversed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "invoice",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "An electronic invoice (数电发票) the provider issued for a fee: blue, or red (红字) reversing a blue one, each",
            },
            bases=["Model"],
        ),
    ]
