from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0011_evaluation_and_results')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CalendarDay',
            fields=[
                ('day', fields.DateField(primary_key=True, unique=True, db_index=True)),
                ('working', fields.BooleanField()),
                ('name', fields.CharField(max_length=32)),
                ('set_by', fields.BigIntField(null=True)),
                ('set_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'calendar_day', 'app': 'palmtrade', 'pk_attr': 'day', 'table_description': 'A day set by an operator: a public holiday (working false) or an adjusted working day (调休).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Complaint',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='complaints', on_delete=OnDelete.RESTRICT)),
                ('category', fields.CharField(db_index=True, max_length=32)),
                ('organisation_id', fields.BigIntField(db_index=True)),
                ('filed_by', fields.BigIntField()),
                ('objection_id', fields.BigIntField(null=True)),
                ('subject', fields.CharField(max_length=16)),
                ('knew_on', fields.DateField()),
                ('reasons', fields.TextField(unique=False)),
                ('requests', fields.TextField(unique=False)),
                ('evidence', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('filed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accept_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('refused_reason', fields.TextField(null=True, unique=False)),
                ('decide_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('handled_by', fields.BigIntField(null=True)),
                ('decision', fields.CharField(null=True, max_length=16)),
                ('decision_reasons', fields.TextField(null=True, unique=False)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('announcement_id', fields.BigIntField(null=True)),
                ('malicious', fields.BooleanField(default=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('overdue_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_check_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'complaint', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A complaint to the supervisor of the category of the lot: accepted or refused within 3 working'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LotSuspension',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='suspensions', on_delete=OnDelete.RESTRICT)),
                ('complaint_id', fields.BigIntField(null=True)),
                ('reason', fields.TextField(unique=False)),
                ('suspended_by', fields.BigIntField()),
                ('suspended_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lifted_by', fields.BigIntField(null=True)),
                ('lifted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'lot_suspension', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A suspension of a lot by the supervisor handling a complaint: every transition of the lot is'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Objection',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='objections', on_delete=OnDelete.RESTRICT)),
                ('stage', fields.CharField(max_length=16)),
                ('organisation_id', fields.BigIntField(db_index=True)),
                ('raised_by', fields.BigIntField()),
                ('reasons', fields.TextField(unique=False)),
                ('evidence', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answer_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answer', fields.TextField(null=True, unique=False)),
                ('answered_by', fields.BigIntField(null=True)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('overdue_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_check_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'objection', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'An objection to the tenderer: on the tender documents, at the opening or on the candidate'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('tracking_hash', fields.CharField(unique=True, max_length=64)),
                ('lot_id', fields.BigIntField(null=True, db_index=True)),
                ('organisation_id', fields.BigIntField(null=True, db_index=True)),
                ('category', fields.CharField(null=True, db_index=True, max_length=32)),
                ('reporter_user_id', fields.BigIntField(null=True)),
                ('text', fields.TextField(unique=False)),
                ('evidence', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('outcome', fields.TextField(null=True, unique=False)),
                ('handled_by', fields.BigIntField(null=True)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'report', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A report (举报) about a lot or an entity, from anyone, also anonymously: the reporter follows it'},
            bases=['Model'],
        ),
    ]
