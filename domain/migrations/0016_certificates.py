from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0015_guarantee_payer')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ActSignature',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('act', fields.CharField(max_length=64)),
                ('object_type', fields.CharField(max_length=64)),
                ('object_id', fields.CharField(max_length=64)),
                ('lot_id', fields.BigIntField(null=True, db_index=True)),
                ('user_id', fields.BigIntField()),
                ('organisation_id', fields.BigIntField(null=True)),
                ('certificate_id', fields.BigIntField(null=True)),
                ('fingerprint', fields.CharField(max_length=64)),
                ('certificate_der', fields.TextField(unique=False)),
                ('subject', fields.TextField(unique=False)),
                ('algorithm', fields.CharField(max_length=32)),
                ('content', fields.TextField(unique=False)),
                ('content_sha256', fields.CharField(max_length=64)),
                ('signature', fields.TextField(unique=False)),
                ('verified', fields.BooleanField()),
                ('verification', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('event_id', fields.UUIDField(unique=True)),
            ],
            options={'table': 'act_signature', 'app': 'palmtrade', 'indexes': [Index(fields=['object_type', 'object_id'])], 'pk_attr': 'id', 'table_description': 'The electronic signature a trading act carried: the canonical content signed, the signature, the'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='BoundCertificate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('palmtrade.User', source_field='user_id', db_constraint=True, to_field='id', related_name='certificates', on_delete=OnDelete.CASCADE)),
                ('organisation_id', fields.BigIntField()),
                ('fingerprint', fields.CharField(unique=True, max_length=64)),
                ('der', fields.TextField(unique=False)),
                ('subject', fields.TextField(unique=False)),
                ('issuer', fields.TextField(unique=False)),
                ('serial', fields.CharField(max_length=64)),
                ('credit_code', fields.CharField(null=True, max_length=18)),
                ('key_type', fields.CharField(max_length=16)),
                ('not_before', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('not_after', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('bound_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'bound_certificate', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A certificate a user bound to their account after proving they hold its key. An organisation'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CertificateAuthority',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=200)),
                ('subject', fields.TextField(unique=False)),
                ('fingerprint', fields.CharField(unique=True, max_length=64)),
                ('der', fields.TextField(unique=False)),
                ('is_root', fields.BooleanField()),
                ('not_before', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('not_after', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('crl_url', fields.CharField(null=True, max_length=500)),
                ('is_active', fields.BooleanField(default=True, db_default=True)),
                ('created_by', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'certificate_authority', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A CA certificate the platform recognises (CA互认): a root is a trust anchor, an intermediate may'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CertificateChallenge',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('challenge_hash', fields.CharField(unique=True, max_length=64)),
                ('purpose', fields.CharField(max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'certificate_challenge', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A one-time challenge for certificate sign-in or binding: 2 minutes, used once, only its SHA-256'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RevocationList',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('authority', fields.ForeignKeyField('palmtrade.CertificateAuthority', source_field='authority_id', db_constraint=True, to_field='id', related_name='crls', on_delete=OnDelete.CASCADE)),
                ('der', fields.TextField(unique=False)),
                ('sha256', fields.CharField(max_length=64)),
                ('this_update', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('next_update', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_count', fields.IntField()),
                ('uploaded_by', fields.BigIntField(null=True)),
                ('uploaded_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'certificate_crl', 'app': 'palmtrade', 'indexes': [Index(fields=['authority_id', 'this_update'])], 'pk_attr': 'id', 'table_description': 'A CRL uploaded for one recognised CA, the newest by this_update is the one in force.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='amr',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
    ]
