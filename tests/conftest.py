"""Real databases for every test: a fresh SQLite file, or a fresh PostgreSQL database.

DATABASE_URL names the server to use (its database name is the prefix of the one created);
REDIS_URL, when set, makes the app use Redis for the broker and rate limits. Migrations are the
committed ones, applied once per session; tables are emptied before each test.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import ssl
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import uvicorn
from tortoise import Tortoise, connections

from api.app import create_app
from api.http_protocol import protocol
from api.manage import migrate
from api.ratelimit import MemoryRateLimiter, RedisRateLimiter
from api.services import Services, plug_adapters
from api.settings import Settings
from domain.accounts import adapters, passwords
from domain.common import clock
from domain.common.clock import ManualClock
from domain.db import is_postgres, tortoise_config
from domain.wiring import wire
from notifications.broker import RedisBroker
from tests.support.clamav import ClamdProcess, start_clamd

KEEP_TABLES = {"signing_key", "tortoise_migrations", "tortoise_migration", "region"}


def _server_url() -> str | None:
    url = os.environ.get("DATABASE_URL")
    return url if url and is_postgres(url) else None


async def _create_pg_database(server_url: str) -> tuple[str, str]:
    import asyncpg

    parts = urlsplit(server_url)
    base = parts.path.lstrip("/") or "palmtrade"
    name = f"{base}_t{uuid.uuid4().hex[:10]}"
    admin = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return urlunsplit(("postgres", parts.netloc, f"/{name}", parts.query, "")), name


async def _drop_pg_database(server_url: str, name: str) -> None:
    import asyncpg

    parts = urlsplit(server_url)
    conn = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass
class TestDatabase:
    url: str
    postgres: bool
    tables: list[str] = field(default_factory=list)
    emptying: str = ""


@pytest.fixture(scope="session")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[TestDatabase]:
    server = _server_url()
    if server:
        url, name = await _create_pg_database(server)
    else:
        url = f"sqlite://{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        name = ""
    await migrate(Settings(database_url=url))
    await Tortoise.init(config=tortoise_config(url), _enable_global_fallback=True)
    wire()  # the domain's composition root, as build_services does: tests that fire the chronograph directly
    db = TestDatabase(url=url, postgres=bool(server))
    db.tables = [
        m._meta.db_table
        for m in Tortoise.apps.get_models_iterable()  # type: ignore[union-attr]
        if m._meta.db_table not in KEEP_TABLES
    ]
    if server:
        db.emptying = await _pg_emptying(db.tables)
    try:
        yield db
    finally:
        await Tortoise.close_connections()
        if server:
            await _drop_pg_database(server, name)


async def _pg_emptying(models: list[str]) -> str:
    """The script that empties the PostgreSQL test database before each test, as TRUNCATE ... RESTART IDENTITY
    CASCADE of every model's table would, but by DELETE. A TRUNCATE gives each table and index a new file, fsynced
    as each index is rebuilt empty (DataFileImmediateSync): with 250 tables that took seconds a test on a busy disk,
    where deleting the few rows a test wrote takes milliseconds. Every table of the schema but the kept ones is
    emptied (tables outside the models, such as the search index, as CASCADE reached them), with the foreign keys'
    triggers off for the transaction (session_replication_role, a superuser's setting: the test server's user is one;
    any other user keeps the TRUNCATE), and the sequences the tables own restart, as RESTART IDENTITY made them."""
    conn = connections.get("default")
    [role] = await conn.execute_query_dict("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    tables = [
        r["tablename"]
        for r in await conn.execute_query_dict(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1"
        )
        if r["tablename"] not in KEEP_TABLES
    ]
    if not role["rolsuper"] or not set(models) <= set(tables):
        names = ", ".join(f'"{t}"' for t in models)
        return f"TRUNCATE {names} RESTART IDENTITY CASCADE"
    listed = ", ".join(f"'{t}'" for t in tables)
    sequences = await conn.execute_query_dict(
        "SELECT s.seqrelid::regclass::text AS name, s.seqstart AS start FROM pg_sequence s"
        " JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid AND d.deptype IN ('a', 'i')"
        f" JOIN pg_class t ON t.oid = d.refobjid WHERE t.relname IN ({listed}) ORDER BY 1"
    )
    deletes = "".join(f'DELETE FROM "{t}";' for t in tables)
    restarts = ", ".join(f"setval('{q['name']}', {int(q['start'])}, false)" for q in sequences)
    return (
        f"BEGIN;SET LOCAL session_replication_role = replica;{deletes}"
        f"{f'SELECT {restarts};' if restarts else ''}COMMIT;"
    )


async def empty_tables(db: TestDatabase) -> None:
    conn = connections.get("default")
    if db.postgres:
        await conn.execute_script(db.emptying)
    else:
        deletes = "".join(f'DELETE FROM "{t}";' for t in db.tables)
        await conn.execute_script(
            f"PRAGMA foreign_keys=OFF;{deletes}DELETE FROM announcement_fts;"
            "DELETE FROM sqlite_sequence;PRAGMA foreign_keys=ON;"
        )


@pytest.fixture
async def db(database: TestDatabase) -> AsyncIterator[TestDatabase]:
    """An empty database with the real schema."""
    await empty_tables(database)
    return database


@pytest.fixture
def manual_clock() -> Any:
    """A clock tests move by hand; every service, token and the server read it."""
    fake = ManualClock(datetime.now(UTC))
    previous = clock.set_clock(fake)
    yield fake
    clock.set_clock(previous)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Api:
    """The app served by a real uvicorn on loopback, as clients meet it."""

    base_url: str
    services: Services
    http: httpx.AsyncClient

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        expect_errors: bool = False,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token:
            sent["authorization"] = f"Bearer {token}"
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)
        body: dict[str, Any] = response.json()
        if not expect_errors:
            assert response.status_code == 200, body
            assert "errors" not in body, body
        return body

    async def dispatch(self) -> int:
        """Delivers the outbox now (the background dispatcher is off in tests)."""
        return await self.services.dispatcher.drain()

    async def send_texts(self) -> int:
        """Sends the queued texts now (the workers' SMS dispatcher is off in tests), through the outbox the server
        uses."""
        return await adapters.deps.sms.run_once()  # type: ignore[attr-defined,no-any-return]

    @property
    def sms(self) -> list[tuple[str, str]]:
        return adapters.deps.sms.sent  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="session")
def clamd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdProcess]:
    """A real clamd with a signature database the tests made (it matches the EICAR test file)."""
    process = start_clamd(tmp_path_factory.mktemp("clamd"))
    yield process
    process.stop()


def storage_settings(tmp: Path) -> dict[str, Any]:
    """The blob store the tests use: STORAGE_URL when set (.ci/run's second pass: an S3 server), else a folder."""
    return {
        "storage_url": os.environ.get("STORAGE_URL") or f"fs://{tmp}",
        "storage_access_key_id": os.environ.get("STORAGE_ACCESS_KEY_ID") or None,
        "storage_secret_access_key": os.environ.get("STORAGE_SECRET_ACCESS_KEY") or None,
        "presigned_downloads": os.environ.get("STORAGE_PRESIGNED_DOWNLOADS", "1") != "0",
    }


@pytest.fixture(scope="session")
async def server(
    database: TestDatabase, tmp_path_factory: pytest.TempPathFactory, clamd: ClamdProcess
) -> AsyncIterator[tuple[str, Services]]:
    settings = Settings(
        database_url=database.url,
        redis_url=os.environ.get("REDIS_URL") or None,
        secret_key=b"test-secret-key-of-sufficient-length-0123456789",
        run_workers=False,
        seed_demo=False,
        audit_export_path=tmp_path_factory.mktemp("audit") / "heads.jsonl",
        clamd_address=clamd.address,
        **storage_settings(tmp_path_factory.mktemp("files")),
    )
    app = create_app(settings)
    async with serving(app) as base_url:
        yield base_url, app.state.services


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The app served by uvicorn on a free loopback port (its lifespan run), until the block ends; its base URL. The
    HTTP protocol is `serve`'s (one write per response, HTTP_ONE_WRITE's default)."""
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        http=protocol(one_write=True),
        ws="websockets-sansio",
        timeout_keep_alive=app.state.services.settings.http_keep_alive_seconds,  # as `serve`: longer than httpx's 5 s
    )
    uv = uvicorn.Server(config)
    task = asyncio.create_task(uv.serve())
    for _ in range(200):
        if uv.started:
            break
        await asyncio.sleep(0.05)
    assert uv.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, timeout=10)


async def _settle(services: Services, published_before: int) -> None:
    """Lets what a test published reach Redis and come back before the next test empties the tables
    and reuses the same ids: a live message arriving late would otherwise reach the next test's
    subscribers of the object that now has that id. (The test server runs no dispatcher: tests deliver
    the outbox themselves, so nothing else is still on its way.) A test that published nothing has nothing on
    its way: most tests, each of which waited 50 ms in the second pass of .ci/run."""
    bus = services.bus
    if isinstance(bus, RedisBroker) and bus.published != published_before:
        await asyncio.sleep(0.05)


async def forget_rate_limits(services: Services) -> None:
    """Forgets every rate-limit window: the tables restart their ids with each test, so a count kept under
    `bid:<org id>` by the last test would otherwise limit this test's organisation of the same id."""
    limiter = services.limiter
    if isinstance(limiter, MemoryRateLimiter):
        limiter._windows.clear()
    elif isinstance(limiter, RedisRateLimiter):
        client = limiter.space._client
        keys = [key async for key in client.scan_iter(match=limiter.space.name("rl", "*"))]
        if keys:
            await client.delete(*keys)


@pytest.fixture
async def api(server: tuple[str, Services], db: TestDatabase) -> AsyncIterator[Api]:
    base_url, services = server
    services.response_cache.clear()  # like the tables: answers kept for the last test are not this one's
    await forget_rate_limits(services)  # and counts kept under ids the emptied tables hand out again
    plug_adapters(services)  # another app a test started (traces, health) may have taken the domain's adapters
    published = services.bus.published if isinstance(services.bus, RedisBroker) else 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30, verify=loopback_tls()) as http:
        yield Api(base_url=base_url, services=services, http=http)
    await _settle(services, published)


@functools.cache
def loopback_tls() -> ssl.SSLContext:
    """The TLS context of the tests' HTTP clients, made once: httpx makes a new one (the CA bundle loaded, about
    17 ms of CPU) for every client otherwise, and the `api` fixture makes a client for each test. The server is
    plain HTTP on loopback, so the context is never used for a handshake."""
    return ssl.create_default_context()


# argon2id at its least cost (1 pass over 64 KiB, 1 lane) for every app, server and subprocess the tests start:
# the suite hashes and verifies thousands of passwords, each about 0.1-0.25 s of CPU at the production cost
TEST_PASSWORD_HASH_COST = {
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_KIB": "64",
    "PASSWORD_HASH_PARALLELISM": "1",
}


def pytest_configure(config: pytest.Config) -> None:
    for name, value in TEST_PASSWORD_HASH_COST.items():
        os.environ.setdefault(name, value)
    passwords.configure(*(int(os.environ[name]) for name in TEST_PASSWORD_HASH_COST))
    if os.environ.get("PALMTRADE_CI_SERVICES") == "1" and not (_server_url() and os.environ.get("REDIS_URL")):
        raise pytest.UsageError("PALMTRADE_CI_SERVICES=1 needs DATABASE_URL on PostgreSQL and REDIS_URL")


def pytest_report_header(config: pytest.Config) -> list[str]:
    url = os.environ.get("DATABASE_URL") or "sqlite (temporary file)"
    redis = os.environ.get("REDIS_URL") or "in-process broker"
    return [f"palmtrade: database={url.split('@')[-1]} broker={redis}"]


ROOT = Path(__file__).resolve().parent.parent
# how long a test waits for a `serve` process it started to answer: a start is 13-20 s on a loaded two-core machine
# (imports and the schema about 7 s, the migration check about 4 s), and CI runs two suites side by side
SERVER_START = 60.0
