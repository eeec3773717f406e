from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0008_auctions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Opening',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.OneToOneField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='opening', on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharField(max_length=16)),
                ('deadline', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('window_ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('bids', fields.IntField(default=0)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('next_check_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'opening', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'The remote opening (不见面开标) of one lot: scheduled at the bid deadline, then a decryption'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OpeningObjection',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('opening', fields.ForeignKeyField('palmtrade.Opening', source_field='opening_id', db_constraint=True, to_field='id', related_name='objections', on_delete=OnDelete.CASCADE)),
                ('organisation_id', fields.BigIntField()),
                ('raised_by', fields.BigIntField()),
                ('text', fields.TextField(unique=False)),
                ('raised_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('answer', fields.TextField(null=True, unique=False)),
                ('answered_by', fields.BigIntField(null=True)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'opening_objection', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'An objection raised on the spot during the opening, and the answer given in the record.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SealedBid',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='sealed_bids', on_delete=OnDelete.RESTRICT)),
                ('registration_id', fields.BigIntField()),
                ('organisation_id', fields.BigIntField()),
                ('submitted_by', fields.BigIntField()),
                ('ciphertext', fields.TextField(unique=False)),
                ('ciphertext_sha256', fields.CharField(max_length=64)),
                ('size', fields.IntField()),
                ('status', fields.CharField(max_length=16)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decrypted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('price_fen', fields.BigIntField(null=True)),
                ('documents', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('decrypt_error', fields.CharField(null=True, max_length=64)),
            ],
            options={'table': 'sealed_bid', 'app': 'palmtrade', 'indexes': [Index(fields=['lot_id', 'organisation_id', 'status'])], 'pk_attr': 'id', 'table_description': 'One submission of a sealed bid. A replacement supersedes the previous row, a withdrawal ends it.'},
            bases=['Model'],
        ),
    ]
