"""The retention purges read through an index on their age column (migrations 0023 and 0025), not the primary key
to the table's end; and each deletes in bounded batches, leaving a backlog to the next run. The indexes exist on both
backends; on PostgreSQL the plan of each purge's batch is read with EXPLAIN over a table of 20,000 kept rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from tortoise import connections
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from domain.accounts.models import RefreshToken
from domain.accounts.retention import purge_refresh_tokens
from domain.common.retention import Retention, next_batch
from domain.notifications.models import Notification, PushDelivery
from domain.notifications.retention import FINAL, purge_notifications, purge_push_deliveries
from tests.domain import factories as df

INDEXES = {
    "push_delivery_created_at": "push_delivery",
    "notification_created_at": "notification",
    "refresh_token_expires_at": "refresh_token",
    "refresh_token_revoked_at": "refresh_token",
}
KEPT = 20_000


class _Rollback(Exception):
    pass


async def _index_names(table: str) -> set[str]:
    client = connections.get("default")
    if client.capabilities.dialect == "postgres":
        rows = await client.execute_query_dict("SELECT indexname AS name FROM pg_indexes WHERE tablename = $1", [table])
    else:
        rows = await client.execute_query_dict(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ?", [table]
        )
    return {r["name"] for r in rows}


async def test_each_purged_table_has_an_index_on_its_age_column(db):
    # given the database migrated fresh
    # when each purged table's indexes are read, then the retention's indexes are among them
    for name, table in INDEXES.items():
        assert name in await _index_names(table), name


def _plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [plan]
    for child in plan.get("Plans", []):
        nodes.extend(_plan_nodes(child))
    return nodes


async def _plan(query: QuerySet[Any]) -> list[dict[str, Any]]:
    sql = next_batch(query, 0, 1000).sql(params_inline=True)
    rows = await connections.get("default").execute_query_dict(f"EXPLAIN (FORMAT JSON) {sql}")
    plan = rows[0]["QUERY PLAN"]
    return _plan_nodes((json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"])


async def _seeded(manual_clock: Any) -> datetime:
    """KEPT notifications, each with a sent push, and KEPT refresh tokens, all newer than the cutoff, and 5 of each
    older; statistics taken. Returns the cutoff."""
    client = connections.get("default")
    now = manual_clock.now()
    cutoff = now - timedelta(days=30)
    user = await df.user(await df.organisation())
    for ago, count in ((timedelta(days=1), KEPT), (timedelta(days=60), 5)):
        await client.execute_query(
            "INSERT INTO notification (message_id, kind, title_zh, body_zh, title_en, body_en, object_type,"
            " object_id, event_id, time_critical, created_at, user_id)"
            " SELECT gen_random_uuid(), 'k', 't', 'b', 't', 'b', 'Lot', '1', gen_random_uuid(), false,"
            " $1::timestamptz - g * interval '1 second', $2 FROM generate_series(1, $3) g",
            [now - ago, user.id, count],
        )
        await client.execute_query(
            "INSERT INTO push_delivery (notification_id, status, attempts, due_at, expires_at, created_at)"
            " SELECT id, 'sent', 1, created_at, created_at, created_at FROM notification"
            " WHERE created_at <= $1 AND created_at > $2",
            [now - ago, now - ago - timedelta(days=1)],
        )
        await client.execute_query(
            "INSERT INTO refresh_token (token_hash, family, user_id, created_at, expires_at, amr)"
            " SELECT md5(random()::text) || md5(random()::text), gen_random_uuid(), $1,"
            " $2::timestamptz - interval '30 days', $2::timestamptz + g * interval '1 second', 'pwd'"
            " FROM generate_series(1, $3) g",
            [user.id, now - ago, count],
        )
    await client.execute_script("ANALYZE notification; ANALYZE push_delivery; ANALYZE refresh_token")
    return cutoff


async def test_on_postgresql_each_purge_reads_its_batch_through_its_age_index(db, manual_clock):
    if not db.postgres:
        pytest.skip("the plan is PostgreSQL's; SQLite's indexes are checked above")
    plans: dict[str, list[dict[str, Any]]] = {}

    # given 20,000 kept rows in each purged table and 5 past the retention, with statistics
    try:
        async with in_transaction():
            cutoff = await _seeded(manual_clock)

            # when the plan of each purge's first batch is read
            plans["push_delivery"] = await _plan(PushDelivery.filter(status__in=FINAL, created_at__lte=cutoff))
            plans["notification"] = await _plan(Notification.filter(created_at__lte=cutoff))
            plans["refresh_token"] = await _plan(
                RefreshToken.filter(Q(expires_at__lte=cutoff) | Q(revoked_at__lte=cutoff))
            )
            raise _Rollback
    except _Rollback:
        pass

    # then each reads through its age index, and none scans its table whole
    for table, nodes in plans.items():
        used = {n.get("Index Name") for n in nodes}
        scanned = [n for n in nodes if n["Node Type"] in ("Seq Scan", "Parallel Seq Scan")]
        wanted = {name for name, of in INDEXES.items() if of == table}
        assert wanted <= used, (table, nodes)
        assert not scanned, (table, nodes)


async def _bounded(purge: Callable[[datetime, Retention], Awaitable[int]], now: datetime, rows: int) -> None:
    small = Retention(batch=2, max_batches=2)
    assert await purge(now, small) == 4
    assert await purge(now, small) == rows - 4


async def test_each_purge_deletes_at_most_its_batches_a_run_and_the_next_run_takes_the_rest(db, manual_clock):
    # given 5 pushes, 5 notifications (with no push pending) and 5 refresh tokens past their retention
    user = await df.user(await df.organisation())
    now = manual_clock.now()
    old = now - timedelta(days=400)
    notes = [
        await Notification.create(
            message_id=uuid.uuid4(),
            user_id=user.id,
            kind="k",
            title_zh="t",
            body_zh="b",
            title_en="t",
            body_en="b",
            object_type="Lot",
            object_id="1",
            event_id=uuid.uuid4(),
            created_at=old,
        )
        for _ in range(5)
    ]
    for note in notes:
        await PushDelivery.create(
            notification=note, status="sent", attempts=1, due_at=old, expires_at=old, created_at=old
        )
    for i in range(5):
        await RefreshToken.create(
            token_hash=f"{i:064d}", family=uuid.uuid4(), user=user, created_at=old, expires_at=old, amr="pwd"
        )

    # when each is purged twice with batches of 2 and 2 batches a run
    # then each run deletes 4 at most, and the next the one left
    await _bounded(purge_push_deliveries, now, 5)
    await _bounded(purge_notifications, now, 5)
    await _bounded(purge_refresh_tokens, now, 5)
    assert await PushDelivery.all().count() == 0
    assert await Notification.all().count() == 0
    assert await RefreshToken.all().count() == 0
