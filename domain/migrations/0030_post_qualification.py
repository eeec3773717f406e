"""Tables for post-qualification criteria and the experts' judgements (issue 22)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0029_negotiation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='QualificationCriterion',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='qualification_criteria', on_delete=OnDelete.RESTRICT)),
                ('position', fields.IntField()),
                ('kind', fields.CharField(max_length=24)),
                ('description', fields.TextField(unique=False)),
                ('mandatory', fields.BooleanField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'qualification_criterion', 'app': 'palmtrade', 'unique_together': (('lot_id', 'position'),), 'pk_attr': 'id', 'table_description': 'A qualification condition of a lot under post-qualification (资格后审), set while the lot is a draft: what'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QualificationJudgement',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('evaluation', fields.ForeignKeyField('palmtrade.Evaluation', source_field='evaluation_id', db_constraint=True, to_field='id', related_name='qualification_judgements', on_delete=OnDelete.CASCADE)),
                ('expert_id', fields.BigIntField()),
                ('sealed_bid_id', fields.BigIntField()),
                ('criterion_id', fields.BigIntField()),
                ('passed', fields.BooleanField()),
                ('reason', fields.TextField(null=True, unique=False)),
                ('judged_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'qualification_judgement', 'app': 'palmtrade', 'unique_together': (('evaluation_id', 'expert_id', 'sealed_bid_id', 'criterion_id'),), 'pk_attr': 'id', 'table_description': "One member's judgement of one bid against one criterion: met or not, with the reason when not."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QualificationOutcome',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('evaluation', fields.ForeignKeyField('palmtrade.Evaluation', source_field='evaluation_id', db_constraint=True, to_field='id', related_name='qualification_outcomes', on_delete=OnDelete.CASCADE)),
                ('sealed_bid_id', fields.BigIntField()),
                ('organisation_id', fields.BigIntField()),
                ('qualified', fields.BooleanField()),
                ('failures', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('decided_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'qualification_outcome', 'app': 'palmtrade', 'unique_together': (('evaluation_id', 'sealed_bid_id'),), 'pk_attr': 'id', 'table_description': "The committee's conclusion on one bid once every member judged every criterion: qualified, or rejected with"},
            bases=['Model'],
        ),
    ]
