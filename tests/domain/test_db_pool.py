"""PostgreSQL's pool (domain/db_pool.py): an idle connection taken and given back in place leaves the pool and the
connection as asyncpg's own code leaves them; every other case goes through asyncpg's code. PostgreSQL only (the
embedded default has no pool)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from tortoise import connections

from domain import db_pool
from domain.db import PooledConnection


@pytest.fixture
def dsn(database: Any) -> str:
    if not database.postgres:
        pytest.skip("PostgreSQL only: the embedded default (SQLite) has no connection pool")
    parts = urlsplit(database.url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


async def _pool(cls: type[asyncpg.Pool], dsn: str, size: int = 2) -> Any:
    settings = {"min_size": 1, "max_size": size, "connection_class": PooledConnection}
    return await cls(dsn, **{**db_pool._DEFAULTS, **settings})


@pytest.fixture
async def pools(dsn: str) -> AsyncIterator[tuple[Any, Any]]:
    """asyncpg's pool and ours, on the test database."""
    stock, ours = await _pool(asyncpg.Pool, dsn), await _pool(db_pool.Pool, dsn)
    try:
        yield stock, ours
    finally:
        await asyncio.gather(stock.close(), ours.close())


class Spied:
    """Counts the calls of asyncpg's own `_acquire` and `release` (ours call them for what they do not do in place)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.acquire = self.release = 0
        acquire, release = asyncpg.Pool._acquire, asyncpg.Pool.release

        async def counted_acquire(pool: Any, timeout: Any) -> Any:  # noqa: ASYNC109  # asyncpg's signature
            self.acquire += 1
            return await acquire(pool, timeout)

        async def counted_release(pool: Any, connection: Any, *, timeout: Any = None) -> Any:  # noqa: ASYNC109
            self.release += 1
            return await release(pool, connection, timeout=timeout)

        monkeypatch.setattr(asyncpg.Pool, "_acquire", counted_acquire)
        monkeypatch.setattr(asyncpg.Pool, "release", counted_release)


def _state(pool: Any) -> dict[str, Any]:
    holders = pool._holders
    return {
        "idle": pool.get_idle_size(),
        "size": pool.get_size(),
        "queued": pool._queue.qsize(),
        "in_use": [h._in_use is not None for h in holders],
        "proxies": [h._proxy is not None for h in holders],
        "timers": [h._inactive_callback is not None for h in holders],
        "timeouts": [h._timeout for h in holders],
        "in_transaction": [h._con.is_in_transaction() for h in holders if h._con is not None],
    }


async def _use(pool: Any) -> tuple[dict[str, Any], dict[str, Any], Any, int]:
    """Takes a connection, runs a statement on it, gives it back; the pool's state while taken and after, the proxy
    and the backend's pid."""
    proxy = await pool.acquire()
    pid = await proxy.fetchval("SELECT pg_backend_pid()")
    taken = _state(pool)
    await pool.release(proxy)
    return taken, _state(pool), proxy, pid


async def test_an_idle_connection_taken_and_given_back_leaves_the_pool_as_asyncpgs_code_does(pools, monkeypatch):
    stock, ours = pools
    spied = Spied(monkeypatch)

    # when each pool lends a connection for a statement, three times
    seen: dict[str, list[Any]] = {}
    for name, pool in (("stock", stock), ("ours", ours)):
        before = (spied.acquire, spied.release)
        runs = [await _use(pool) for _ in range(3)]
        seen[name] = [(taken, after) for taken, after, _, _ in runs]
        # the proxy given back is detached, as asyncpg detaches it
        with pytest.raises(asyncpg.InterfaceError):
            await runs[-1][2].fetchval("SELECT 1")
        # the same live connection each time (asyncpg's queue: live ones first, last in first out)
        assert len({pid for _, _, _, pid in runs}) == 1
        calls = (spied.acquire - before[0], spied.release - before[1])
        assert calls == ((3, 3) if name == "stock" else (0, 0)), (name, calls)

    # then the pool's state while lent and after is the same in both
    assert seen["ours"] == seen["stock"]
    taken, after = seen["ours"][0]
    assert taken["in_use"].count(True) == 1
    assert after["in_use"] == [False, False]
    assert after["idle"] == after["size"] == 1  # one connection open (min_size), idle
    assert after["queued"] == 2  # both holders back in the queue, the second never connected
    assert after["timers"].count(True) == 1  # the inactivity timer armed again, as asyncpg arms it


async def test_a_transaction_left_open_is_rolled_back_by_asyncpgs_release(pools, monkeypatch):
    stock, ours = pools
    spied = Spied(monkeypatch)
    errors: list[dict[str, Any]] = []
    asyncio.get_running_loop().set_exception_handler(lambda loop, context: errors.append(context))
    try:
        for pool in (stock, ours):
            # given a connection left inside a transaction that wrote a temporary table
            proxy = await pool.acquire()
            pid = await proxy.fetchval("SELECT pg_backend_pid()")
            await proxy.execute("BEGIN; CREATE TEMPORARY TABLE left_open (x int) ON COMMIT DROP")
            release_calls = spied.release

            # when it is given back
            await pool.release(proxy)

            # then asyncpg's own release ran, rolled it back and said so, and the next user gets it clean
            assert spied.release == release_calls + 1
            assert "active transaction" in errors.pop()["message"]
            again = await pool.acquire()
            assert await again.fetchval("SELECT pg_backend_pid()") == pid
            assert not again.is_in_transaction()
            assert await again.fetchval("SELECT to_regclass('left_open') IS NULL")
            await pool.release(again)
    finally:
        asyncio.get_running_loop().set_exception_handler(None)


async def test_expired_and_closed_connections_are_replaced_as_asyncpg_replaces_them(pools, monkeypatch):
    _, ours = pools
    spied = Spied(monkeypatch)

    # given a connection lent once
    _, _, _, first = await _use(ours)

    # when the pool's connections expire, the next one lent is a new one (asyncpg's path reconnects the holder)
    await ours.expire_connections()
    acquires = spied.acquire
    _, after, _, second = await _use(ours)
    assert second != first
    assert spied.acquire == acquires  # the holder was taken in place, its reconnection left to asyncpg's code
    assert after["in_use"] == [False, False]

    # when a lent connection is closed under its user and given back, the next one is a new one too
    proxy = await ours.acquire()
    proxy.terminate()
    await ours.release(proxy)
    _, after, _, third = await _use(ours)
    assert third not in (first, second)
    assert after["in_use"] == [False, False]  # (asyncpg's floor upkeep may have opened the other one meanwhile)
    assert spied.release >= 1


async def test_more_users_than_connections_wait_their_turn_and_a_cancelled_waiter_takes_none(dsn, monkeypatch):
    pool = await _pool(db_pool.Pool, dsn, size=2)
    try:
        # when ten tasks share two connections
        async def one(i: int) -> int:
            async with pool.acquire() as con:
                return int(await con.fetchval("SELECT $1::int FROM pg_sleep(0.01)", i))

        assert sorted(await asyncio.gather(*(one(i) for i in range(10)))) == list(range(10))
        assert pool.get_size() == 2
        assert pool.get_idle_size() == 2

        # when every connection is lent, a waiter is cancelled, and the connections come back
        held = [await pool.acquire(), await pool.acquire()]
        waiter = asyncio.create_task(one(99))
        await asyncio.sleep(0.05)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        for con in held:
            await pool.release(con)

        # then both are idle again and lent as before
        assert pool.get_idle_size() == 2
        assert await one(7) == 7
        # and one asked with a timeout goes through asyncpg's own code
        spied = Spied(monkeypatch)
        async with pool.acquire(timeout=5) as con:
            assert await con.fetchval("SELECT 1") == 1
        assert spied.acquire == 1
    finally:
        await pool.close()


async def test_the_apps_postgresql_connection_uses_this_pool(dsn, db):
    client = connections.get("default")
    assert type(client) is db_pool.Client
    assert type(client._pool) is db_pool.Pool
