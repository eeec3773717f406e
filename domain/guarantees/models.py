"""Electronic bid guarantees (电子投标保函): applied for by a bidder, signed by a guarantor, verified here."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class Guarantee(Model):
    """One guarantee letter through its life: applied, issued or declined, claimed, paid or rejected,
    released or expired. The letter itself is the guarantor-signed JWS, stored as received."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="guarantees", on_delete=fields.RESTRICT
    )
    lot_id: int
    registration: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Registration", related_name="guarantees", on_delete=fields.RESTRICT
    )
    registration_id: int
    applicant_id = fields.BigIntField()
    guarantor_id = fields.BigIntField()
    beneficiary_id = fields.BigIntField()
    amount_fen = fields.BigIntField()
    valid_until = fields.DatetimeField()
    status = fields.CharField(max_length=16)
    letter_no = fields.CharField(max_length=64, null=True, unique=True)
    verification_code = fields.CharField(max_length=16, null=True)
    letter_jws = fields.TextField(null=True)
    letter_sha256 = fields.CharField(max_length=64, null=True)
    key_id = fields.CharField(max_length=128, null=True)
    # the account the premium is paid from (digits only); read by collusion checks, never shown to other bidders
    payer_account = fields.CharField(max_length=64, null=True)
    applied_by = fields.BigIntField()
    applied_at = fields.DatetimeField()
    decided_by = fields.BigIntField(null=True)
    decided_at = fields.DatetimeField(null=True)
    decline_reason = fields.TextField(null=True)
    claim_reason = fields.TextField(null=True)
    claim_amount_fen = fields.BigIntField(null=True)
    claimed_by = fields.BigIntField(null=True)
    claimed_at = fields.DatetimeField(null=True)
    claim_decided_by = fields.BigIntField(null=True)
    claim_decided_at = fields.DatetimeField(null=True)
    claim_reject_reason: str | None = fields.TextField(null=True)
    released_at = fields.DatetimeField(null=True)
    expired_at = fields.DatetimeField(null=True)
    # 保函展期: the expiry the applicant asked its guarantor to extend to (pending while set), when and by whom; why the
    # guarantor refused the last request; when an amended letter last extended it (domain/guarantees/extension)
    extension_until = fields.DatetimeField(null=True)
    extension_requested_at = fields.DatetimeField(null=True)
    extension_requested_by = fields.BigIntField(null=True)
    extension_decline_reason: str | None = fields.TextField(null=True)
    extended_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "guarantee"
        indexes = (("lot_id", "applicant_id"), ("guarantor_id", "status"))
