import functools
from json import dumps, loads

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps


# GB/T 2260 divisions shipped with the platform, as they were when this migration was written (frozen: a later
# change to domain/publication/regions.py needs a migration of its own): code, name, parent code, level
# (1 province, 2 city, 3 district or county)
REGIONS: list[tuple[str, str, str | None, int]] = [
    ('370000', '山东省', None, 1),
    ('370100', '济南市', '370000', 2),
    ('370102', '历下区', '370100', 3),
    ('370103', '市中区', '370100', 3),
    ('370104', '槐荫区', '370100', 3),
    ('370105', '天桥区', '370100', 3),
    ('370112', '历城区', '370100', 3),
    ('370113', '长清区', '370100', 3),
    ('370114', '章丘区', '370100', 3),
    ('370115', '济阳区', '370100', 3),
    ('370116', '莱芜区', '370100', 3),
    ('370117', '钢城区', '370100', 3),
    ('370124', '平阴县', '370100', 3),
    ('370126', '商河县', '370100', 3),
    ('370200', '青岛市', '370000', 2),
    ('370202', '市南区', '370200', 3),
    ('370203', '市北区', '370200', 3),
    ('370211', '黄岛区', '370200', 3),
    ('370212', '崂山区', '370200', 3),
    ('370213', '李沧区', '370200', 3),
    ('370214', '城阳区', '370200', 3),
    ('370215', '即墨区', '370200', 3),
    ('370281', '胶州市', '370200', 3),
    ('370283', '平度市', '370200', 3),
    ('370285', '莱西市', '370200', 3),
    ('370300', '淄博市', '370000', 2),
    ('370400', '枣庄市', '370000', 2),
    ('370500', '东营市', '370000', 2),
    ('370600', '烟台市', '370000', 2),
    ('370700', '潍坊市', '370000', 2),
    ('370800', '济宁市', '370000', 2),
    ('370900', '泰安市', '370000', 2),
    ('371000', '威海市', '370000', 2),
    ('371100', '日照市', '370000', 2),
    ('371300', '临沂市', '370000', 2),
    ('371400', '德州市', '370000', 2),
    ('371500', '聊城市', '370000', 2),
    ('371600', '滨州市', '370000', 2),
    ('371700', '菏泽市', '370000', 2),
]


async def load_regions(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    """GB/T 2260 divisions shipped with the platform (data, not schema)."""
    values = ", ".join(
        "('{}', '{}', {}, {})".format(code, name, f"'{parent}'" if parent else "NULL", level)
        for code, name, parent, level in REGIONS
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
