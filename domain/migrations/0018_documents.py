"""Documents: stored objects, documents, uploads under way and downloads; the key a sealed bid was opened with
(kept once the bid is opened, so its files can be decrypted by the chronograph)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0017_auction_bidder_rules')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Document',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('size', fields.BigIntField()),
                ('name', fields.CharField(max_length=255)),
                ('media_type', fields.CharField(max_length=128)),
                ('kind', fields.CharField(max_length=16)),
                ('purpose', fields.CharField(max_length=32)),
                ('owner_type', fields.CharField(max_length=32)),
                ('owner_id', fields.BigIntField()),
                ('lot_id', fields.BigIntField(null=True, db_index=True)),
                ('organisation_id', fields.BigIntField(null=True)),
                ('uploaded_by', fields.BigIntField(null=True)),
                ('scan_status', fields.CharField(max_length=16)),
                ('scan_signature', fields.CharField(null=True, max_length=200)),
                ('scanned_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=1)),
                ('supersedes_id', fields.BigIntField(null=True)),
                ('superseded_by_id', fields.BigIntField(null=True)),
                ('opened_id', fields.BigIntField(null=True)),
                ('open_error', fields.CharField(null=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document', 'app': 'palmtrade', 'indexes': [Index(fields=['owner_type', 'owner_id', 'purpose']), Index(fields=['purpose', 'scan_status'])], 'pk_attr': 'id', 'table_description': 'A file as the platform knows it: what it is for, whose it is, what it is, and whether it was scanned.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DocumentDownload',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document_id', fields.BigIntField(db_index=True)),
                ('lot_id', fields.BigIntField(null=True, db_index=True)),
                ('purpose', fields.CharField(max_length=32)),
                ('user_id', fields.BigIntField(null=True)),
                ('organisation_id', fields.BigIntField(null=True)),
                ('expert_id', fields.BigIntField(null=True)),
                ('terminal_id', fields.BigIntField(null=True)),
                ('device_id', fields.CharField(null=True, max_length=128)),
                ('ip', fields.CharField(null=True, max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document_download', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'Who was let download which document, from where: supervisors read it, collusion checks use it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StoredObject',
            fields=[
                ('sha256', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('size', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'stored_object', 'app': 'palmtrade', 'pk_attr': 'sha256', 'table_description': 'Bytes kept once in the blob store under their SHA-256, however many documents name them.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Upload',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=32)),
                ('purpose', fields.CharField(max_length=32)),
                ('owner_type', fields.CharField(max_length=32)),
                ('owner_id', fields.BigIntField()),
                ('lot_id', fields.BigIntField(null=True)),
                ('name', fields.CharField(max_length=255)),
                ('declared_size', fields.BigIntField()),
                ('declared_sha256', fields.CharField(max_length=64)),
                ('supersedes_id', fields.BigIntField(null=True)),
                ('user_id', fields.BigIntField()),
                ('organisation_id', fields.BigIntField(null=True)),
                ('received', fields.BigIntField(default=0)),
                ('parts', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(db_index=True, max_length=16)),
                ('error_code', fields.CharField(null=True, max_length=64)),
                ('document_id', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'document_upload', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'An upload granted by a mutation and fed by the resumable endpoint (tus 1.0) until its bytes are all in.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='SealedBid',
            name='opened_key',
            field=fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
