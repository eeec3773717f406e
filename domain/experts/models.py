"""The expert pool's lifecycle (评标专家库管理): applications, training, availability, declared conflicts, appraisals,
penalties, exits and fees. The expert itself stays domain/accounts' Expert; these rows name it by id."""

from __future__ import annotations

from tortoise import fields

from domain.db import Model


class ExpertApplication(Model):
    """A person's application to join the pool, with specialties, title, employer and qualification documents.

    An operator approves it (the expert joins the pool) or rejects it with a reason.

    The identity number is kept only as a keyed hash, as Expert keeps it."""

    id = fields.BigIntField(primary_key=True)
    user_id = fields.BigIntField(db_index=True)
    name = fields.CharField(max_length=50)
    id_number_hash = fields.CharField(max_length=64, db_index=True)
    phone = fields.CharField(max_length=11)
    specialties: list[str] = fields.JSONField()
    title = fields.CharField(max_length=64)
    employer_name = fields.CharField(max_length=200)
    employer_id = fields.BigIntField(null=True)
    document_ids: list[int] = fields.JSONField()
    status = fields.CharField(max_length=16, db_index=True)
    reason = fields.TextField(null=True)
    reviewed_by = fields.BigIntField(null=True)
    reviewed_at = fields.DatetimeField(null=True)
    expert_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "expert_application"


class ExpertTraining(Model):
    """A training an expert attended (专家培训): the course, its hours, when, and whether the expert passed."""

    id = fields.BigIntField(primary_key=True)
    expert_id = fields.BigIntField(db_index=True)
    course = fields.CharField(max_length=200)
    hours = fields.IntField()
    completed_on = fields.DateField()
    passed = fields.BooleanField()
    recorded_by = fields.BigIntField()
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "expert_training"


class ExpertBusyDay(Model):
    """A day (Asia/Shanghai) the expert said it cannot evaluate: no draw for a lot sitting that day selects it."""

    id = fields.BigIntField(primary_key=True)
    expert_id = fields.BigIntField(db_index=True)
    day = fields.DateField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "expert_busy_day"
        unique_together = (("expert_id", "day"),)


class ExpertConflict(Model):
    """A conflict the expert declared (回避): a former employer, a relative's employer or another named entity, by
    registered organisation, unified social credit code or name; the draw keeps the expert off that entity's lots."""

    id = fields.BigIntField(primary_key=True)
    expert_id = fields.BigIntField(db_index=True)
    relation = fields.CharField(max_length=24)
    organisation_id = fields.BigIntField(null=True)
    credit_code = fields.CharField(max_length=18, null=True)
    entity_name = fields.CharField(max_length=200, null=True)
    note = fields.TextField(null=True)
    declared_at = fields.DatetimeField()

    class Meta:
        table = "expert_conflict"


class ExpertConflictReport(Model):
    """A conflict discovered after the expert was drawn for a lot: recorded, and the operators asked to replace the
    expert through a replacement draw (补抽)."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    expert_id = fields.BigIntField(db_index=True)
    conflict_id = fields.BigIntField()
    reported_by = fields.CharField(max_length=16)
    reported_at = fields.DatetimeField()

    class Meta:
        table = "expert_conflict_report"
        unique_together = (("lot_id", "expert_id"),)


class ExpertAppraisal(Model):
    """An appraisal of an expert's work on one lot (专家考核评价), by the operator or by the tenderer's side:
    attendance, diligence and conduct, each 0 to 10."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    expert_id = fields.BigIntField(db_index=True)
    by_role = fields.CharField(max_length=16)
    by_user = fields.BigIntField()
    by_org = fields.BigIntField(null=True)
    attendance = fields.IntField()
    diligence = fields.IntField()
    conduct = fields.IntField()
    note = fields.TextField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "expert_appraisal"
        unique_together = (("lot_id", "expert_id", "by_role"),)


class ExpertPenalty(Model):
    """A penalty on an expert: a warning, a suspension from draws for a period, or removal from the pool."""

    id = fields.BigIntField(primary_key=True)
    expert_id = fields.BigIntField(db_index=True)
    kind = fields.CharField(max_length=16)
    reason = fields.TextField()
    lot_id = fields.BigIntField(null=True)
    starts_at = fields.DatetimeField()
    ends_at = fields.DatetimeField(null=True)
    by_user = fields.BigIntField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "expert_penalty"


class ExpertExit(Model):
    """An expert leaving the pool: at its own request, or by the operator under a rule (age, health, the rules)."""

    id = fields.BigIntField(primary_key=True)
    expert_id = fields.BigIntField(unique=True)
    kind = fields.CharField(max_length=16)
    reason = fields.TextField()
    by_user = fields.BigIntField(null=True)
    exited_at = fields.DatetimeField()

    class Meta:
        table = "expert_exit"


class ExpertFee(Model):
    """The fee paid to an expert for evaluating one lot (评审劳务报酬), integer fen."""

    id = fields.BigIntField(primary_key=True)
    lot_id = fields.BigIntField(db_index=True)
    expert_id = fields.BigIntField(db_index=True)
    amount_fen = fields.BigIntField()
    recorded_by = fields.BigIntField()
    recorded_at = fields.DatetimeField()

    class Meta:
        table = "expert_fee"
        unique_together = (("lot_id", "expert_id"),)
