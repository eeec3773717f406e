"""Database configuration shared by the server, the worker, migrations and tests."""

from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime
from typing import Any

import asyncpg
import tortoise.backends.sqlite.executor  # registers its sqlite3 adapters: the one below replaces one
import tortoise.models
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


class _ModelMeta(tortoise.models.ModelMeta):
    """Tortoise's model class, less the reading of each class's source for `#:` field comments: tortoise runs
    inspect.getsource on every model class as it is made (parsing its module once per class), about 0.3 s of every
    process's start with PalmTrade's 126 models. PalmTrade writes no such comments (a field's description is its
    `description=`); tests/domain/test_db.py holds both to that."""

    def __new__(mcs, name: str, bases: tuple[type, ...], attrs: dict[str, Any]) -> Any:
        attrs.setdefault("_no_comments", True)
        return super().__new__(mcs, name, bases, attrs)


class Model(tortoise.models.Model, metaclass=_ModelMeta):
    """The base of every PalmTrade model (tortoise's Model, see _ModelMeta)."""

    class Meta:
        abstract = True


def sqlite_datetime(value: datetime) -> str:
    """A datetime as SQLite stores and compares it: text, so an aware time is written in UTC. Tortoise's own adapter
    kept the offset it was given, so a bound in Beijing time ("the day from 00:00+08:00") compared as text against
    times stored in UTC, and a filter by a Beijing day missed what fell on it from 16:00 to 24:00 UTC."""
    return (value.astimezone(UTC) if value.tzinfo is not None else value).isoformat(" ")


sqlite3.register_adapter(datetime, sqlite_datetime)


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


def _postgres_connection(url: str) -> dict[str, Any]:
    connection: dict[str, Any] = expand_db_url(url)
    connection["engine"] = "domain.db_pool"  # asyncpg's pool, an idle connection taken and given back in place
    connection["credentials"]["connection_class"] = PooledConnection
    return connection


def postgres_credentials(database_url: str) -> dict[str, Any]:
    """host, port, user, password, database, ssl and the pool's settings, as tortoise reads them from the URL."""
    credentials: dict[str, Any] = tortoise_config(database_url)["connections"]["default"]["credentials"]
    return credentials


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


# Read by the `tortoise` command line (`tortoise makemigrations`, `tortoise migrate`).
TORTOISE_ORM = tortoise_config()
