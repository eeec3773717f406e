"""The migrations are frozen (they import nothing of the domain) and still do what the domain's code did: a fresh
database holds the shipped regions, and announcements published before 0003 are indexed as search.reindex
indexes them, on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tortoise import connections

from domain.publication.regions import REGIONS, level_of

ROOT = Path(__file__).resolve().parents[2]

# migrates a fresh database to 0002, publishes announcements there, migrates the rest as a deployment does, reads
# the search index; then indexes again with today's domain code (search.reindex) and reads it again
_SCRIPT = """
import asyncio, json, sys
from datetime import UTC, datetime
from tortoise import Tortoise
from tortoise.migrations.api import migrate
from api.manage import migrate as deploy
from api.settings import Settings
from domain.db import tortoise_config
from domain.publication import search

URL = sys.argv[1]
ANNOUNCEMENTS = [
    (1, "济南市历下区道路施工招标公告", "本项目为道路施工。Road works 2026 café", "published", True),
    (2, "Qingdao port dredging 2026", "Dredging of the port basin; 疏浚工程 第二期", "published", False),
    (3, "青岛市崂山区学校食堂采购", "尚未发布的内容", "draft", True),
]

async def index(client, postgres):
    sql = (
        "SELECT announcement_id AS id, vector::text AS words FROM announcement_search ORDER BY 1"
        if postgres else "SELECT rowid AS id, title || ' | ' || body AS words FROM announcement_fts ORDER BY 1"
    )
    return [[int(r["id"]), r["words"]] for r in await client.execute_query_dict(sql)]

async def main():
    try:
        await migrate(config=tortoise_config(URL), target="palmtrade.0002_publication")
    finally:
        await Tortoise.close_connections()
    await Tortoise.init(config=tortoise_config(URL))
    client = Tortoise.get_connection("default")
    postgres = client.capabilities.dialect == "postgres"
    mark = (lambda n: ", ".join(f"${i}" for i in range(1, n + 1))) if postgres else (lambda n: ", ".join("?" * n))
    at = datetime(2026, 11, 2, tzinfo=UTC)
    await client.execute_query(
        "INSERT INTO project (id, trade_code, name, category, region_code, tenderer_id, created_at)"
        f" VALUES ({mark(7)})",
        [1, "T1", "道路", "works", "370102", 1, at],
    )
    for ann_id, title, body, status, segmented in ANNOUNCEMENTS:
        words = search.segment(f"{title}\\n{body}") if segmented else "a stale segmentation"
        await client.execute_query(
            "INSERT INTO announcement (id, project_id, trade_code, type, status, title, body_html, body_text,"
            f" search_text, category, region_code, published_at, created_at) VALUES ({mark(13)})",
            [ann_id, 1, "T1", "tender", status, title, body, body, words, "works", "370102",
             at if status == "published" else None, at],
        )
    await Tortoise.close_connections()
    await deploy(Settings(database_url=URL))
    await Tortoise.init(config=tortoise_config(URL))
    client = Tortoise.get_connection("default")
    migrated = await index(client, postgres)
    await client.execute_script("DELETE FROM announcement_search" if postgres else "DELETE FROM announcement_fts")
    await search.reindex(client)
    recent = sorted((await search._recent_indexes(client)).values()) if postgres else []
    out = {
        "migrated": migrated,
        "reindexed": await index(client, postgres),
        "recent": [str(b) for b in recent],
        "wanted": str(search.recent_bound(datetime.now(UTC))),
    }
    await Tortoise.close_connections()
    print(json.dumps(out, ensure_ascii=False))

asyncio.run(main())
"""


def _server_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _migrate_from_0002(url: str) -> dict[str, list[object]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, list[object]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def test_a_fresh_database_holds_the_shipped_regions(db):
    # given the session's database, migrated fresh by api.manage.migrate

    # when its regions are read
    rows = await connections.get("default").execute_query_dict(
        "SELECT code, name, parent_code, level FROM region ORDER BY code"
    )

    # then they are the divisions domain/publication/regions.py ships, each at its level
    assert [(r["code"], r["name"], r["parent_code"], r["level"]) for r in rows] == sorted(
        (code, name, parent, level_of(code)) for code, name, parent in REGIONS
    )


async def test_announcements_published_before_0003_are_indexed_as_search_indexes_them(tmp_path):
    # given a database at 0002 holding published announcements (one whose stored segmentation no longer fits)
    # and a draft, on PostgreSQL when DATABASE_URL names one, else on SQLite
    server = _server_url()
    if server:
        from tests.conftest import _create_pg_database, _drop_pg_database

        url, name = await _create_pg_database(server)
    else:
        url, name = f"sqlite://{tmp_path / 'at-0002.sqlite3'}", ""

    # when the deployment migrates the rest
    try:
        result = _migrate_from_0002(url)
    finally:
        if server:
            await _drop_pg_database(server, name)

    # then the published ones are indexed with the same words and weights as search.reindex writes today,
    # the draft is not, and on PostgreSQL the recent index is the one search.roll_recent_index wants now
    assert [row[0] for row in result["migrated"]] == [1, 2]
    assert result["migrated"] == result["reindexed"]
    assert result["recent"] == ([result["wanted"]] if server else [])


# migrates a fresh database with the app's migration steps (domain/migrations/_fast_state.py) or with tortoise's own,
# then describes its schema: every table, column, index and constraint as the database itself reports them
_SCHEMA_SCRIPT = """
import asyncio, json, sys
from tortoise import Tortoise
from domain.migrations import _fast_state
from api.manage import migrate
from api.settings import Settings
from domain.db import tortoise_config

URL, STEPS = sys.argv[1], sys.argv[2]
PG = (
    "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' '"
    " || coalesce(column_default, '') AS d FROM information_schema.columns WHERE table_schema = current_schema()",
    "SELECT indexdef AS d FROM pg_indexes WHERE schemaname = current_schema()",
    "SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS d FROM pg_constraint"
    " WHERE connamespace = current_schema()::regnamespace",
    "SELECT app || '.' || name AS d FROM tortoise_migrations",
)
SQLITE = (
    "SELECT type || ' ' || name || ' ' || coalesce(sql, '') AS d FROM sqlite_master",
    "SELECT app || '.' || name AS d FROM tortoise_migrations",
)

async def main():
    if STEPS == "tortoise":
        _fast_state.uninstall()
    assert _fast_state.installed() == (STEPS == "fast")
    await migrate(Settings(database_url=URL))
    await Tortoise.init(config=tortoise_config(URL))
    client = Tortoise.get_connection("default")
    queries = PG if client.capabilities.dialect == "postgres" else SQLITE
    rows = [r["d"] for q in queries for r in await client.execute_query_dict(q)]
    await Tortoise.close_connections()
    print(json.dumps(sorted(rows), ensure_ascii=False))

asyncio.run(main())
"""


def _schema_after_migrating(url: str, steps: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _SCHEMA_SCRIPT, url, steps],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    schema: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return schema


def test_the_app_migrates_with_its_own_state_steps_in_place():
    # given the migrations package, imported as tortoise's loader imports it
    from domain.migrations import _fast_state

    # then the steps that rebuild only what an operation changed replaced tortoise's (a tortoise release whose
    # methods differ from the reviewed ones keeps its own: this fails until _fast_state is reviewed against it)
    assert _fast_state.installed(), "tortoise-orm's Migration.apply or StateApps._build_initial_querysets changed"


async def test_the_fast_state_steps_make_the_schema_tortoise_own_steps_make(tmp_path):
    # given two fresh databases, on PostgreSQL when DATABASE_URL names one, else on SQLite
    server = _server_url()
    urls: list[str] = []
    names: list[str] = []
    for steps in ("fast", "tortoise"):
        if server:
            from tests.conftest import _create_pg_database

            url, name = await _create_pg_database(server)
            names.append(name)
        else:
            url = f"sqlite://{tmp_path / f'{steps}.sqlite3'}"
        urls.append(url)

    # when one is migrated with the app's steps and the other with tortoise's own
    try:
        fast, own = (_schema_after_migrating(url, steps) for url, steps in zip(urls, ("fast", "tortoise"), strict=True))
    finally:
        if server:
            from tests.conftest import _drop_pg_database

            for name in names:
                await _drop_pg_database(server, name)

    # then every table, column, index, constraint and applied migration is the same
    assert len(fast) > 300
    assert fast == own
