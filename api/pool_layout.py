"""The connection budget on PostgreSQL: a process refuses to start when its pool cannot fit (README: Production
layout, Database connections).

Each server and worker process opens up to its pool size (`DATABASE_URL` `?maxsize=`, 5 by default) of
connections, and PostgreSQL refuses any beyond `max_connections` less the slots it keeps for superusers: a request
then fails instead of waiting for a connection. Two checks at start, against the server's own settings:
- the layout: `DATABASE_PROCESSES` (every process of the deployment that opens a pool, on every machine) times
  the pool size must fit in those connections;
- now: the connections other clients hold plus this process's pool must fit as well (another application, a
  process left running, a layout that changed without `DATABASE_PROCESSES`).
`DATABASE_PROCESSES=0` turns both off: behind PgBouncer the pools are PgBouncer's clients, bounded by its own
`max_client_conn`, not by `max_connections`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tortoise import connections

from domain.db import is_postgres

DEFAULT_POOL_SIZE = 5  # tortoise's asyncpg pool without `?maxsize=`


class PoolLayoutError(RuntimeError):
    """The pools of this deployment cannot fit in the database's connections."""


@dataclass(frozen=True)
class Budget:
    """What PostgreSQL allows and holds, as read at start."""

    max_connections: int
    reserved: int  # superuser_reserved_connections + reserved_connections (PostgreSQL 16)
    others: int  # client connections open now, not this process's

    @property
    def usable(self) -> int:
        return self.max_connections - self.reserved


def pool_size(database_url: str) -> int:
    """The most connections this process's pool opens: `maxsize` of DATABASE_URL, as tortoise reads it."""
    values = parse_qs(urlsplit(database_url).query).get("maxsize")
    return int(values[-1]) if values else DEFAULT_POOL_SIZE


def refusal(budget: Budget, processes: int, pool: int) -> str | None:
    """Why this layout cannot fit, or None."""
    limit = (
        f"PostgreSQL allows {budget.usable} connections (max_connections {budget.max_connections} less "
        f"{budget.reserved} reserved for superusers)"
    )
    advice = (
        "lower the pool size (DATABASE_URL ?maxsize=), raise max_connections, or put PgBouncer in transaction mode "
        "in between (README: Production layout, Database connections)"
    )
    if processes * pool > budget.usable:
        return (
            f"DATABASE_PROCESSES={processes} processes with pools of {pool} may open {processes * pool} connections "
            f"but {limit}: {advice}"
        )
    if budget.others + pool > budget.usable:
        return (
            f"{budget.others} connections are in use by other clients and this process's pool may open {pool} "
            f"more, but {limit}: stop what holds them (`SELECT * FROM pg_stat_activity`), or {advice}"
        )
    return None


async def read_budget() -> Budget:
    """max_connections, the reserved slots and the client connections of others, in one query."""
    client: Any = connections.get("default")
    rows = await client.execute_query_dict(
        "SELECT current_setting('max_connections')::int AS max_connections, "
        "current_setting('superuser_reserved_connections')::int "
        "+ coalesce(current_setting('reserved_connections', true), '0')::int AS reserved, "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use"
    )
    pool = getattr(client, "_pool", None)
    ours = pool.get_size() if pool is not None and hasattr(pool, "get_size") else 1
    row = rows[0]
    return Budget(row["max_connections"], row["reserved"], max(0, row["in_use"] - ours))


async def check(database_url: str, processes: int) -> None:
    """Raises PoolLayoutError when this deployment's pools cannot fit in PostgreSQL's connections."""
    if processes <= 0 or not is_postgres(database_url):
        return
    if problem := refusal(await read_budget(), processes, pool_size(database_url)):
        raise PoolLayoutError(problem)
