"""Results of a tendered lot: the committee's candidates, the award, its confirmation, the contract
record and the performance record."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Candidate(Model):
    """A winning-bid candidate (中标候选人) ranked by the committee's report, at most 3 per lot."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="candidates", on_delete=fields.RESTRICT
    )
    lot_id: int
    rank = fields.IntField()
    organisation_id = fields.BigIntField()
    sealed_bid_id = fields.BigIntField()
    price_fen = fields.BigIntField()
    score_centi = fields.IntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "result_candidate"
        unique_together = (("lot_id", "rank"),)


class Award(Model):
    """The award of a lot (中标) to one candidate, with its result confirmation (成交确认书) number,
    the winner's acknowledgement, the contract record due within 30 days, and the performance record."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Lot", related_name="award", on_delete=fields.RESTRICT
    )
    lot_id: int
    candidate_id = fields.BigIntField()
    organisation_id = fields.BigIntField()
    price_fen = fields.BigIntField()
    confirmation_no = fields.CharField(max_length=40, unique=True)
    status = fields.CharField(max_length=16)
    awarded_by = fields.BigIntField(null=True)
    awarded_at = fields.DatetimeField()
    confirmed_by = fields.BigIntField(null=True)
    confirmed_at = fields.DatetimeField(null=True)
    contract_due_at = fields.DatetimeField()
    contract_no = fields.CharField(max_length=64, null=True)
    contract_amount_fen = fields.BigIntField(null=True)
    contract_signed_on = fields.DateField(null=True)
    contract_recorded_at = fields.DatetimeField(null=True)
    contract_overdue_at = fields.DatetimeField(null=True)
    performance_recorded_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "result_award"
