from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0012_complaints')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Terminal',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('device_id', fields.CharField(unique=True, max_length=64)),
                ('secret_hash', fields.CharField(max_length=255)),
                ('name', fields.CharField(max_length=100)),
                ('location', fields.CharField(max_length=200)),
                ('region_code', fields.CharField(null=True, max_length=6)),
                ('is_active', fields.BooleanField(default=True)),
                ('created_by', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_seen_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'terminal', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A kiosk registered by an operator: it signs in with its device credential (only the argon2 hash'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='QrChallenge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('terminal', fields.ForeignKeyField('palmtrade.Terminal', source_field='terminal_id', db_constraint=True, to_field='id', related_name='challenges', on_delete=OnDelete.CASCADE)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('approved_by', fields.BigIntField(null=True)),
                ('approved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('redeemed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'qr_challenge', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A sign-in challenge a terminal shows as a QR code: approved once by a signed-in app user within'},
            bases=['Model'],
        ),
    ]
