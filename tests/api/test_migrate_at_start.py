"""MIGRATE_AT_START (issue 21, Runs for months): `serve` migrates under a session advisory lock, which a
transaction-mode pooler (PgBouncer) cannot hold; such a deployment migrates as its own step (`python -m api.manage
migrate`, against the database itself) and starts its servers with MIGRATE_AT_START=0, which refuse a database that
lacks a migration of their release rather than run on it. On SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

# unapplied and prepare_database(migrate_at_start=False) on a fresh database, at the release's last migration but one,
# and after `migrate`; each in this process of its own (Tortoise is process-wide)
_SCRIPT = """
import asyncio, json, sys
from tortoise import Tortoise
from tortoise.migrations.api import migrate as to
from api.manage import SchemaBehind, migrate, prepare_database, unapplied
from api.settings import Settings
from domain.db import tortoise_config

settings = Settings(database_url=sys.argv[1])

async def refusal():
    try:
        await prepare_database(settings, migrate_at_start=False)
    except SchemaBehind as err:
        return str(err)
    return None

async def main():
    out = {}
    out["fresh"] = await unapplied(settings)
    out["fresh_refusal"] = await refusal()
    try:
        await to(config=tortoise_config(settings.database_url), target=out["fresh"][-2])
    finally:
        await Tortoise.close_connections()
    out["one_behind"] = await unapplied(settings)
    out["one_behind_refusal"] = await refusal()
    await migrate(settings)
    out["current"] = await unapplied(settings)
    out["current_refusal"] = await refusal()
    print(json.dumps(out))

asyncio.run(main())
"""


def _server_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


@pytest.fixture
async def fresh_database(tmp_path: Path) -> AsyncIterator[str]:
    server = _server_url()
    if not server:
        yield f"sqlite://{tmp_path / 'fresh.sqlite3'}"
        return
    from tests.conftest import _create_pg_database, _drop_pg_database

    url, name = await _create_pg_database(server)
    try:
        yield url
    finally:
        await _drop_pg_database(server, name)


def _environment() -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    return env


def _prepare_each(url: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, url],
        cwd=ROOT,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def test_a_server_that_does_not_migrate_refuses_a_database_behind_its_release(fresh_database):
    # given a fresh database, then one at the release's last migration but one, then one migrated by `migrate`
    # when a server without MIGRATE_AT_START prepares each
    out: dict[str, Any] = _prepare_each(fresh_database)
    shipped = sorted(p.stem for p in (ROOT / "domain" / "migrations").glob("0*.py"))

    # then the fresh one lacks every migration, and is refused, naming the step to run
    assert out["fresh"] == [f"palmtrade.{name}" for name in shipped]
    assert "python -m api.manage migrate" in out["fresh_refusal"]
    assert f"{len(shipped)} migration(s)" in out["fresh_refusal"]

    # and the one a migration behind lacks only the last, and is refused naming it
    assert out["one_behind"] == [f"palmtrade.{shipped[-1]}"]
    assert shipped[-1] in out["one_behind_refusal"]

    # and the migrated one is current, and served
    assert out["current"] == []
    assert out["current_refusal"] is None


def test_serve_with_migrate_at_start_off_exits_on_a_database_behind_without_serving(tmp_path):
    # given a fresh SQLite database and MIGRATE_AT_START=0
    database = tmp_path / "fresh.sqlite3"
    env = {**_environment(), "DATABASE_URL": f"sqlite://{database}", "MIGRATE_AT_START": "0", "PORT": "1"}

    # when `serve` starts
    done = subprocess.run(
        [sys.executable, "-m", "api.manage", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # then it exits with STARTUP_FAILURE, saying which step to run
    assert done.returncode == 3, done.stderr[-3000:]
    assert "python -m api.manage migrate" in done.stderr
    assert "MIGRATE_AT_START" in done.stderr
