from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0010_expert_draws')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Award',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.OneToOneField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='award', on_delete=OnDelete.RESTRICT)),
                ('candidate_id', fields.BigIntField()),
                ('organisation_id', fields.BigIntField()),
                ('price_fen', fields.BigIntField()),
                ('confirmation_no', fields.CharField(unique=True, max_length=40)),
                ('status', fields.CharField(max_length=16)),
                ('awarded_by', fields.BigIntField(null=True)),
                ('awarded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('confirmed_by', fields.BigIntField(null=True)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('contract_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('contract_no', fields.CharField(null=True, max_length=64)),
                ('contract_amount_fen', fields.BigIntField(null=True)),
                ('contract_signed_on', fields.DateField(null=True)),
                ('contract_recorded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('contract_overdue_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('performance_recorded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_check_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'result_award', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'The award of a lot (中标) to one candidate, with its result confirmation (成交确认书) number,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Candidate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='candidates', on_delete=OnDelete.RESTRICT)),
                ('rank', fields.IntField()),
                ('organisation_id', fields.BigIntField()),
                ('sealed_bid_id', fields.BigIntField()),
                ('price_fen', fields.BigIntField()),
                ('score_centi', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'result_candidate', 'app': 'palmtrade', 'unique_together': (('lot_id', 'rank'),), 'pk_attr': 'id', 'table_description': "A winning-bid candidate (中标候选人) ranked by the committee's report, at most 3 per lot."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Evaluation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.OneToOneField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='evaluation', on_delete=OnDelete.RESTRICT)),
                ('method', fields.CharField(max_length=24)),
                ('weights', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('committee', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(max_length=16)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('reported_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('report', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('report_sha256', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'evaluation', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': "The committee's evaluation of one lot: the method and weights fixed when it starts (from the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Score',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('evaluation', fields.ForeignKeyField('palmtrade.Evaluation', source_field='evaluation_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.CASCADE)),
                ('expert_id', fields.BigIntField()),
                ('sealed_bid_id', fields.BigIntField()),
                ('compliant', fields.BooleanField()),
                ('reason', fields.TextField(null=True, unique=False)),
                ('technical_centi', fields.IntField(null=True)),
                ('commercial_centi', fields.IntField(null=True)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'evaluation_score', 'app': 'palmtrade', 'unique_together': (('evaluation_id', 'expert_id', 'sealed_bid_id'),), 'pk_attr': 'id', 'table_description': "The judgement by one expert of one decrypted bid: compliant or not (with the reason), and for"},
            bases=['Model'],
        ),
    ]
