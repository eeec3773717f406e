"""Indexes for the retention purges (domain/common/retention.py and the areas' purges), on SQLite and PostgreSQL.

Each purge reads `WHERE <age condition> AND id > :after ORDER BY id LIMIT :batch`, then deletes those ids. Without an
index on the age column the only way in is the primary key: PostgreSQL walks it from the oldest row, and the last batch
of every run, finding fewer rows than it asks for, reads the whole table to its end (for push_delivery, 90 days of
pushes, about 555 rows per 1,000 requests). With these the planner reads only the rows past their retention:

- push_delivery (created_at): push_delivery.purge, `status IN (final) AND created_at <= now - retention`;
- notification (created_at): notification.purge, `created_at <= now - retention`;
- refresh_token (expires_at), and (revoked_at) over revoked tokens only: refresh_token.purge,
  `expires_at <= cutoff OR revoked_at <= cutoff` (a bitmap OR of the two).

The migration builds them plainly, holding writers of each table for one scan (a second or so per million rows). A
deployment whose tables are already large builds them first by hand, without holding writers, and the migration then
finds them (IF NOT EXISTS):

    CREATE INDEX CONCURRENTLY IF NOT EXISTS push_delivery_created_at ON push_delivery (created_at);
    CREATE INDEX CONCURRENTLY IF NOT EXISTS notification_created_at ON notification (created_at);
    CREATE INDEX CONCURRENTLY IF NOT EXISTS refresh_token_expires_at ON refresh_token (expires_at);
    CREATE INDEX CONCURRENTLY IF NOT EXISTS refresh_token_revoked_at ON refresh_token (revoked_at)
        WHERE revoked_at IS NOT NULL;
"""

from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.schema_editor.base import BaseSchemaEditor
from tortoise.migrations.schema_generator.state_apps import StateApps

INDEXES = {
    "push_delivery_created_at": "push_delivery (created_at)",
    "notification_created_at": "notification (created_at)",
    "refresh_token_expires_at": "refresh_token (expires_at)",
    "refresh_token_revoked_at": "refresh_token (revoked_at) WHERE revoked_at IS NOT NULL",
}


async def build(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    for name, definition in INDEXES.items():
        await schema_editor.client.execute_script(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


async def drop(apps: StateApps, schema_editor: BaseSchemaEditor) -> None:
    for name in INDEXES:
        await schema_editor.client.execute_script(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("palmtrade", "0024_bid_in_one_statement")]  # noqa: RUF012

    initial = False

    operations = [  # noqa: RUF012
        ops.RunPython(build, drop),
    ]
