from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0004_search_published_at')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Device',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('palmtrade.User', source_field='user_id', db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.CASCADE)),
                ('provider', fields.CharField(max_length=16)),
                ('token', fields.CharField(max_length=512)),
                ('installation_id', fields.CharField(null=True, max_length=64)),
                ('platform', fields.CharField(max_length=16)),
                ('app_version', fields.CharField(max_length=32)),
                ('locale', fields.CharField(max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'device', 'app': 'palmtrade', 'unique_together': (('provider', 'token'),), 'indexes': [Index(fields=['user_id', 'installation_id'])], 'pk_attr': 'id', 'table_description': 'A phone or kiosk app install that receives pushes through one provider (FCM, or a vendor).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('message_id', fields.UUIDField(unique=True)),
                ('user', fields.ForeignKeyField('palmtrade.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(max_length=40)),
                ('title_zh', fields.CharField(max_length=200)),
                ('body_zh', fields.TextField(unique=False)),
                ('title_en', fields.CharField(max_length=200)),
                ('body_en', fields.TextField(unique=False)),
                ('object_type', fields.CharField(max_length=40)),
                ('object_id', fields.CharField(max_length=64)),
                ('event_id', fields.UUIDField()),
                ('time_critical', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('deleted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'palmtrade', 'indexes': [Index(fields=['user_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One notification in one user inbox, rendered in Chinese and English when it was made.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationPreference',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.OneToOneField('palmtrade.User', source_field='user_id', db_constraint=True, to_field='id', related_name='notification_preference', on_delete=OnDelete.CASCADE)),
                ('muted', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('quiet_from', fields.SmallIntField(null=True)),
                ('quiet_to', fields.SmallIntField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification_preference', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'What a user wants pushed: muted (kind, channel) pairs and quiet hours in Beijing time.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PushDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notification', fields.ForeignKeyField('palmtrade.Notification', source_field='notification_id', db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.CASCADE)),
                ('device', fields.ForeignKeyField('palmtrade.Device', source_field='device_id', null=True, db_constraint=True, to_field='id', related_name='deliveries', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharField(max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('lease_owner', fields.CharField(null=True, max_length=80)),
                ('last_error', fields.CharField(null=True, max_length=200)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'push_delivery', 'app': 'palmtrade', 'unique_together': (('notification_id', 'device_id'),), 'indexes': [Index(fields=['status', 'due_at']), Index(fields=['device_id'])], 'pk_attr': 'id', 'table_description': 'One notification pushed to one device: pending until the provider accepts or refuses it.'},
            bases=['Model'],
        ),
    ]
