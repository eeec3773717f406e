"""A GIN index over recent announcements only (PostgreSQL): common words are searched among recent matches.

A word in tens of thousands of announcements made every search read all of its index entries and
rows to find the newest CANDIDATES; the partial index holds only the last two to three months, so
such a search reads only those. search.roll_recent_index moves it on monthly (a periodic job).
SQLite is unchanged.

Frozen here as domain/publication/search.roll_recent_index built it when this migration was written (the
index named after its bound, midnight UTC on the first of the month 60 days before now); it imports nothing
of the domain.
"""

from datetime import UTC, datetime, timedelta

from tortoise import migrations
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

RECENT_DAYS = 60
RECENT_PREFIX = "announcement_search_recent_"


async def _recent_indexes(client: BaseDBAsyncClient, valid_only: bool = True) -> list[str]:
    """The recent indexes by name (an interrupted CONCURRENTLY build leaves an invalid one)."""
    rows = await client.execute_query_dict(
        "SELECT c.relname AS name, i.indisvalid AS valid FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid "
        "WHERE t.relname = 'announcement_search' AND t.relnamespace = current_schema()::regnamespace "
        "AND c.relname LIKE $1",
        [RECENT_PREFIX + "%"],
    )
    found = []
    for row in rows:
        if valid_only and not row["valid"]:
            continue
        name = str(row["name"])
        try:
            datetime.strptime(name.removeprefix(RECENT_PREFIX), "%Y%m%d")
        except ValueError:
            continue
        found.append(name)
    return found


async def build(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    start = (datetime.now(UTC) - timedelta(days=RECENT_DAYS)).date().replace(day=1)
    bound = datetime(start.year, start.month, 1, tzinfo=UTC)
    name = f"{RECENT_PREFIX}{bound:%Y%m%d}"
    existing = await _recent_indexes(client, valid_only=False)
    valid = await _recent_indexes(client)
    if name in existing and name not in valid:
        await client.execute_script(f"DROP INDEX IF EXISTS {name}")
        existing.remove(name)
    if name not in existing:
        await client.execute_script(
            f"CREATE INDEX IF NOT EXISTS {name} ON announcement_search USING GIN (vector) "
            f"WHERE published_at >= '{bound:%Y-%m-%d %H:%M:%S}+00'::timestamptz"
        )
    for old in existing:
        if old != name:
            await client.execute_script(f"DROP INDEX IF EXISTS {old}")


async def drop(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        for name in await _recent_indexes(client):
            await client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0005_notifications")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(build, drop),
    ]
