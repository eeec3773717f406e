"""PostgreSQL's connection pool, as tortoise's engine (`domain.db_pool`, named by domain/db.py): asyncpg's pool,
taking and giving back an idle connection without a coroutine, a task and a loop turn of their own when nothing has
to wait (issue 21).

Every statement outside a transaction, and every transaction, takes a connection from the pool and gives it back.
asyncpg 0.32 does both through coroutines: `Pool._acquire` awaits the queue's `get` and the holder's `acquire`;
`Pool.release` runs the holder's `release` under `asyncio.shield`, a new task that runs on the loop's next turn, in
which the connection's `reset` enters an `asyncio.timeout(None)`. For a connection that is open, idle, of the
pool's generation, without a `setup` or `reset` hook, not in a transaction and with no reset query (domain/db.py's
PooledConnection sends none), none of that waits for anything: this pool does the same steps in place, in the same
order, and leaves every other case to asyncpg's own code. Measured in one process (bench/README.md, issue 21 (15)):
about 20-30 us of CPU less per statement against a held connection's 50-60.

Coupled to asyncpg's pool internals (asyncpg pinned in requirements.lock): the holder's `_con`, `_in_use`,
`_generation`, `_setup`, `_max_queries`, `_timeout`, `_proxy`, `_release`, `_setup_inactive_callback` and
`_maybe_cancel_inactive_callback`; the connection's `_on_release`, `_listeners`, `_log_listeners`, `_top_xact` and
its protocol's `queries_count`, `is_in_transaction` and `_is_cancelling`. tests/domain/test_db_pool.py checks that a
connection taken and given back here leaves the pool and the connection as asyncpg's own code leaves them, so an
upgrade that changes any of this fails there.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from tortoise.backends.asyncpg.client import AsyncpgDBClient

# asyncpg.create_pool's keyword defaults, which Pool's constructor does not have
_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(asyncpg.create_pool).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}


class Pool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg is untyped
    """asyncpg's pool, with an idle connection taken and given back in place (see the module's text)."""

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109  # asyncpg's signature
        queue = self._queue
        if timeout is not None or self._closing or not self._initialized or self._closed or queue.empty():
            return await super()._acquire(timeout)
        holder = queue.get_nowait()  # a live connection first, as asyncpg's `get`
        con = holder._con
        if (
            con is None
            or con.is_closed()
            or holder._generation != self._generation
            or holder._setup is not None
            or holder._in_use is not None
        ):
            try:  # asyncpg's own path for this holder: it connects or reconnects it
                proxy = await holder.acquire()
            except (Exception, asyncio.CancelledError):
                queue.put_nowait(holder)
                self._schedule_min_size_maintenance()
                raise
            holder._timeout = timeout
            return proxy
        holder._maybe_cancel_inactive_callback()
        holder._proxy = proxy = PoolConnectionProxy(holder, con)
        holder._in_use = self._loop.create_future()
        holder._timeout = timeout
        return proxy

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109  # asyncpg's
        holder = connection._holder if type(connection) is PoolConnectionProxy else None
        con = connection._con if holder is not None else None
        if (
            holder is None
            or con is None
            or holder._pool is not self
            or not self._initialized
            or self._closed
            or holder._in_use is None
            or self._reset is not None
            or con.is_closed()
            or con._protocol.queries_count >= holder._max_queries
            or holder._generation != self._generation
            or con._protocol._is_cancelling()
            or con._protocol.is_in_transaction()
            or con._top_xact is not None
            or con.get_reset_query()
        ):
            await super().release(connection, timeout=timeout)
            return
        con._on_release()  # Pool.release: the connection's housekeeping
        holder._timeout = None  # PoolConnectionHolder.release
        con._listeners.clear()  # Connection._reset: nothing to roll back
        con._log_listeners.clear()
        holder._release()  # back in the queue, the proxy detached
        holder._setup_inactive_callback()


class Client(AsyncpgDBClient):
    """tortoise's asyncpg client, with the pool above."""

    async def create_pool(self, **kwargs: Any) -> Pool:
        pool: Pool = await Pool(None, **{**_DEFAULTS, **kwargs})
        return pool


client_class = Client  # what tortoise reads of an engine module
