"""Competitive negotiation (竞争性谈判) and consultation (竞争性磋商): the panel's rounds with each supplier,
the sealed final offers (最后报价) and the panel's score sheets."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class Negotiation(Model):
    """The negotiation of one lot after its opening: the panel (the drawn committee and the purchaser's
    representative), the suppliers whose first responses opened, the rounds held, the final-offer window and
    the report. The method and weights are fixed from the lot's configuration when it starts."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(unique=True)
    procedure = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16)
    method = fields.CharField(max_length=24)
    weights: dict[str, Any] = fields.JSONField()
    committee: list[int] = fields.JSONField()
    # the purchaser's representatives on the panel (users of the tenderer), counted with the experts by the
    # procedure's panel rule (procedures.panel_rule)
    representatives: list[int] | None = fields.JSONField(null=True)
    suppliers: list[int] = fields.JSONField()
    round = fields.IntField(default=1)
    # when the current round closes: the suppliers' responses are refused after it (null: no deadline set)
    round_closes_at = fields.DatetimeField(null=True)
    rounds_min = fields.IntField()
    rounds_max = fields.IntField()
    offers_open_at = fields.DatetimeField(null=True)
    offers_close_at = fields.DatetimeField(null=True)
    decryption_ends_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField()
    reported_at = fields.DatetimeField(null=True)
    report: dict[str, Any] | None = fields.JSONField(null=True)
    report_sha256 = fields.CharField(max_length=64, null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "negotiation"


class NegotiationSupplier(Model):
    """One supplier in a negotiation: its thread with the panel (the owner of its round documents and final-offer
    files, domain/documents purposes negotiation_document and final_offer_file) and, when the panel eliminated it
    between rounds, when, in which round, by whom and why."""

    id = fields.BigIntField(primary_key=True)
    negotiation_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField()
    organisation_id = fields.BigIntField()
    status = fields.CharField(max_length=16)  # negotiating | eliminated
    eliminated_at = fields.DatetimeField(null=True)
    eliminated_round = fields.IntField(null=True)
    eliminated_by_user = fields.BigIntField(null=True)
    eliminated_by_expert = fields.BigIntField(null=True)
    reason = fields.TextField(null=True)

    class Meta:
        table = "negotiation_supplier"
        unique_together = (("negotiation_id", "organisation_id"),)


class NegotiationMessage(Model):
    """One document of a round between the panel and one supplier: the panel's (questions, revised
    requirements) or the supplier's revised response. Only that supplier and the panel ever read it
    (政府采购法 第三十八条(四): 不得透露与谈判有关的其他供应商的技术资料、价格和其他信息)."""

    id = fields.BigIntField(primary_key=True)
    negotiation_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField()
    round = fields.IntField()
    organisation_id = fields.BigIntField()
    side = fields.CharField(max_length=8)  # panel | supplier
    text = fields.TextField()
    documents: list[dict[str, str]] = fields.JSONField()
    price_fen = fields.BigIntField(null=True)  # a supplier's revised quotation in the round (not binding)
    author_user_id = fields.BigIntField(null=True)
    author_expert_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "negotiation_message"
        indexes = (("negotiation_id", "organisation_id", "round"),)


class FinalOffer(Model):
    """A supplier's sealed final offer (最后报价), in the sealed-bid format of domain/tendering/sealing.py:
    ciphertext only until the supplier hands its key over after the window closes."""

    id = fields.BigIntField(primary_key=True)
    negotiation_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField()
    organisation_id = fields.BigIntField()
    submitted_by = fields.BigIntField()
    ciphertext = fields.TextField()
    ciphertext_sha256 = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16)
    submitted_at = fields.DatetimeField()
    ended_at = fields.DatetimeField(null=True)
    decrypted_at = fields.DatetimeField(null=True)
    price_fen = fields.BigIntField(null=True)
    documents: list[dict[str, Any]] | None = fields.JSONField(null=True)

    class Meta:
        table = "negotiation_final_offer"
        indexes = (("negotiation_id", "organisation_id", "status"),)


class NegotiationScore(Model):
    """One panel expert's judgement of one decrypted final offer: compliant or not (with the reason) and, for a
    consultation (综合评分法), technical and commercial points in hundredths."""

    id = fields.BigIntField(primary_key=True)
    negotiation_id = fields.BigIntField(db_index=True)
    expert_id = fields.BigIntField()
    final_offer_id = fields.BigIntField()
    compliant = fields.BooleanField()
    reason = fields.TextField(null=True)
    technical_centi = fields.IntField(null=True)
    commercial_centi = fields.IntField(null=True)
    submitted_at = fields.DatetimeField()

    class Meta:
        table = "negotiation_score"
        unique_together = (("negotiation_id", "expert_id", "final_offer_id"),)
