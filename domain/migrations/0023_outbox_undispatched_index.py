"""A partial index over the outbox's undispatched events, for the dispatcher's claim (SQLite and PostgreSQL).

The claim reads `WHERE dispatched_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now) ORDER BY id
LIMIT n`. With only the index on dispatched_at (which holds every row) PostgreSQL either walks the primary key from
the oldest event, through every dispatched one, or sorts; this index holds the undispatched events alone, in id
order, so the claim reads a few pages however many dispatched events the table keeps (measured in bench/
outbox_claim.py; README: Production layout, retention). Dispatched events are purged by outbox.purge anyway.

The migration builds it plainly, holding writers of the outbox for one scan of the table (a second or so per million
rows). A deployment whose outbox is already large builds it first by hand, without holding writers, and the
migration then finds it (IF NOT EXISTS):

    CREATE INDEX CONCURRENTLY IF NOT EXISTS outbox_event_undispatched ON outbox_event (id) WHERE dispatched_at IS NULL;
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

NAME = "outbox_event_undispatched"


async def build(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    client = schema_editor.client
    await client.execute_script(f"CREATE INDEX IF NOT EXISTS {NAME} ON outbox_event (id) WHERE dispatched_at IS NULL")


async def drop(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0022_signing_keys_sealed")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(build, drop),
    ]
