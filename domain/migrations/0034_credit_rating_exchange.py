"""Credit rating rules, incentives and the credit exchange with other platforms (issue 23)."""

from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0033_credit_publicity")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.CreateModel(
            name='CreditPartner',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=64)),
                ('name', fields.CharField(max_length=200)),
                ('client_id', fields.CharField(db_index=True, max_length=64)),
                ('accredited_by', fields.BigIntField()),
                ('accredited_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_partner', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A platform of the credit alliance accredited by an operator: its code, the integrator client it imports'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditImport',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('palmtrade.CreditPartner', source_field='partner_id', db_constraint=True, to_field='id', related_name='imports', on_delete=OnDelete.RESTRICT)),
                ('package_sha256', fields.CharField(max_length=64)),
                ('kid', fields.CharField(max_length=128)),
                ('issued_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('counts', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('imported_by', fields.CharField(max_length=64)),
                ('imported_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_import', 'app': 'palmtrade', 'unique_together': (('partner_id', 'package_sha256'),), 'pk_attr': 'id', 'table_description': 'One package received from a partner, once: a package sent again is recognised by its SHA-256.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditImportItem',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('palmtrade.CreditPartner', source_field='partner_id', db_constraint=True, to_field='id', related_name='items', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharField(max_length=16)),
                ('source_ref', fields.CharField(max_length=128)),
                ('credit_code', fields.CharField(db_index=True, max_length=18)),
                ('item', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('digest', fields.CharField(max_length=64)),
                ('record_id', fields.BigIntField(null=True)),
                ('punishment_id', fields.BigIntField(null=True)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_import_item', 'app': 'palmtrade', 'unique_together': (('partner_id', 'kind', 'source_ref'),), 'pk_attr': 'id', 'table_description': 'An item a partner sent (a record or a punishment), by its own reference: the local row it became, or none yet'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditPartnerKey',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('partner', fields.ForeignKeyField('palmtrade.CreditPartner', source_field='partner_id', db_constraint=True, to_field='id', related_name='keys', on_delete=OnDelete.RESTRICT)),
                ('kid', fields.CharField(unique=True, max_length=128)),
                ('public_jwk', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_by', fields.BigIntField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_partner_key', 'app': 'palmtrade', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditRating',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.OneToOneField('palmtrade.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='credit_rating', on_delete=OnDelete.RESTRICT)),
                ('score', fields.IntField()),
                ('grade', fields.CharField(max_length=2)),
                ('rules_version', fields.IntField()),
                ('contributions', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_rating', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': "An organisation's current credit score and grade, with the contribution of each record behind it."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditRatingChange',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organisation', fields.ForeignKeyField('palmtrade.Organisation', source_field='organisation_id', db_constraint=True, to_field='id', related_name='credit_rating_changes', on_delete=OnDelete.RESTRICT)),
                ('score', fields.IntField()),
                ('grade', fields.CharField(max_length=2)),
                ('rules_version', fields.IntField()),
                ('trigger', fields.CharField(max_length=48)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_rating_change', 'app': 'palmtrade', 'indexes': [Index(fields=['organisation_id', 'computed_at'])], 'pk_attr': 'id', 'table_description': "The rating history: a row each time an organisation's score, grade or rule version changed, and why."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditRatingRules',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('version', fields.IntField(unique=True)),
                ('rules', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('note', fields.TextField(unique=False)),
                ('published_by', fields.BigIntField()),
                ('published_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_rating_rules', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A published version of the rating rule table (weights per category, decay, grades): public, never edited.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LotCreditIncentive',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.OneToOneField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='credit_incentive', on_delete=OnDelete.CASCADE)),
                ('rules', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('set_by', fields.BigIntField()),
                ('set_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'lot_credit_incentive', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'The credit incentives (守信激励) a lot applies by grade, set while it is a draft: part of its documents.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SecurityRelief',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', db_constraint=True, to_field='id', related_name='security_reliefs', on_delete=OnDelete.CASCADE)),
                ('organisation_id', fields.BigIntField()),
                ('grade', fields.CharField(max_length=2)),
                ('score', fields.IntField()),
                ('rules_version', fields.IntField()),
                ('kind', fields.CharField(max_length=24)),
                ('percent', fields.IntField()),
                ('base_fen', fields.BigIntField()),
                ('amount_due_fen', fields.BigIntField()),
                ('granted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credit_security_relief', 'app': 'palmtrade', 'unique_together': (('lot_id', 'organisation_id'),), 'pk_attr': 'id', 'table_description': "A lot's incentive applied to one bidder at registration: the security it owes instead of the lot's amount."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CreditRecord',
            name='source_platform',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='CreditRecord',
            name='source_ref',
            field=fields.CharField(null=True, max_length=128),
        ),
        ops.AddField(
            model_name='JointPunishment',
            name='source_platform',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='JointPunishment',
            name='source_ref',
            field=fields.CharField(null=True, max_length=128),
        ),
    ]
