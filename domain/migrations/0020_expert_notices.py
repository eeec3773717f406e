"""Notices to drawn experts: the text and the voice call, the answer, the deadline."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0019_sms')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExpertNotice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('draw_id', fields.BigIntField(db_index=True)),
                ('lot_id', fields.BigIntField(db_index=True)),
                ('expert_id', fields.BigIntField(db_index=True)),
                ('phone', fields.CharField(max_length=11)),
                ('status', fields.CharField(max_length=16)),
                ('call_status', fields.CharField(max_length=16)),
                ('call_provider', fields.CharField(null=True, max_length=16)),
                ('call_id', fields.CharField(null=True, db_index=True, max_length=64)),
                ('call_attempts', fields.IntField(default=0)),
                ('call_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=80)),
                ('answer_due_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('answered_by', fields.CharField(null=True, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'expert_notice', 'app': 'palmtrade', 'unique_together': (('draw_id', 'expert_id'),), 'pk_attr': 'id', 'table_description': 'An expert drawn for a lot being told (voice call, SMS, the app) and answering: confirmed, declined or not'},
            bases=['Model'],
        ),
    ]
