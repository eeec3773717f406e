"""Drawn experts get pushes: a device or a notification belongs to a user or to an expert."""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0020_expert_notices')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Device',
            name='user',
            field=fields.ForeignKeyField('palmtrade.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Device',
            name='expert',
            field=fields.ForeignKeyField('palmtrade.Expert', source_field='expert_id', null=True, db_constraint=True, to_field='id', related_name='devices', on_delete=OnDelete.CASCADE),
        ),
        ops.AddIndex(
            model_name='Device',
            index=Index(fields=['expert_id', 'installation_id']),
        ),
        ops.AlterField(
            model_name='Notification',
            name='user',
            field=fields.ForeignKeyField('palmtrade.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='Notification',
            name='expert',
            field=fields.ForeignKeyField('palmtrade.Expert', source_field='expert_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.CASCADE),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['expert_id', 'id']),
        ),
    ]
