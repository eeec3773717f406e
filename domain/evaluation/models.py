"""The verifiable expert draw (专家抽取) for a lot's evaluation committee."""

from __future__ import annotations

from typing import Any

from tortoise import fields

from domain.db import Model


class ExpertDraw(Model):
    """One draw (the first, or a replacement 补抽) for a lot: committed before the bid deadline,
    revealed after it, its seed derived from the revealed secret and the bid receipts.

    eligible and selected are lists of expert ids, kept so that anyone can recompute the draw.
    """

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="expert_draws", on_delete=fields.RESTRICT
    )
    lot_id: int
    round = fields.IntField()
    specialty = fields.CharField(max_length=64)
    size = fields.IntField()
    commitment = fields.CharField(max_length=64)
    committed_by = fields.BigIntField()
    committed_at = fields.DatetimeField()
    secret = fields.CharField(max_length=128, null=True)
    receipts_digest = fields.CharField(max_length=64, null=True)
    seed = fields.CharField(max_length=64, null=True)
    eligible: list[int] | None = fields.JSONField(null=True)
    selected: list[int] | None = fields.JSONField(null=True)
    replaces: list[int] | None = fields.JSONField(null=True)
    reason = fields.TextField(null=True)
    status = fields.CharField(max_length=16)
    revealed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "expert_draw"
        unique_together = (("lot_id", "round"),)


class Evaluation(Model):
    """The committee's evaluation of one lot: the method and weights fixed when it starts (from the
    lot's configuration), then the report once every member handed in a complete score sheet.

    report holds the ranking with every figure that led to it, report_sha256 its digest.
    """

    id = fields.BigIntField(primary_key=True)
    lot: fields.OneToOneRelation[Model] = fields.OneToOneField(
        "palmtrade.Lot", related_name="evaluation", on_delete=fields.RESTRICT
    )
    lot_id: int
    method = fields.CharField(max_length=24)
    weights: dict[str, Any] = fields.JSONField()
    committee: list[int] = fields.JSONField()
    status = fields.CharField(max_length=16)
    started_at = fields.DatetimeField()
    reported_at = fields.DatetimeField(null=True)
    report: dict[str, Any] | None = fields.JSONField(null=True)
    report_sha256 = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "evaluation"


class Score(Model):
    """The judgement by one expert of one decrypted bid: compliant or not (with the reason), and for
    comprehensive scoring the technical and commercial points in hundredths of a point."""

    id = fields.BigIntField(primary_key=True)
    evaluation: fields.ForeignKeyRelation[Evaluation] = fields.ForeignKeyField(
        "palmtrade.Evaluation", related_name="scores", on_delete=fields.CASCADE
    )
    evaluation_id: int
    expert_id = fields.BigIntField()
    sealed_bid_id = fields.BigIntField()
    compliant = fields.BooleanField()
    reason = fields.TextField(null=True)
    technical_centi = fields.IntField(null=True)
    commercial_centi = fields.IntField(null=True)
    submitted_at = fields.DatetimeField()

    class Meta:
        table = "evaluation_score"
        unique_together = (("evaluation_id", "expert_id", "sealed_bid_id"),)


class ExpertNotice(Model):
    """An expert drawn for a lot being told (voice call, SMS, the app) and answering: confirmed, declined or not
    answered by `answer_due_at`; a decline or no answer asks the operator for a replacement draw.

    The notice names the lot's time and place to report, never its bidders.
    """

    id = fields.BigIntField(primary_key=True)
    draw_id = fields.BigIntField(db_index=True)
    lot_id = fields.BigIntField(db_index=True)
    expert_id = fields.BigIntField(db_index=True)
    phone = fields.CharField(max_length=11)
    status = fields.CharField(max_length=16)
    call_status = fields.CharField(max_length=16)
    call_provider = fields.CharField(max_length=16, null=True)
    call_id = fields.CharField(max_length=64, null=True, db_index=True)
    call_attempts = fields.IntField(default=0)
    call_due_at = fields.DatetimeField(null=True)
    lease_until = fields.DatetimeField(null=True)
    lease_owner = fields.CharField(max_length=80, null=True)
    answer_due_at = fields.DatetimeField(db_index=True)
    answered_at = fields.DatetimeField(null=True)
    answered_by = fields.CharField(max_length=16, null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "expert_notice"
        unique_together = (("draw_id", "expert_id"),)


class QualificationCriterion(Model):
    """A qualification condition of a lot under post-qualification (资格后审), set while the lot is a draft: what
    kind of condition, what the bidder must show, and whether failing it rejects the bid (mandatory)."""

    id = fields.BigIntField(primary_key=True)
    lot: fields.ForeignKeyRelation[Model] = fields.ForeignKeyField(
        "palmtrade.Lot", related_name="qualification_criteria", on_delete=fields.RESTRICT
    )
    lot_id: int
    position = fields.IntField()
    kind = fields.CharField(max_length=24)
    description = fields.TextField()
    mandatory = fields.BooleanField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "qualification_criterion"
        unique_together = (("lot_id", "position"),)


class QualificationJudgement(Model):
    """One member's judgement of one bid against one criterion: met or not, with the reason when not."""

    id = fields.BigIntField(primary_key=True)
    evaluation: fields.ForeignKeyRelation[Evaluation] = fields.ForeignKeyField(
        "palmtrade.Evaluation", related_name="qualification_judgements", on_delete=fields.CASCADE
    )
    evaluation_id: int
    expert_id = fields.BigIntField()
    sealed_bid_id = fields.BigIntField()
    criterion_id = fields.BigIntField()
    passed = fields.BooleanField()
    reason = fields.TextField(null=True)
    judged_at = fields.DatetimeField()

    class Meta:
        table = "qualification_judgement"
        unique_together = (("evaluation_id", "expert_id", "sealed_bid_id", "criterion_id"),)


class QualificationOutcome(Model):
    """The committee's conclusion on one bid once every member judged every criterion: qualified, or rejected with
    the mandatory criteria it failed by a majority, their votes and the members' reasons (failures)."""

    id = fields.BigIntField(primary_key=True)
    evaluation: fields.ForeignKeyRelation[Evaluation] = fields.ForeignKeyField(
        "palmtrade.Evaluation", related_name="qualification_outcomes", on_delete=fields.CASCADE
    )
    evaluation_id: int
    sealed_bid_id = fields.BigIntField()
    organisation_id = fields.BigIntField()
    qualified = fields.BooleanField()
    failures: list[dict[str, Any]] = fields.JSONField()
    decided_at = fields.DatetimeField()

    class Meta:
        table = "qualification_outcome"
        unique_together = (("evaluation_id", "sealed_bid_id"),)
