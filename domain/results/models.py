"""Results of a tendered lot: the committee's candidates, the award, its confirmation, the contract
record and the performance record."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


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
    candidate_id = fields.BigIntField(null=True)  # None: the winner of an online auction or a listing, no ranking
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


class AwardWithdrawal(Model):
    """A winner that left its award (招标投标法实施条例 第五十五条): who, on which ground, by whom, and what followed:
    the next candidate's result notice, or the lot's failure."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    award_id = fields.BigIntField()
    candidate_id = fields.BigIntField()
    rank = fields.IntField()
    organisation_id = fields.BigIntField()
    price_fen = fields.BigIntField()
    confirmation_no = fields.CharField(max_length=40)
    awarded_at = fields.DatetimeField()
    reason = fields.CharField(max_length=32)
    detail = fields.TextField()
    complaint_id = fields.BigIntField(null=True)
    withdrawn_by = fields.BigIntField(null=True)
    withdrawn_at = fields.DatetimeField()
    next_announcement_id = fields.BigIntField(null=True)  # the next candidate's result notice
    failed = fields.BooleanField(default=False)

    class Meta:
        table = "result_award_withdrawal"


class Cancellation(Model):
    """A cancellation (终止招标/废标) of one lot or of every open lot of a project: reason and legal basis, documents,
    one termination announcement per lot, and the objection window after it."""

    id = fields.BigIntField(primary_key=True)
    project_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField(null=True, db_index=True)  # None: the whole project
    lot_ids: list[int] = fields.JSONField()
    announcement_ids: list[int] = fields.JSONField()
    reason = fields.CharField(max_length=32)
    basis = fields.CharField(max_length=200)
    explanation = fields.TextField()
    document_ids: list[int] = fields.JSONField()
    status = fields.CharField(max_length=24)
    cancelled_by = fields.BigIntField(null=True)
    cancelled_at = fields.DatetimeField()
    objection_ends_at = fields.DatetimeField()
    effective_at = fields.DatetimeField(null=True)
    next_check_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "result_cancellation"


class Contract(Model):
    """The contract of an award: its file, both parties' signatures, its changes, acceptance and payments; or, for a
    contract signed off the platform and recorded by contractRecord (origin "recorded"), its number, amount and day."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(unique=True)
    award_id = fields.BigIntField()
    organisation_id = fields.BigIntField()  # the supplier (the winner)
    contract_no = fields.CharField(max_length=64)
    original_fen = fields.BigIntField()
    amount_fen = fields.BigIntField()  # after changes
    document_ids: list[int] = fields.JSONField()
    documents_sha256: list[str] = fields.JSONField()
    status = fields.CharField(max_length=16)
    drafted_by = fields.BigIntField(null=True)
    drafted_at = fields.DatetimeField()
    buyer_signature_id = fields.BigIntField(null=True)
    buyer_signed_at = fields.DatetimeField(null=True)
    supplier_signature_id = fields.BigIntField(null=True)
    supplier_signed_at = fields.DatetimeField(null=True)
    signed_on = fields.DateField(null=True)
    announcement_id = fields.BigIntField(null=True)
    accepted_on = fields.DateField(null=True)
    acceptance_passed = fields.BooleanField(null=True)
    acceptance_summary = fields.TextField(null=True)
    acceptance_document_ids: list[int] | None = fields.JSONField(null=True)
    accepted_at = fields.DatetimeField(null=True)
    terminated_at = fields.DatetimeField(null=True)
    termination_reason = fields.CharField(max_length=32, null=True)
    termination_explanation = fields.TextField(null=True)
    termination_announcement_id = fields.BigIntField(null=True)
    origin = fields.CharField(max_length=16, default="platform", db_default="platform")  # platform | recorded
    updated_at = fields.DatetimeField()

    class Meta:
        table = "result_contract"


class ContractChange(Model):
    """A change (变更) or a termination of a signed contract, proposed by one party and signed by both: its reason
    and basis, the amount before and after, its documents, both signatures, and once in effect the announcement that
    published it (a change's; a termination's is the contract's termination_announcement_id)."""

    id = fields.BigIntField(primary_key=True)
    contract_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField()
    seq = fields.IntField()
    kind = fields.CharField(max_length=16, default="change", db_default="change")  # change | termination
    # proposed, effective, declined, withdrawn (rows from before proposals existed were in effect)
    status = fields.CharField(max_length=16, default="proposed", db_default="effective")
    reason = fields.CharField(max_length=32)
    basis = fields.CharField(max_length=200)
    rationale = fields.TextField()
    before_fen = fields.BigIntField()
    after_fen = fields.BigIntField()
    document_ids: list[int] = fields.JSONField()
    documents_sha256: list[str] | None = fields.JSONField(null=True)
    proposed_by = fields.CharField(max_length=8, null=True)  # the proposing side: buyer | supplier
    buyer_signature_id = fields.BigIntField(null=True)
    buyer_signed_at = fields.DatetimeField(null=True)
    supplier_signature_id = fields.BigIntField(null=True)
    supplier_signed_at = fields.DatetimeField(null=True)
    decided_by = fields.BigIntField(null=True)  # who declined or withdrew it
    decided_at = fields.DatetimeField(null=True)  # when it took effect, was declined or withdrawn
    decision_note = fields.TextField(null=True)
    announcement_id = fields.BigIntField(null=True)
    changed_by = fields.BigIntField(null=True)  # who proposed it
    changed_at = fields.DatetimeField()  # when it was proposed

    class Meta:
        table = "result_contract_change"
        unique_together = (("contract_id", "seq"),)


class ContractPayment(Model):
    """A payment to the supplier under the contract, as the buyer recorded it."""

    id = fields.BigIntField(primary_key=True)
    contract_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField()
    amount_fen = fields.BigIntField()
    paid_on = fields.DateField()
    milestone = fields.CharField(max_length=200)
    reference = fields.CharField(max_length=64)
    recorded_by = fields.BigIntField(null=True)
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "result_contract_payment"
        unique_together = (("contract_id", "reference"),)
