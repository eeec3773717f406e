"""A GIN index over recent announcements only (PostgreSQL): common words are searched among recent matches.

A word in tens of thousands of announcements made every search read all of its index entries and
rows to find the newest CANDIDATES; the partial index holds only the last two to three months, so
such a search reads only those. search.roll_recent_index moves it on monthly (a periodic job).
SQLite is unchanged.
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps


async def build(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    from domain.common import clock
    from domain.publication import search

    await search.roll_recent_index(clock.now(), schema_editor.client, concurrently=False)


async def drop(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    from domain.publication import search

    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for name in await search._recent_indexes(client):
            await client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0005_notifications")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(build, drop),
    ]
