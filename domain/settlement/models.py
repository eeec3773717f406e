"""Treasury payment requests (国库集中支付), the treasury's signed callbacks and statement mismatches; platform service
fees and their electronic invoices (数电发票)."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class TreasuryPayment(Model):
    """One payment the tenderer asked the treasury to make: an instalment of the contract price to the supplier, or
    a platform service fee to the trading centre. request_no is the idempotency key on the treasury's side too."""

    id = fields.BigIntField(primary_key=True)
    request_no = fields.CharField(max_length=32, unique=True)
    kind = fields.CharField(max_length=16)  # contract | service_fee
    lot_id = fields.BigIntField(null=True, db_index=True)
    contract_id = fields.BigIntField(null=True, db_index=True)
    fee_id = fields.BigIntField(null=True, db_index=True)
    payer_org_id = fields.BigIntField()
    payee_org_id = fields.BigIntField()
    payee_account = fields.CharField(max_length=64)
    amount_fen = fields.BigIntField()
    purpose = fields.CharField(max_length=200)
    status = fields.CharField(max_length=16, db_index=True)
    treasury_ref = fields.CharField(max_length=64, null=True)
    reason: str | None = fields.TextField(null=True)  # the treasury's, on a rejection or a return
    attempts = fields.IntField(default=0)
    last_error = fields.CharField(max_length=200, null=True)
    next_attempt_at = fields.DatetimeField(null=True, db_index=True)
    requested_by = fields.BigIntField()
    requested_at = fields.DatetimeField()
    submitted_at = fields.DatetimeField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    paid_at = fields.DatetimeField(null=True)
    rejected_at = fields.DatetimeField(null=True)
    returned_at = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "treasury_payment"


class TreasuryCallback(Model):
    """Every callback the treasury sent, applied or not, with why, callback_id is unique, so a duplicate changes
    nothing."""

    id = fields.BigIntField(primary_key=True)
    callback_id = fields.CharField(max_length=64, null=True, unique=True)
    request_no = fields.CharField(max_length=32, null=True, db_index=True)
    status = fields.CharField(max_length=16, null=True)
    outcome = fields.CharField(max_length=16)  # applied | rejected | replayed
    code = fields.CharField(max_length=64, null=True)
    jws_sha256 = fields.CharField(max_length=64)
    payload: dict[str, Any] | None = fields.JSONField(null=True)
    received_at = fields.DatetimeField()

    class Meta:
        table = "treasury_callback"


class TreasuryMismatch(Model):
    """A difference the daily reconciliation found between the treasury's statement and our requests."""

    id = fields.BigIntField(primary_key=True)
    statement_day = fields.DateField(db_index=True)
    request_no = fields.CharField(max_length=32)
    kind = fields.CharField(max_length=16)  # missing | unknown | amount | status
    ours: dict[str, Any] | None = fields.JSONField(null=True)
    theirs: dict[str, Any] | None = fields.JSONField(null=True)
    found_at = fields.DatetimeField()

    class Meta:
        table = "treasury_mismatch"
        unique_together = (("statement_day", "request_no", "kind"),)


class ServiceFee(Model):
    """A platform service fee an operator charged an organisation (for a lot, or none), price including tax."""

    id = fields.BigIntField(primary_key=True)
    organisation_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField(null=True)
    item = fields.CharField(max_length=100)
    amount_fen = fields.BigIntField()
    created_by = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "service_fee"


class Invoice(Model):
    """An electronic invoice (数电发票) the provider issued for a fee: blue, or red (红字) reversing a blue one, each
    with its own number, amounts in fen, price including tax."""

    id = fields.BigIntField(primary_key=True)
    serial = fields.CharField(max_length=40, unique=True)  # ours, the provider's idempotency key
    invoice_no = fields.CharField(max_length=32, unique=True)
    colour = fields.CharField(max_length=8)  # blue | red
    fee_id = fields.BigIntField(db_index=True)
    original_id = fields.BigIntField(null=True)
    buyer_org_id = fields.BigIntField(db_index=True)
    buyer_name = fields.CharField(max_length=200)
    buyer_tax_id = fields.CharField(max_length=18)
    item = fields.CharField(max_length=100)
    amount_fen = fields.BigIntField()  # including tax; negative on a red invoice
    tax_rate_bp = fields.IntField()  # basis points: 600 is 6%
    tax_fen = fields.BigIntField()
    status = fields.CharField(max_length=16)  # issued | reversed
    reason: str | None = fields.TextField(null=True)  # the red invoice's reason
    document_id = fields.BigIntField(null=True)
    issued_by = fields.BigIntField()
    issued_at = fields.DatetimeField()
    reversed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invoice"


class InvoiceProviderToken(Model):
    """The invoice provider's access token shared by every process of a deployment, per token URL and app key:
    sealed under the key-encryption keys (never plain), and when it is to be renewed."""

    id = fields.BigIntField(primary_key=True)
    token_url = fields.CharField(max_length=300)
    app_key = fields.CharField(max_length=64)
    sealed_token = fields.TextField()  # a key_encryption envelope bound to the token URL and app key
    renew_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "invoice_provider_token"
        unique_together = (("token_url", "app_key"),)
