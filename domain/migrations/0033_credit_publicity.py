"""Public credit records, credit commitments and credit repair (issue 23)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0032_negotiation_invitations")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name='CreditPublication',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('palmtrade.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='credit_publications', on_delete=OnDelete.RESTRICT)),
                ('record_id', fields.BigIntField(null=True, unique=True)),
                ('punishment_id', fields.BigIntField(null=True, unique=True)),
                ('lot_id', fields.BigIntField(null=True, db_index=True)),
                ('category', fields.CharField(null=True, max_length=32)),
                ('severity', fields.CharField(max_length=16)),
                ('title', fields.CharField(max_length=300)),
                ('summary', fields.TextField(unique=False)),
                ('announcement_id', fields.BigIntField(null=True)),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('public_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('repairable_from', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('withdrawn_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('withdrawn_reason', fields.CharField(null=True, max_length=16)),
                ('next_check_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_publication', 'app': 'palmtrade', 'indexes': [Index(fields=['withdrawn_at', 'published_at'])], 'pk_attr': 'id', 'table_description': 'A bad-conduct record or a joint punishment in public view (信用信息公示) until `public_until`, or until a'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditCommitment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('palmtrade.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='credit_commitments', on_delete=OnDelete.RESTRICT)),
                ('lot_id', fields.BigIntField(db_index=True)),
                ('stage', fields.CharField(max_length=16)),
                ('version', fields.IntField()),
                ('text_sha256', fields.CharField(max_length=64)),
                ('signature_id', fields.BigIntField(null=True)),
                ('signed_by', fields.BigIntField()),
                ('signed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('breached_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('breach_record_id', fields.BigIntField(null=True)),
            ],
            options={'table': 'credit_commitment', 'app': 'palmtrade', 'unique_together': (('organisation_id', 'lot_id', 'stage'),), 'pk_attr': 'id', 'table_description': 'A credit commitment (信用承诺书) an organisation signed for a lot, at registration or with its bid.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditRepair',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('publication', fields.ForeignKeyField('palmtrade.CreditPublication', source_field='publication_id', db_constraint=True, to_field='id', related_name='repairs', on_delete=OnDelete.RESTRICT)),
                ('organisation_id', fields.BigIntField(db_index=True)),
                ('statement', fields.TextField(unique=False)),
                ('document_ids', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(max_length=16)),
                ('applied_by', fields.BigIntField()),
                ('applied_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('decided_by', fields.BigIntField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision_note', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'credit_repair', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'An application for credit repair (信用修复) of one public record, with its documents and the decision.'},
            bases=['Model'],
        ),
    ]
