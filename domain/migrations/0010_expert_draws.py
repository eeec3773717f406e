from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0009_sealed_bids_and_openings')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExpertDraw',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='expert_draws', on_delete=OnDelete.RESTRICT)),
                ('round', fields.IntField()),
                ('specialty', fields.CharField(max_length=64)),
                ('size', fields.IntField()),
                ('commitment', fields.CharField(max_length=64)),
                ('committed_by', fields.BigIntField()),
                ('committed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('secret', fields.CharField(null=True, max_length=128)),
                ('receipts_digest', fields.CharField(null=True, max_length=64)),
                ('seed', fields.CharField(null=True, max_length=64)),
                ('eligible', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('selected', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('replaces', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reason', fields.TextField(null=True, unique=False)),
                ('status', fields.CharField(max_length=16)),
                ('revealed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'expert_draw', 'app': 'palmtrade', 'unique_together': (('lot_id', 'round'),), 'pk_attr': 'id', 'table_description': 'One draw (the first, or a replacement 补抽) for a lot: committed before the bid deadline,'},
            bases=['Model'],
        ),
    ]
