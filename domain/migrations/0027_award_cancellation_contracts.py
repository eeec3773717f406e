"""Tables for sequential award, cancellation and contracts (issue 22): the winners that left their award, the
cancellations (终止/废标) with their objection window, and the contracts with their changes and payments."""

import functools
from json import dumps, loads
from typing import Any

from tortoise import fields, migrations
from tortoise.migrations import operations as ops


def _json(**kw: Any) -> fields.JSONField[Any]:
    return fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads, **kw)


def _at(**kw: Any) -> fields.DatetimeField[Any]:
    return fields.DatetimeField(auto_now=False, auto_now_add=False, **kw)


def _pk() -> fields.BigIntField:
    return fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0026_clarifications")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="AwardWithdrawal",
            fields=[
                ("id", _pk()),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("award_id", fields.BigIntField()),
                ("candidate_id", fields.BigIntField()),
                ("rank", fields.IntField()),
                ("organisation_id", fields.BigIntField()),
                ("price_fen", fields.BigIntField()),
                ("confirmation_no", fields.CharField(max_length=40)),
                ("awarded_at", _at()),
                ("reason", fields.CharField(max_length=32)),
                ("detail", fields.TextField(unique=False)),
                ("complaint_id", fields.BigIntField(null=True)),
                ("withdrawn_by", fields.BigIntField(null=True)),
                ("withdrawn_at", _at()),
                ("next_announcement_id", fields.BigIntField(null=True)),
                ("failed", fields.BooleanField(default=False)),
            ],
            options={
                "table": "result_award_withdrawal",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A winner that left its award (招标投标法实施条例 第五十五条).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Cancellation",
            fields=[
                ("id", _pk()),
                ("project_id", fields.BigIntField(db_index=True)),
                ("lot_id", fields.BigIntField(null=True, db_index=True)),
                ("lot_ids", _json()),
                ("announcement_ids", _json()),
                ("reason", fields.CharField(max_length=32)),
                ("basis", fields.CharField(max_length=200)),
                ("explanation", fields.TextField(unique=False)),
                ("document_ids", _json()),
                ("status", fields.CharField(max_length=24)),
                ("cancelled_by", fields.BigIntField(null=True)),
                ("cancelled_at", _at()),
                ("objection_ends_at", _at()),
                ("effective_at", _at(null=True)),
                ("next_check_at", _at(null=True, db_index=True)),
            ],
            options={
                "table": "result_cancellation",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A cancellation (终止招标/废标) of a lot or of a project's open lots.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Contract",
            fields=[
                ("id", _pk()),
                ("lot_id", fields.BigIntField(unique=True)),
                ("award_id", fields.BigIntField()),
                ("organisation_id", fields.BigIntField()),
                ("contract_no", fields.CharField(max_length=64)),
                ("original_fen", fields.BigIntField()),
                ("amount_fen", fields.BigIntField()),
                ("document_ids", _json()),
                ("documents_sha256", _json()),
                ("status", fields.CharField(max_length=16)),
                ("drafted_by", fields.BigIntField(null=True)),
                ("drafted_at", _at()),
                ("buyer_signature_id", fields.BigIntField(null=True)),
                ("buyer_signed_at", _at(null=True)),
                ("supplier_signature_id", fields.BigIntField(null=True)),
                ("supplier_signed_at", _at(null=True)),
                ("signed_on", fields.DateField(null=True)),
                ("announcement_id", fields.BigIntField(null=True)),
                ("accepted_on", fields.DateField(null=True)),
                ("acceptance_passed", fields.BooleanField(null=True)),
                ("acceptance_summary", fields.TextField(null=True, unique=False)),
                ("acceptance_document_ids", _json(null=True)),
                ("accepted_at", _at(null=True)),
                ("terminated_at", _at(null=True)),
                ("termination_reason", fields.CharField(null=True, max_length=32)),
                ("termination_explanation", fields.TextField(null=True, unique=False)),
                ("termination_announcement_id", fields.BigIntField(null=True)),
                ("updated_at", _at()),
            ],
            options={
                "table": "result_contract",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "The contract of an award: file, signatures, changes, acceptance, payments.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ContractChange",
            fields=[
                ("id", _pk()),
                ("contract_id", fields.BigIntField(db_index=True)),
                ("lot_id", fields.BigIntField()),
                ("seq", fields.IntField()),
                ("reason", fields.CharField(max_length=32)),
                ("basis", fields.CharField(max_length=200)),
                ("rationale", fields.TextField(unique=False)),
                ("before_fen", fields.BigIntField()),
                ("after_fen", fields.BigIntField()),
                ("document_ids", _json()),
                ("announcement_id", fields.BigIntField(null=True)),
                ("changed_by", fields.BigIntField(null=True)),
                ("changed_at", _at()),
            ],
            options={
                "table": "result_contract_change",
                "app": "palmtrade",
                "unique_together": (("contract_id", "seq"),),
                "pk_attr": "id",
                "table_description": "A change (变更) of a signed contract.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ContractPayment",
            fields=[
                ("id", _pk()),
                ("contract_id", fields.BigIntField(db_index=True)),
                ("lot_id", fields.BigIntField()),
                ("amount_fen", fields.BigIntField()),
                ("paid_on", fields.DateField()),
                ("milestone", fields.CharField(max_length=200)),
                ("reference", fields.CharField(max_length=64)),
                ("recorded_by", fields.BigIntField(null=True)),
                ("recorded_at", _at()),
            ],
            options={
                "table": "result_contract_payment",
                "app": "palmtrade",
                "unique_together": (("contract_id", "reference"),),
                "pk_attr": "id",
                "table_description": "A payment to the supplier under the contract.",
            },
            bases=["Model"],
        ),
    ]
