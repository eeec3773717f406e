"""SMS messages queued with their sealed parameters, and each try at a provider (the delivery record)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0018_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SmsMessage',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phone', fields.CharField(db_index=True, max_length=11)),
                ('template', fields.CharField(max_length=32)),
                ('params_sealed', fields.TextField(null=True, unique=False)),
                ('status', fields.CharField(max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('time_critical', fields.BooleanField(default=False)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=80)),
                ('provider', fields.CharField(null=True, max_length=16)),
                ('provider_id', fields.CharField(null=True, max_length=64)),
                ('last_code', fields.CharField(null=True, max_length=80)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reported_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_message', 'app': 'palmtrade', 'indexes': [Index(fields=['status', 'due_at']), Index(fields=['provider', 'provider_id'])], 'pk_attr': 'id', 'table_description': 'One templated text to one number, queued in the transaction that asked for it and sent by the SMS'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SmsAttempt',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message', fields.ForeignKeyField('palmtrade.SmsMessage', source_field='message_id', db_constraint=True, to_field='id', related_name='tries', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=16)),
                ('outcome', fields.CharField(max_length=16)),
                ('code', fields.CharField(null=True, max_length=80)),
                ('provider_id', fields.CharField(null=True, max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'sms_attempt', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': "One try of one SMS at one provider, with the provider's answer: the delivery record."},
            bases=['Model'],
        ),
    ]
