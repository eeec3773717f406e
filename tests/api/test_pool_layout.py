"""The connection budget (api/pool_layout.py): a layout whose pools cannot fit in PostgreSQL's max_connections is
refused at start with the figures, on the server's own settings; behind a pooler (DATABASE_PROCESSES=0) and on
SQLite nothing is checked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from tortoise import connections

from api.pool_layout import Budget, PoolLayoutError, check, pool_size, read_budget, refusal

ROOT = Path(__file__).resolve().parents[2]


def test_the_pool_size_is_read_as_tortoise_reads_it():
    assert pool_size("postgres://u@db:5432/palmtrade") == 5
    assert pool_size("postgres://u@db:5432/palmtrade?maxsize=20") == 20
    assert pool_size("postgres://u@db:5432/palmtrade?minsize=2&maxsize=12&ssl=require") == 12


def test_a_layout_fits_within_max_connections_less_the_reserved():
    budget = Budget(max_connections=100, reserved=3, others=0)
    assert refusal(budget, processes=6, pool=16) is None  # 96 of 97
    too_many = refusal(budget, processes=5, pool=20)  # 100 of 97
    assert too_many is not None
    assert "DATABASE_PROCESSES=5" in too_many
    assert "100 connections" in too_many
    assert "allows 97" in too_many


def test_connections_held_by_others_leave_less_room():
    busy = Budget(max_connections=100, reserved=3, others=90)
    problem = refusal(busy, processes=1, pool=10)
    assert problem is not None
    assert "90 connections are in use by other clients" in problem
    assert refusal(busy, processes=1, pool=7) is None


async def test_sqlite_and_a_pooler_are_not_checked():
    await check("sqlite://data/x.sqlite3", processes=10**6)
    await check("postgres://u@pgbouncer:6432/palmtrade?maxsize=50", processes=0)


def _postgres_only(db) -> None:
    if not db.postgres:
        pytest.skip("PostgreSQL only (DATABASE_URL)")


async def test_the_budget_is_read_from_postgresql(db):
    _postgres_only(db)
    conn = connections.get("default")
    _, rows = await conn.execute_query("SHOW max_connections")
    budget = await read_budget()
    assert budget.max_connections == int(rows[0]["max_connections"])
    assert 0 <= budget.reserved < budget.max_connections

    # other clients' connections are counted (other sessions may come and go meanwhile: at least these)
    extra = [await asyncpg.connect(db.url.replace("postgres://", "postgresql://", 1)) for _ in range(3)]
    try:
        assert (await read_budget()).others >= 3
    finally:
        for each in extra:
            await each.close()


async def test_a_layout_beyond_max_connections_is_refused(db):
    _postgres_only(db)
    budget = await read_budget()
    await check(db.url, processes=1)  # one pool of 5: fits on any server able to run these tests
    with pytest.raises(PoolLayoutError, match=r"DATABASE_PROCESSES=\d+ processes with pools of 5"):
        await check(db.url, processes=budget.usable // 5 + 1)


def test_a_worker_refuses_to_start_with_a_layout_that_cannot_fit(db, tmp_path):
    _postgres_only(db)
    env = {
        **os.environ,
        "DATABASE_URL": db.url + "?maxsize=50",
        "DATABASE_PROCESSES": "1000",
        "REDIS_URL": "",
        "PALMTRADE_PRODUCTION": "0",
        "AUDIT_EXPORT_PATH": str(tmp_path / "heads.jsonl"),
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "api.manage", "worker"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "DATABASE_PROCESSES=1000 processes with pools of 50 may open 50000 connections" in done.stderr
