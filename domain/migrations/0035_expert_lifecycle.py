"""Expert applications, training, availability, appraisal, penalties, fees and declared conflicts (issue 23)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0034_credit_rating_exchange")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ExpertApplication",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("user_id", fields.BigIntField(db_index=True)),
                ("name", fields.CharField(max_length=50)),
                ("id_number_hash", fields.CharField(db_index=True, max_length=64)),
                ("phone", fields.CharField(max_length=11)),
                (
                    "specialties",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("title", fields.CharField(max_length=64)),
                ("employer_name", fields.CharField(max_length=200)),
                ("employer_id", fields.BigIntField(null=True)),
                (
                    "document_ids",
                    fields.JSONField(encoder=functools.partial(dumps, separators=(",", ":")), decoder=loads),
                ),
                ("status", fields.CharField(db_index=True, max_length=16)),
                ("reason", fields.TextField(null=True, unique=False)),
                ("reviewed_by", fields.BigIntField(null=True)),
                ("reviewed_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("expert_id", fields.BigIntField(null=True)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_application",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A person's application to join the pool, with specialties, title, employer and qualification documents.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertTraining",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("expert_id", fields.BigIntField(db_index=True)),
                ("course", fields.CharField(max_length=200)),
                ("hours", fields.IntField()),
                ("completed_on", fields.DateField()),
                ("passed", fields.BooleanField()),
                ("recorded_by", fields.BigIntField()),
                ("recorded_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_training",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A training an expert attended (专家培训): the course, its hours, when, and whether the expert passed.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertBusyDay",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("expert_id", fields.BigIntField(db_index=True)),
                ("day", fields.DateField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_busy_day",
                "app": "palmtrade",
                "unique_together": (("expert_id", "day"),),
                "pk_attr": "id",
                "table_description": "A day (Asia/Shanghai) the expert said it cannot evaluate: no draw for a lot sitting that day selects it.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertConflict",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("expert_id", fields.BigIntField(db_index=True)),
                ("relation", fields.CharField(max_length=24)),
                ("organisation_id", fields.BigIntField(null=True)),
                ("credit_code", fields.CharField(null=True, max_length=18)),
                ("entity_name", fields.CharField(null=True, max_length=200)),
                ("note", fields.TextField(null=True, unique=False)),
                ("declared_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_conflict",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A conflict the expert declared (回避): a former employer, a relative's employer or another named entity, by",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertConflictReport",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("expert_id", fields.BigIntField(db_index=True)),
                ("conflict_id", fields.BigIntField()),
                ("reported_by", fields.CharField(max_length=16)),
                ("reported_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_conflict_report",
                "app": "palmtrade",
                "unique_together": (("lot_id", "expert_id"),),
                "pk_attr": "id",
                "table_description": "A conflict discovered after the expert was drawn for a lot: recorded, and the operators asked to replace the",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertAppraisal",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("expert_id", fields.BigIntField(db_index=True)),
                ("by_role", fields.CharField(max_length=16)),
                ("by_user", fields.BigIntField()),
                ("by_org", fields.BigIntField(null=True)),
                ("attendance", fields.IntField()),
                ("diligence", fields.IntField()),
                ("conduct", fields.IntField()),
                ("note", fields.TextField(null=True, unique=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_appraisal",
                "app": "palmtrade",
                "unique_together": (("lot_id", "expert_id", "by_role"),),
                "pk_attr": "id",
                "table_description": "An appraisal of an expert's work on one lot (专家考核评价), by the operator or by the tenderer's side:",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertPenalty",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("expert_id", fields.BigIntField(db_index=True)),
                ("kind", fields.CharField(max_length=16)),
                ("reason", fields.TextField(unique=False)),
                ("lot_id", fields.BigIntField(null=True)),
                ("starts_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("ends_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("by_user", fields.BigIntField()),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_penalty",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "A penalty on an expert: a warning, a suspension from draws for a period, or removal from the pool.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertExit",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("expert_id", fields.BigIntField(unique=True)),
                ("kind", fields.CharField(max_length=16)),
                ("reason", fields.TextField(unique=False)),
                ("by_user", fields.BigIntField(null=True)),
                ("exited_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_exit",
                "app": "palmtrade",
                "pk_attr": "id",
                "table_description": "An expert leaving the pool: at its own request, or by the operator under a rule (age, health, the rules).",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ExpertFee",
            fields=[
                ("id", fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ("lot_id", fields.BigIntField(db_index=True)),
                ("expert_id", fields.BigIntField(db_index=True)),
                ("amount_fen", fields.BigIntField()),
                ("recorded_by", fields.BigIntField()),
                ("recorded_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "expert_fee",
                "app": "palmtrade",
                "unique_together": (("lot_id", "expert_id"),),
                "pk_attr": "id",
                "table_description": "The fee paid to an expert for evaluating one lot (评审劳务报酬), integer fen.",
            },
            bases=["Model"],
        ),
    ]
