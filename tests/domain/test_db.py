"""The PostgreSQL pool's connections are not reset by a query when released (domain/db.py PooledConnection): that is
safe only while nothing run through the pool leaves session state behind. These tests hold that promise."""

from __future__ import annotations

import ast
import importlib
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from tortoise import connections
from tortoise.exceptions import OperationalError
from tortoise.models import Model as TortoiseModel
from tortoise.transactions import in_transaction

from domain.common.clock import SHANGHAI
from domain.common.models import SchedulerLease
from domain.db import MODEL_MODULES, Model, PooledConnection, postgres_credentials, sqlite_datetime, tortoise_config

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("api", "schema", "domain", "notifications")
# the migrator's session lock is taken on a connection of its own (asyncpg.connect), never a pooled one
OWN_CONNECTION = {Path("api/manage.py")}
SESSION_STATE = re.compile(  # SQL as this code base writes it: keywords in capitals
    r"\bpg_(try_)?advisory_lock(_shared)?\s*\(|\bset_config\s*\(|\bCURSOR\s+(WITH|FOR)\b"
    r"|(?:^|;)\s*(LISTEN\s+\w|SET\s+(?!LOCAL\b)(SESSION\s+)?[a-z_.]+\s*(=|\bTO\b))",
    re.MULTILINE,
)


def _sql_strings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def test_no_code_run_through_the_pool_leaves_session_state() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT)
            if rel in OWN_CONNECTION or "migrations" in rel.parts:
                continue
            for line, text in _sql_strings(path):
                if SESSION_STATE.search(text):
                    found.append(f"{rel}:{line}: {text.strip()[:80]!r}")
    assert not found, "session-level state through the pool (use SET LOCAL / pg_advisory_xact_lock):\n" + "\n".join(
        found
    )


def test_the_check_finds_session_state() -> None:
    for sql in (
        "SELECT pg_advisory_lock($1)",
        "SET statement_timeout = 0",
        "LISTEN events",
        "SET search_path TO x",
        "DECLARE c CURSOR WITH HOLD FOR SELECT 1",
        "SELECT set_config('a.b', 'c', false)",
    ):
        assert SESSION_STATE.search(sql), sql
    for sql in ("SET LOCAL synchronous_commit = on", "SELECT pg_advisory_xact_lock($1)", "UPDATE t SET a = 1"):
        assert not SESSION_STATE.search(sql), sql


def test_postgres_pools_use_the_connection_without_reset_query() -> None:
    config = tortoise_config("postgresql://u:p@db.example:6432/palm?maxsize=7")
    credentials = config["connections"]["default"]["credentials"]
    assert credentials["connection_class"] is PooledConnection
    assert credentials["maxsize"] == 7 or credentials["maxsize"] == "7"
    assert postgres_credentials("postgres://u:p@db.example:6432/palm")["host"] == "db.example"
    assert tortoise_config("sqlite://data/x.sqlite3")["connections"]["default"] == "sqlite://data/x.sqlite3"


async def test_a_released_connection_keeps_no_lock_and_no_open_transaction(db) -> None:
    if not db.postgres:
        pytest.skip("the pool's reset is PostgreSQL's")
    conn = connections.get("default")
    # a transaction-scoped lock and setting end with their transaction, reset query or not
    async with in_transaction() as tx:
        await tx.execute_query("SELECT pg_advisory_xact_lock(424242)")
        await tx.execute_query("SET LOCAL statement_timeout = 1234")

    # a transaction that failed half-way is rolled back before its connection is pooled again
    async def failing() -> None:
        async with in_transaction() as tx:
            await tx.execute_query("SELECT pg_advisory_xact_lock(424243)")
            await tx.execute_query("SELECT 1/0")

    with pytest.raises(OperationalError, match="division by zero"):
        await failing()
    for _ in range(3):  # whichever pooled connection comes next
        _, rows = await conn.execute_query(
            "SELECT (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid IN (424242, 424243)) AS held,"
            " current_setting('statement_timeout') AS timeout,"
            " (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            "  AND state LIKE 'idle in transaction%') AS left_open"
        )
        assert rows[0]["held"] == 0
        assert rows[0]["timeout"] == "0"
        assert rows[0]["left_open"] == 0


async def test_a_beijing_day_finds_what_was_stored_on_it_after_16_utc(db) -> None:
    # given a lease taken at 17:30 UTC on 5 January, which is 01:30 on 6 January in Beijing, and one an hour earlier
    late = datetime(2027, 1, 5, 17, 30, tzinfo=UTC)
    await SchedulerLease.create(name="late", holder="w1", leased_until=late)
    await SchedulerLease.create(name="early", holder="w1", leased_until=late - timedelta(hours=2))

    # when the rows of 6 January in Beijing are asked for, its bounds written in Beijing time
    start = datetime.combine(date(2027, 1, 6), time.min, tzinfo=SHANGHAI)
    found = SchedulerLease.filter(leased_until__gte=start, leased_until__lt=start + timedelta(days=1))

    # then the late one is found and the early one (23:30 on the 5th in Beijing) is not, on SQLite as on PostgreSQL
    # (SQLite compares the text: the bound was written with its +08:00 and missed the late row)
    assert [lease.name for lease in await found] == ["late"]
    assert sqlite_datetime(start) == "2027-01-05 16:00:00+00:00"


def test_every_model_is_made_without_reading_its_source_and_no_model_relies_on_field_comments() -> None:
    # given every model module, and tortoise's reading of `#:` comments from a model class's source
    modules = [importlib.import_module(name) for name in MODEL_MODULES]
    classes = [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, TortoiseModel) and value.__module__ == module.__name__
    ]

    # then each is PalmTrade's Model, which skips that read (inspect.getsource on every class at every start)
    assert len(classes) >= 100
    assert all(issubclass(m, Model) for m in classes)
    assert all(m.__dict__.get("_no_comments") for m in classes if not m._meta.abstract)
    # and no model writes such a comment, which the skipped read would have made its field's description
    for module in modules:
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        assert not re.search(r"^\s*#:", source, flags=re.MULTILINE), module.__name__
