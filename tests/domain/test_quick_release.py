"""domain/db.py QuickReleasePool: a release that cannot wait is done without asyncpg's `asyncio.shield` task, and every
other release is asyncpg's own; either way the connection is back in the pool, rolled back, when `release` returns."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from domain import db as database
from domain.db import PalmTradeAsyncpgClient, QuickReleasePool, tortoise_config


def test_postgres_connections_use_the_quick_release_pool() -> None:
    config = tortoise_config("postgres://u:p@db.example:6432/palm")
    assert config["connections"]["default"]["engine"] == "domain.db"
    assert database.client_class is PalmTradeAsyncpgClient
    assert tortoise_config("sqlite://data/x.sqlite3")["connections"]["default"] == "sqlite://data/x.sqlite3"


@pytest.fixture
def pool(db: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[QuickReleasePool, list[bool]]:
    if not db.postgres:
        pytest.skip("the pool is PostgreSQL's")
    found = connections.get("default")._pool
    assert type(found) is QuickReleasePool
    shielded: list[bool] = []  # a release asyncpg did itself (shielded), one entry each
    asyncpgs = asyncpg.Pool.release

    async def release(self: Any, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        shielded.append(True)
        await asyncpgs(self, connection, timeout=timeout)

    monkeypatch.setattr(asyncpg.Pool, "release", release)
    return found, shielded


async def test_a_query_and_a_transaction_release_without_shield(pool: tuple[QuickReleasePool, list[bool]]) -> None:
    found, shielded = pool
    conn = connections.get("default")
    idle = found.get_idle_size()
    # when a query runs outside a transaction, and a transaction commits, and one rolls back
    await conn.execute_query("SELECT 1")
    async with in_transaction() as tx:
        await tx.execute_query("SELECT 1")

    async def failing() -> None:
        async with in_transaction() as tx:
            await tx.execute_query("SELECT 1")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        await failing()
    # then no release took asyncpg's shielded path, and every connection is back
    assert shielded == []
    assert found.get_idle_size() == idle


async def test_a_release_that_must_wait_is_asyncpgs(pool: tuple[QuickReleasePool, list[bool]]) -> None:
    found, shielded = pool
    idle = found.get_idle_size()
    # given a connection released with its transaction still open (asyncpg sends ROLLBACK: a wait)
    connection = await found.acquire()
    await connection.execute("BEGIN")
    await connection.execute("CREATE TEMPORARY TABLE left_open (a int) ON COMMIT DROP")
    # when
    await found.release(connection)
    # then asyncpg released it, rolled back
    assert shielded == [True]
    assert found.get_idle_size() == idle
    async with found.acquire() as again:
        assert (
            await again.fetchval("SELECT count(*) FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'") == 0
        )
    # and with the lever off every release is asyncpg's
    database.QUICK_RELEASE = False
    try:
        await connections.get("default").execute_query("SELECT 1")
    finally:
        database.QUICK_RELEASE = True
    assert shielded == [True, True]  # the acquire context's release above was quick


async def test_a_cancelled_task_still_returns_its_connection(pool: tuple[QuickReleasePool, list[bool]]) -> None:
    found, shielded = pool
    idle = found.get_idle_size()
    released = asyncio.Event()

    async def request() -> None:
        connection = await found.acquire()
        await connection.fetchval("SELECT 1")
        asyncio.current_task().cancel()  # type: ignore[union-attr]  # cancelled just before its release
        await found.release(connection)
        released.set()  # the release completed before the cancellation was delivered
        await asyncio.sleep(0)

    task = asyncio.create_task(request())
    with pytest.raises(asyncio.CancelledError):
        await task
    assert released.is_set()
    assert shielded == []
    assert found.get_idle_size() == idle
