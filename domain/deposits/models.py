"""Bid deposits (投标保证金): one virtual sub-account per registration, and every bank callback received."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class DepositAccount(Model):
    """The deposit a registered bidder owes for a lot, paid into its own reference, refunded after the result."""

    id = fields.BigIntField(primary_key=True)
    registration: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Registration", related_name="deposit", on_delete=fields.RESTRICT
    )
    registration_id: int
    lot_id = fields.BigIntField(db_index=True)
    organisation_id = fields.BigIntField(db_index=True)
    reference = fields.CharField(max_length=32, unique=True)
    amount_due_fen = fields.BigIntField()
    paid_fen = fields.BigIntField(default=0)
    status = fields.CharField(max_length=16, db_index=True)
    bank_organisation_id = fields.BigIntField(null=True)
    payer_account = fields.CharField(max_length=64, null=True)
    payer_name = fields.CharField(max_length=200, null=True)
    paid_at = fields.DatetimeField(null=True)
    refund_due_at = fields.DatetimeField(null=True)
    refunded_at = fields.DatetimeField(null=True)
    overdue_flagged_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "deposit_account"


class BankCallback(Model):
    """Every signed bank callback received, accepted or not, with why.

    accepted_key (bank organisation and the bank transaction id) is set only on accepted
    callbacks and is unique, so one bank transaction is credited at most once.
    """

    id = fields.BigIntField(primary_key=True)
    bank_organisation_id = fields.BigIntField(null=True)
    key_id = fields.CharField(max_length=128, null=True)
    kind = fields.CharField(max_length=16, null=True)
    transaction_id = fields.CharField(max_length=64, null=True)
    reference = fields.CharField(max_length=32, null=True, db_index=True)
    amount_fen = fields.BigIntField(null=True)
    outcome = fields.CharField(max_length=16)
    code = fields.CharField(max_length=64, null=True)
    jws_sha256 = fields.CharField(max_length=64)
    payload: dict[str, Any] | None = fields.JSONField(null=True)
    accepted_key = fields.CharField(max_length=120, null=True, unique=True)
    received_at = fields.DatetimeField()

    class Meta:
        table = "bank_callback"
