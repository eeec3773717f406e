"""Tables for inquiry, competitive negotiation and consultation (issue 22): the negotiation of a lot, the documents
of its rounds between the panel and each supplier, the sealed final offers (最后报价) and the panel's sheets.
An inquiry (询价) needs no table: its one quotation is a sealed bid (sealed_bid) opened at the opening."""

import functools
from json import dumps, loads
from typing import Any

from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


def _json(**kwargs: Any) -> Any:
    return fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads, **kwargs)


def _id() -> Any:
    return fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)


def _at(null: bool = False) -> Any:
    if null:
        return fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)
    return fields.DatetimeField(auto_now=False, auto_now_add=False)


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0028_listing_reverse_auction")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name="Negotiation",
            fields=[
                ("id", _id()),
                ("lot_id", fields.BigIntField(unique=True)),
                ("procedure", fields.CharField(max_length=32)),
                ("status", fields.CharField(max_length=16)),
                ("method", fields.CharField(max_length=24)),
                ("weights", _json()),
                ("committee", _json()),
                ("suppliers", _json()),
                ("round", fields.IntField(default=1)),
                ("rounds_min", fields.IntField()),
                ("rounds_max", fields.IntField()),
                ("offers_open_at", _at(null=True)),
                ("offers_close_at", _at(null=True)),
                ("decryption_ends_at", _at(null=True)),
                ("started_at", _at()),
                ("reported_at", _at(null=True)),
                ("report", _json(null=True)),
                ("report_sha256", fields.CharField(null=True, max_length=64)),
                ("next_check_at", fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ("updated_at", _at()),
            ],
            options={
                "table": "negotiation",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "The negotiation of one lot after its opening: the panel (the drawn committee "
                "and the purchaser's",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NegotiationMessage",
            fields=[
                ("id", _id()),
                ("negotiation_id", fields.BigIntField(db_index=True)),
                ("lot_id", fields.BigIntField()),
                ("round", fields.IntField()),
                ("organisation_id", fields.BigIntField()),
                ("side", fields.CharField(max_length=8)),
                ("text", fields.TextField(unique=False)),
                ("documents", _json()),
                ("price_fen", fields.BigIntField(null=True)),
                ("author_user_id", fields.BigIntField(null=True)),
                ("author_expert_id", fields.BigIntField(null=True)),
                ("created_at", _at()),
            ],
            options={
                "table": "negotiation_message",
                "app": "palmtrade",
                "indexes": [Index(fields=["negotiation_id", "organisation_id", "round"])],
                "pk_attr": "id",
                "table_description": "One document of a round between the panel and one supplier: the panel's "
                "(questions, revised",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="FinalOffer",
            fields=[
                ("id", _id()),
                ("negotiation_id", fields.BigIntField(db_index=True)),
                ("lot_id", fields.BigIntField()),
                ("organisation_id", fields.BigIntField()),
                ("submitted_by", fields.BigIntField()),
                ("ciphertext", fields.TextField(unique=False)),
                ("ciphertext_sha256", fields.CharField(max_length=64)),
                ("status", fields.CharField(max_length=16)),
                ("submitted_at", _at()),
                ("ended_at", _at(null=True)),
                ("decrypted_at", _at(null=True)),
                ("price_fen", fields.BigIntField(null=True)),
                ("documents", _json(null=True)),
            ],
            options={
                "table": "negotiation_final_offer",
                "app": "palmtrade",
                "indexes": [Index(fields=["negotiation_id", "organisation_id", "status"])],
                "pk_attr": "id",
                "table_description": "A supplier's sealed final offer (最后报价), in the sealed-bid format of "
                "domain/tendering/sealing.py:",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="NegotiationScore",
            fields=[
                ("id", _id()),
                ("negotiation_id", fields.BigIntField(db_index=True)),
                ("expert_id", fields.BigIntField()),
                ("final_offer_id", fields.BigIntField()),
                ("compliant", fields.BooleanField()),
                ("reason", fields.TextField(null=True, unique=False)),
                ("technical_centi", fields.IntField(null=True)),
                ("commercial_centi", fields.IntField(null=True)),
                ("submitted_at", _at()),
            ],
            options={
                "table": "negotiation_score",
                "app": "palmtrade",
                "unique_together": (("negotiation_id", "expert_id", "final_offer_id"),),
                "pk_attr": "id",
                "table_description": "One panel expert's judgement of one decrypted final offer: compliant or not "
                "(with the reason) and, for a",
            },
            bases=["Model"],
        ),
    ]
