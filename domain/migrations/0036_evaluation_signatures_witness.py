"""Signed score sheets and reports, evaluation alerts and witness records (issue 23)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.indexes import Index
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0035_expert_lifecycle')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExpertCertificate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('expert_id', fields.BigIntField(db_index=True)),
                ('fingerprint', fields.CharField(max_length=64, unique=True)),
                ('der', fields.TextField(unique=False)),
                ('subject', fields.TextField(unique=False)),
                ('issuer', fields.TextField(unique=False)),
                ('serial', fields.CharField(max_length=64)),
                ('key_type', fields.CharField(max_length=16)),
                ('not_before', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('not_after', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('bound_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'expert_certificate', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A personal certificate an expert of the pool bound after proving it holds the key (experts are not users of'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ScoreSheet',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('evaluation_id', fields.BigIntField()),
                ('lot_id', fields.BigIntField(db_index=True)),
                ('expert_id', fields.BigIntField()),
                ('opened_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('content', fields.TextField(null=True, unique=False)),
                ('content_sha256', fields.CharField(max_length=64, null=True)),
            ],
            options={'table': 'score_sheet', 'app': 'palmtrade', 'unique_together': (('evaluation_id', 'expert_id'),), 'pk_attr': 'id', 'table_description': "One member's sheet of an evaluation as a whole: when the member first opened the bids, when it handed the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvaluationSignature',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('evaluation_id', fields.BigIntField()),
                ('lot_id', fields.BigIntField(db_index=True)),
                ('expert_id', fields.BigIntField()),
                ('kind', fields.CharField(max_length=16)),
                ('method', fields.CharField(max_length=16)),
                ('content', fields.TextField(unique=False)),
                ('content_sha256', fields.CharField(max_length=64)),
                ('fingerprint', fields.CharField(max_length=64, null=True)),
                ('certificate_der', fields.TextField(null=True, unique=False)),
                ('subject', fields.TextField(null=True, unique=False)),
                ('algorithm', fields.CharField(max_length=32, null=True)),
                ('signature', fields.TextField(null=True, unique=False)),
                ('face_provider', fields.CharField(max_length=16, null=True)),
                ('face_token', fields.CharField(max_length=128, null=True)),
                ('face_result', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('verification', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('superseded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('event_id', fields.UUIDField(unique=True)),
            ],
            options={'table': 'evaluation_signature', 'app': 'palmtrade', 'indexes': [Index(fields=['evaluation_id', 'kind'])], 'pk_attr': 'id', 'table_description': "A member's signature of its score sheet or of the evaluation report: the canonical content, and either the"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FaceVerification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('evaluation_id', fields.BigIntField()),
                ('lot_id', fields.BigIntField()),
                ('expert_id', fields.BigIntField()),
                ('kind', fields.CharField(max_length=16)),
                ('content_sha256', fields.CharField(max_length=64)),
                ('provider', fields.CharField(max_length=16)),
                ('biz_token', fields.CharField(max_length=128, unique=True)),
                ('url', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'face_verification', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': "A face verification (刷脸) started for one member to sign one content: the provider's token and link, used"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WitnessAssignment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot_id', fields.BigIntField(db_index=True)),
                ('user_id', fields.BigIntField()),
                ('organisation_id', fields.BigIntField()),
                ('assigned_by', fields.BigIntField()),
                ('assigned_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'witness_assignment', 'app': 'palmtrade', 'unique_together': (('lot_id', 'user_id'),), 'pk_attr': 'id', 'table_description': "A witness (见证人员) assigned by an operator to attend one lot's opening and evaluation remotely."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WitnessRecord',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot_id', fields.BigIntField(db_index=True)),
                ('user_id', fields.BigIntField()),
                ('organisation_id', fields.BigIntField()),
                ('entries', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(max_length=16)),
                ('content_sha256', fields.CharField(max_length=64, null=True)),
                ('signature_id', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('signed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'witness_record', 'app': 'palmtrade', 'unique_together': (('lot_id', 'user_id'),), 'pk_attr': 'id', 'table_description': "A witness's record of one lot: observations and anomalies as they were entered, then signed with the"},
            bases=['Model'],
        ),
    ]
