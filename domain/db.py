"""Database configuration shared by the server, the worker, migrations and tests."""

from __future__ import annotations

import inspect
import os
from typing import Any

import asyncpg
from asyncpg.pool import PoolConnectionProxy
from tortoise.backends.asyncpg.client import AsyncpgDBClient
from tortoise.backends.base.config_generator import expand_db_url

MODEL_MODULES = [
    "domain.common.models",
    "domain.audit.models",
    "domain.accounts.models",
    "domain.accounts.third_party_models",
    "domain.credit.models",
    "domain.publication.models",
    "domain.ratings.models",
    "domain.notifications.models",
    "domain.sms.models",
    "domain.registration.models",
    "domain.deposits.models",
    "domain.guarantees.models",
    "domain.auctions.models",
    "domain.tendering.models",
    "domain.evaluation.models",
    "domain.evaluation.records",
    "domain.results.models",
    "domain.complaints.models",
    "domain.terminals.models",
    "domain.access.models",
    "domain.supervision.models",
    "domain.supervision.report_models",
    "domain.certificates.models",
    "domain.documents.models",
    "domain.negotiation.models",
    "domain.experts.models",
    "domain.provincial.models",
    "domain.sso.models",
    "domain.venues.models",
    "domain.settlement.models",
]
DEFAULT_DATABASE_URL = "sqlite://data/palmtrade.sqlite3"


def tortoise_config(database_url: str | None = None) -> dict[str, Any]:
    url = database_url or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if url.startswith("postgresql://"):
        url = "postgres://" + url.removeprefix("postgresql://")
    return {
        "connections": {"default": _postgres_connection(url) if is_postgres(url) else url},
        "apps": {
            "palmtrade": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "domain.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]  # asyncpg is untyped
    """A pool connection that is not reset by a query each time the pool takes it back.

    asyncpg sends `SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL` after every release: one
    more round trip per transaction (half of a warm bid's two). Nothing that runs through the pool leaves session
    state behind: locks are transaction-scoped (`pg_advisory_xact_lock`), there is no session-level `SET`,
    `LISTEN` or cursor outside a transaction (tests/domain/test_db.py reads the code for them), and asyncpg still
    rolls back a transaction left open and drops listeners before it pools a connection again. The migrator's
    session lock (api/manage.py) is taken on a connection of its own, outside the pool.
    """

    def get_reset_query(self) -> str:
        return ""


class QuickReleasePool(asyncpg.Pool):  # type: ignore[misc]  # asyncpg is untyped
    """asyncpg's pool, releasing a connection without `asyncio.shield` when the release cannot be interrupted.

    `Pool.release` wraps the holder's release in `asyncio.shield`, a task of its own per release (with the loop
    iteration it takes), so that a cancelled request cannot leave a connection half returned. With the connections
    above (no reset query) a release after a transaction that ended, and with nothing else to do, never waits: no
    ROLLBACK to send, no reset query, no close, no cancellation to wait for, no pool `reset` callback. A coroutine
    that never suspends cannot be cancelled part way (a cancellation is delivered at a suspension), so it is awaited
    directly: issue 21, `bench/lever_ab.py --lever quick_release`. Every other release is asyncpg's own, shielded.
    """

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109  # asyncpg's
        holder = getattr(connection, "_holder", None)
        con = getattr(connection, "_con", None)
        if (
            QUICK_RELEASE
            and type(connection) is PoolConnectionProxy
            and holder is not None
            and holder._pool is self
            and isinstance(con, PooledConnection)
            and self._reset is None
            and not con.is_closed()
            and holder._generation == self._generation
            and con._protocol.queries_count < holder._max_queries
            and not con._protocol._is_cancelling()
            and not con._protocol.is_in_transaction()
            and con._top_xact is None
        ):
            self._check_init()
            con._on_release()
            await holder.release(holder._timeout if timeout is None else timeout)  # never suspends: see above
            return
        await super().release(connection, timeout=timeout)


QUICK_RELEASE = True  # False only for bench/lever_ab.py's rounds with the lever off
_POOL_DEFAULTS = {
    name: parameter.default
    for name, parameter in inspect.signature(asyncpg.create_pool).parameters.items()
    if parameter.kind is inspect.Parameter.KEYWORD_ONLY
}


class PalmTradeAsyncpgClient(AsyncpgDBClient):
    """tortoise's asyncpg client with the pool above (asyncpg.create_pool builds its own class, with the defaults
    read from its signature here)."""

    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await QuickReleasePool(None, **{**_POOL_DEFAULTS, **kwargs})


client_class = PalmTradeAsyncpgClient  # tortoise's engine module protocol: the engine below is this module


def _postgres_connection(url: str) -> dict[str, Any]:
    connection: dict[str, Any] = expand_db_url(url)
    connection["credentials"]["connection_class"] = PooledConnection
    connection["engine"] = __name__
    return connection


def postgres_credentials(database_url: str) -> dict[str, Any]:
    """host, port, user, password, database, ssl and the pool's settings, as tortoise reads them from the URL."""
    credentials: dict[str, Any] = tortoise_config(database_url)["connections"]["default"]["credentials"]
    return credentials


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


# Read by the `tortoise` command line (`tortoise makemigrations`, `tortoise migrate`).
TORTOISE_ORM = tortoise_config()
