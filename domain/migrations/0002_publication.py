import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps


async def load_regions(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """GB/T 2260 divisions shipped with the platform (data, not schema)."""
    from domain.publication.regions import REGIONS, level_of

    values = ", ".join(
        "('{}', '{}', {}, {})".format(code, name, f"'{parent}'" if parent else "NULL", level_of(code))
        for code, name, parent in REGIONS
    )
    await schema_editor.client.execute_script(
        f"INSERT INTO region (code, name, parent_code, level) VALUES {values}"
    )


async def unload_regions(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await schema_editor.client.execute_script("DELETE FROM region")


class Migration(migrations.Migration):
    dependencies = [('palmtrade', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='FeedEntry',
            fields=[
                ('seq', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('event_id', fields.UUIDField(unique=True)),
                ('kind', fields.CharField(max_length=64)),
                ('object_type', fields.CharField(max_length=64)),
                ('object_id', fields.CharField(max_length=64)),
                ('trade_code', fields.CharField(null=True, max_length=32)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('committed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'feed_entry', 'app': 'palmtrade', 'pk_attr': 'seq', 'table_description': 'The integrator change feed: `seq` is assigned in commit order, so readers never miss one.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Project',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('trade_code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=200)),
                ('category', fields.CharField(db_index=True, max_length=32)),
                ('region_code', fields.CharField(db_index=True, max_length=6)),
                ('tenderer_id', fields.BigIntField(db_index=True)),
                ('agency_id', fields.BigIntField(null=True, db_index=True)),
                ('created_by', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'project', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A project (项目) of a tenderer, with one or more lots.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Lot',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('palmtrade.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='lots', on_delete=OnDelete.RESTRICT)),
                ('lot_no', fields.IntField()),
                ('trade_code', fields.CharField(unique=True, max_length=32)),
                ('name', fields.CharField(max_length=200)),
                ('procedure', fields.CharField(max_length=32)),
                ('estimated_price_fen', fields.BigIntField()),
                ('config', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('eligibility', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharField(db_index=True, max_length=24)),
                ('next_check_at', fields.DatetimeField(null=True, db_index=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'lot', 'app': 'palmtrade', 'unique_together': (('project_id', 'lot_no'),), 'pk_attr': 'id', 'table_description': 'A lot (标段/包/标的) with its procedure and per-procedure configuration.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Announcement',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('project', fields.ForeignKeyField('palmtrade.Project', source_field='project_id', db_constraint=True, to_field='id', related_name='announcements', on_delete=OnDelete.RESTRICT)),
                ('lot', fields.ForeignKeyField('palmtrade.Lot', source_field='lot_id', null=True, db_constraint=True, to_field='id', related_name='announcements', on_delete=OnDelete.RESTRICT)),
                ('trade_code', fields.CharField(db_index=True, max_length=32)),
                ('type', fields.CharField(max_length=32)),
                ('status', fields.CharField(max_length=16)),
                ('title', fields.CharField(max_length=300)),
                ('body_html', fields.TextField(unique=False)),
                ('body_text', fields.TextField(unique=False)),
                ('search_text', fields.TextField(unique=False)),
                ('category', fields.CharField(max_length=32)),
                ('region_code', fields.CharField(max_length=6)),
                ('lot_status', fields.CharField(null=True, max_length=24)),
                ('corrects', fields.ForeignKeyField('palmtrade.Announcement', source_field='corrects_id', null=True, db_constraint=True, to_field='id', related_name='corrections', on_delete=OnDelete.RESTRICT)),
                ('publicity_starts_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('publicity_ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published_by', fields.BigIntField(null=True)),
                ('created_by', fields.BigIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'announcement', 'app': 'palmtrade', 'indexes': [Index(fields=['status', 'published_at']), Index(fields=['status', 'category', 'published_at']), Index(fields=['status', 'region_code', 'published_at']), Index(fields=['status', 'type', 'published_at'])], 'pk_attr': 'id', 'table_description': 'A public notice (公告). Once published it never changes: corrections are new notices.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AnnouncementAttachment',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('announcement', fields.ForeignKeyField('palmtrade.Announcement', source_field='announcement_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('name', fields.CharField(max_length=255)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('content_type', fields.CharField(max_length=128)),
            ],
            options={'table': 'announcement_attachment', 'app': 'palmtrade', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Region',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=6)),
                ('name', fields.CharField(max_length=64)),
                ('parent_code', fields.CharField(null=True, db_index=True, max_length=6)),
                ('level', fields.SmallIntField()),
            ],
            options={'table': 'region', 'app': 'palmtrade', 'pk_attr': 'code', 'table_description': 'An administrative division by GB/T 2260 code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SavedSearch',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user_id', fields.BigIntField(db_index=True)),
                ('org_id', fields.BigIntField()),
                ('name', fields.CharField(max_length=100)),
                ('keywords', fields.CharField(max_length=200)),
                ('terms', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('categories', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('regions', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'saved_search', 'app': 'palmtrade', 'pk_attr': 'id', 'table_description': 'A standing query of a user: new matching announcements produce an event for them.'},
            bases=['Model'],
        ),
        ops.RunPython(load_regions, unload_regions),
    ]
