from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0013_terminals')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CollusionAlert',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot_id', fields.BigIntField()),
                ('signal', fields.CharField(max_length=32)),
                ('category', fields.CharField(db_index=True, max_length=32)),
                ('region_code', fields.CharField(max_length=6)),
                ('organisations', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('evidence', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('history', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'collusion_alert', 'app': 'palmtrade', 'unique_together': (('lot_id', 'signal'),), 'pk_attr': 'id', 'table_description': 'One collusion signal raised on one lot, with its evidence and its handling by a supervisor.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NetworkFact',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot_id', fields.BigIntField(db_index=True)),
                ('organisation_id', fields.BigIntField()),
                ('user_id', fields.BigIntField(null=True)),
                ('action', fields.CharField(max_length=32)),
                ('ip', fields.CharField(null=True, max_length=64)),
                ('device_id', fields.CharField(null=True, max_length=128)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'network_fact', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'The address and device a bidder acted from at a moment that matters for one lot.'},
            bases=['Model'],
        ),
    ]
