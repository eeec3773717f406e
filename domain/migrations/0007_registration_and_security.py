import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0006_search_recent_index")]

    initial = False

    operations = [
        ops.CreateModel(
            name="BankCallback",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("bank_organisation_id", fields.BigIntField(null=True)),
                ("key_id", fields.CharField(null=True, max_length=128)),
                ("kind", fields.CharField(null=True, max_length=16)),
                ("transaction_id", fields.CharField(null=True, max_length=64)),
                ("reference", fields.CharField(null=True, db_index=True, max_length=32)),
                ("amount_fen", fields.BigIntField(null=True)),
                ("outcome", fields.CharField(max_length=16)),
                ("code", fields.CharField(null=True, max_length=64)),
                ("jws_sha256", fields.CharField(max_length=64)),
                (
                    "payload",
                    fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("accepted_key", fields.CharField(null=True, unique=True, max_length=120)),
                ("received_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "bank_callback",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "Every signed bank callback received, accepted or not, with why.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PartnerKey",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "organisation",
                    fields.ForeignKeyField(
                        "palmtrade.Organisation",
                        source_field="organisation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="partner_keys",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("purpose", fields.CharField(max_length=24)),
                ("kid", fields.CharField(unique=True, max_length=128)),
                (
                    "public_jwk",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("created_by", fields.BigIntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "partner_key",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A public key an organisation registered to sign what it sends: guarantee letters or bank callbacks.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Registration",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "lot",
                    fields.ForeignKeyField(
                        "palmtrade.Lot",
                        source_field="lot_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="registrations",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "organisation",
                    fields.ForeignKeyField(
                        "palmtrade.Organisation",
                        source_field="organisation_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="registrations",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("user_id", fields.BigIntField()),
                ("status", fields.CharField(max_length=16)),
                ("registered_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("withdrawn_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "registration",
                "app": "palmtrade",
                "unique_together": (("lot_id", "organisation_id"),),
                "indexes": [Index(fields=["lot_id", "status"])],
                "pk_attr": "id",
                "table_description": "An organisation registered for a lot. Withdrawing keeps the row, registering again reopens it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="DepositAccount",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "registration",
                    fields.OneToOneField(
                        "palmtrade.Registration",
                        source_field="registration_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="deposit",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("organisation_id", fields.BigIntField(db_index=True)),
                ("reference", fields.CharField(unique=True, max_length=32)),
                ("amount_due_fen", fields.BigIntField()),
                ("paid_fen", fields.BigIntField(default=0)),
                ("status", fields.CharField(db_index=True, max_length=16)),
                ("bank_organisation_id", fields.BigIntField(null=True)),
                ("payer_account", fields.CharField(null=True, max_length=64)),
                ("payer_name", fields.CharField(null=True, max_length=200)),
                ("paid_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("refund_due_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("refunded_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("overdue_flagged_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("next_check_at", fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "deposit_account",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "The deposit a registered bidder owes for a lot, paid into its own reference, refunded after the result.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Guarantee",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                (
                    "lot",
                    fields.ForeignKeyField(
                        "palmtrade.Lot",
                        source_field="lot_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="guarantees",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "registration",
                    fields.ForeignKeyField(
                        "palmtrade.Registration",
                        source_field="registration_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="guarantees",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("applicant_id", fields.BigIntField()),
                ("guarantor_id", fields.BigIntField()),
                ("beneficiary_id", fields.BigIntField()),
                ("amount_fen", fields.BigIntField()),
                ("valid_until", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("status", fields.CharField(max_length=16)),
                ("letter_no", fields.CharField(null=True, unique=True, max_length=64)),
                ("verification_code", fields.CharField(null=True, max_length=16)),
                ("letter_jws", fields.TextField(null=True, unique=False)),
                ("letter_sha256", fields.CharField(null=True, max_length=64)),
                ("key_id", fields.CharField(null=True, max_length=128)),
                ("applied_by", fields.BigIntField()),
                ("applied_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("decided_by", fields.BigIntField(null=True)),
                ("decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("decline_reason", fields.TextField(null=True, unique=False)),
                ("claim_reason", fields.TextField(null=True, unique=False)),
                ("claim_amount_fen", fields.BigIntField(null=True)),
                ("claimed_by", fields.BigIntField(null=True)),
                ("claimed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("claim_decided_by", fields.BigIntField(null=True)),
                ("claim_decided_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("claim_reject_reason", fields.TextField(null=True, unique=False)),
                ("released_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("expired_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("next_check_at", fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("updated_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "guarantee",
                "app": "palmtrade",
                "indexes": [Index(fields=["lot_id", "applicant_id"]), Index(fields=["guarantor_id", "status"])],
                "pk_attr": "id",
                "table_description": "One guarantee letter through its life: applied, issued or declined, claimed, paid or rejected,",
            },
            bases=["Model"],
        ),
    ]
