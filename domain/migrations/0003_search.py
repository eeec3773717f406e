"""Full-text index of published announcements: FTS5 on SQLite, a GIN tsvector table on PostgreSQL.

See domain/publication/search.py for the design. The index lives outside the ORM's models, so
this migration writes its DDL by hand and fills it from the announcements already published.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE announcement_fts USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 0')",
]
SQLITE_BACKWARD = ["DROP TABLE IF EXISTS announcement_fts"]

POSTGRES_FORWARD = [
    "CREATE TABLE announcement_search ("
    " announcement_id BIGINT PRIMARY KEY REFERENCES announcement (id) ON DELETE CASCADE,"
    " vector TSVECTOR NOT NULL"
    ")",
    "CREATE INDEX announcement_search_vector ON announcement_search USING GIN (vector)",
]
POSTGRES_BACKWARD = ["DROP TABLE IF EXISTS announcement_search"]


def _postgres(schema_editor: BaseSchemaEditor) -> bool:
    dialect = schema_editor.client.capabilities.dialect
    if dialect not in ("sqlite", "postgres"):
        raise RuntimeError(f"no full-text index for {dialect}")
    return bool(dialect == "postgres")


async def create_index(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    from domain.publication.search import reindex

    client = schema_editor.client
    for statement in POSTGRES_FORWARD if _postgres(schema_editor) else SQLITE_FORWARD:
        await client.execute_script(statement)
    await reindex(client)


async def drop_index(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    for statement in POSTGRES_BACKWARD if _postgres(schema_editor) else SQLITE_BACKWARD:
        await schema_editor.client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0002_publication")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(create_index, drop_index),
    ]
