"""announcement_search.published_at on PostgreSQL: the newest matches are picked without reading announcements.

search() ranks only the newest CANDIDATES matches (see domain/publication/search.py); with the
publication instant beside the tsvector, picking them reads only the search table. SQLite's FTS5
table is unchanged: its candidates come from `announcement` by primary key.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

POSTGRES_FORWARD = [
    "ALTER TABLE announcement_search ADD COLUMN IF NOT EXISTS published_at TIMESTAMPTZ",
    "UPDATE announcement_search s SET published_at = a.published_at FROM announcement a"
    " WHERE a.id = s.announcement_id AND s.published_at IS DISTINCT FROM a.published_at",
    "ALTER TABLE announcement_search ALTER COLUMN published_at SET NOT NULL",
]
POSTGRES_BACKWARD = ["ALTER TABLE announcement_search DROP COLUMN IF EXISTS published_at"]


def _postgres(schema_editor: BaseSchemaEditor) -> bool:
    dialect = schema_editor.client.capabilities.dialect
    if dialect not in ("sqlite", "postgres"):
        raise RuntimeError(f"no full-text index for {dialect}")
    return bool(dialect == "postgres")


async def add_published_at(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if _postgres(schema_editor):
        for statement in POSTGRES_FORWARD:
            await schema_editor.client.execute_script(statement)


async def drop_published_at(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    if _postgres(schema_editor):
        for statement in POSTGRES_BACKWARD:
            await schema_editor.client.execute_script(statement)


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0003_search")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(add_published_at, drop_published_at),
    ]
