"""Sealed electronic bids (电子投标文件): ciphertext only, until the bidder decrypts at the opening."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class SealedBid(Model):
    """One submission of a sealed bid. A replacement supersedes the previous row, a withdrawal ends it.

    The platform holds no key: price_fen and documents stay empty until the bidder hands its key
    over at the opening and the ciphertext decrypts.
    """

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="sealed_bids", on_delete=fields.RESTRICT
    )
    lot_id: int
    registration_id = fields.BigIntField()
    organisation_id = fields.BigIntField()
    submitted_by = fields.BigIntField()
    ciphertext = fields.TextField()
    ciphertext_sha256 = fields.CharField(max_length=64)
    size = fields.IntField()
    status = fields.CharField(max_length=16)
    submitted_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    decrypted_at = fields.DatetimeField(null=True)
    price_fen = fields.BigIntField(null=True)
    documents: list[dict[str, Any]] | None = fields.JSONField(null=True)
    decrypt_error = fields.CharField(max_length=64, null=True)
    # the key the bidder handed over at the opening (no secret once the bid is open): its files are opened with it
    opened_key: dict[str, str] | None = fields.JSONField(null=True)
    # a material change of the documents after submission (domain/publication/clarifications): the clarification
    # that flagged the bid, and when its bidder confirmed it stands
    flagged_by = fields.BigIntField(null=True)
    flagged_at = fields.DatetimeField(null=True)
    confirmed_at = fields.DatetimeField(null=True)
    # the bid stood at the deadline without the lot's security in place (a guarantee a moved deadline left short):
    # {"code": ..., "params": {...}} of the refusal a new bid would have met (domain/tendering/opening.mark_unsecured)
    security_shortfall: dict[str, Any] | None = fields.JSONField(null=True)

    class Meta:
        table = "sealed_bid"
        indexes = (("lot_id", "organisation_id", "status"),)


class Opening(Model):
    """The remote opening (不见面开标) of one lot: scheduled at the bid deadline, then a decryption
    window in which each bidder hands over its key, then closed with its record published."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Lot", related_name="opening", on_delete=fields.RESTRICT
    )
    lot_id: int
    status = fields.CharField(max_length=16)
    deadline = fields.DatetimeField()
    window_ends_at = fields.DatetimeField(null=True)
    bids = fields.IntField(default=0)
    started_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "opening"


class OpeningObjection(Model):
    """An objection raised on the spot during the opening, and the answer given in the record."""

    id = fields.BigIntField(primary_key=True)
    opening: fields.ForeignKeyRelation[Opening] = fields.ForeignKeyField(
        "palmtrade.Opening", related_name="objections", on_delete=fields.CASCADE
    )
    opening_id: int
    organisation_id = fields.BigIntField()
    raised_by = fields.BigIntField()
    text = fields.TextField()
    raised_at = fields.DatetimeField()
    answer = fields.TextField(null=True)
    answered_by = fields.BigIntField(null=True)
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "opening_objection"
