"""Command line: serve, migrate, run the worker, seed the demo city or bulk announcements, rotate keys, verify audit."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import getpass
import json
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Coroutine
from typing import Any, TypeVar

if __name__ == "__main__":
    # no collection while the process starts: importing the domain and building the schema make a million objects
    # and no garbage, and the collector's passes over them were about 0.5 s of a server's 3.5 s of CPU to its first
    # answer; gc_tuning.settle turns it back on once serve or the worker has started, main() for other commands
    gc.disable()

from tortoise import Tortoise
from tortoise.connection import get_connection
from tortoise.migrations.api import migrate as tortoise_migrate
from tortoise.migrations.executor import MigrationExecutor

from api import gc_tuning, logs
from api.settings import Settings
from domain import wiring
from domain.db import is_postgres, postgres_credentials, tortoise_config

MIGRATION_LOCK = 0x7061_6C6D  # pg_advisory_lock key held while migrating ("palm")


async def migrate(settings: Settings) -> None:
    """Applies every committed migration (the same ones on SQLite and PostgreSQL), one process at a time."""
    if settings.database_url.startswith("sqlite://"):
        from pathlib import Path

        path = settings.database_url.removeprefix("sqlite://")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    from domain.migrations._deployment import lending_kek

    config = tortoise_config(settings.database_url)
    try:
        async with _one_migrator(settings.database_url):
            with lending_kek(settings.kek_ring().current):  # 0022 seals plaintext signing keys under it
                await tortoise_migrate(config=config)
    finally:
        await Tortoise.close_connections()


class SchemaBehind(RuntimeError):
    """The database lacks migrations this release carries, and this process may not apply them."""


async def unapplied(settings: Settings) -> list[str]:
    """The committed migrations the database lacks, in the order they apply (none: its schema is current)."""
    config = tortoise_config(settings.database_url)
    await Tortoise.init(config=config, init_connections=False)
    try:
        steps = await MigrationExecutor(get_connection("default"), config["apps"]).plan(None)
    finally:
        await Tortoise.close_connections()
    return [f"{step.migration.app_label}.{step.migration.name}" for step in steps if not step.backward]


async def prepare_database(settings: Settings, migrate_at_start: bool) -> None:
    """What `serve` does before it serves: with MIGRATE_AT_START (the embedded default) it migrates; without (a
    deployment that migrates as its own step, e.g. behind PgBouncer, where the migrator's session advisory lock cannot
    hold) it refuses a database whose schema is behind with SchemaBehind, rather than run on it."""
    if migrate_at_start:
        await migrate(settings)
        return
    behind = await unapplied(settings)
    if behind:
        raise SchemaBehind(
            f"the database lacks {len(behind)} migration(s) of this release ({behind[0]} first, {behind[-1]} last) "
            "and MIGRATE_AT_START is off: run `python -m api.manage migrate` against the database itself (not "
            "through a transaction-mode pooler), then start the servers"
        )


@contextlib.asynccontextmanager
async def _one_migrator(database_url: str) -> AsyncIterator[None]:
    """PostgreSQL: a session advisory lock, so servers started together migrate one after the other (the
    later ones find nothing left to do; two at once failed on duplicate types). SQLite: one process anyway."""
    if not is_postgres(database_url):
        yield
        return
    import asyncpg

    credentials = postgres_credentials(database_url)
    conn = await asyncpg.connect(
        host=credentials.get("host"),
        port=credentials.get("port"),
        user=credentials.get("user"),
        password=credentials.get("password"),
        database=credentials.get("database"),
        ssl=credentials.get("ssl"),
    )
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        yield
    finally:
        await conn.close()  # the session ends, and its lock with it


T = TypeVar("T")


def run_loop(main: Coroutine[Any, Any, T]) -> T:
    """Runs a long-lived process's loop on uvloop, as uvicorn runs the server's: the worker's socket writes to
    PostgreSQL and Redis cost about a third of its CPU on the plain asyncio loop (bench/README.md)."""
    try:
        import uvloop
    except ImportError:  # Windows: no uvloop
        return asyncio.run(main)
    return uvloop.run(main)


async def _with_db(settings: Settings, job: Awaitable[T]) -> T:
    await Tortoise.init(config=tortoise_config(settings.database_url))
    wiring.wire()  # a command runs domain services as the server does (domain/wiring.py)
    try:
        return await job
    finally:
        await Tortoise.close_connections()


async def _seed(settings: Settings) -> bool:
    from api.seed import seed_demo_city

    return await seed_demo_city(settings.secret_key)


async def _run_worker(settings: Settings) -> None:
    """The dispatcher, the scheduler and the push senders as their own process (several may run at once).

    SIGTERM or SIGINT: each loop finishes the step in hand (within SHUTDOWN_GRACE_SECONDS), then the
    process exits 0; a second signal ends it at once. With WORKER_HEALTH_PORT it answers /healthz and
    /readyz; under a systemd Type=notify unit it reports READY, STOPPING and the watchdog.
    """
    from api import lifecycle
    from api.services import build_services, start, stop

    log = logging.getLogger("palmtrade.worker")
    services = build_services(settings)
    await start(services, with_workers=True)
    gc_tuning.settle(settings.gc_freeze, settings.gc_gen0_threshold)  # as the server's app does after its start
    loop = asyncio.get_running_loop()

    def leave(sig: signal.Signals) -> None:
        log.info("%s: finishing the work in hand, then stopping (again to stop at once)", sig.name)
        services.lifecycle.drain()
        services.stop.set()
        for each in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(each)  # the default action again: a second signal ends the process

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, leave, sig)
    probes = None
    if settings.worker_health_port:
        checks = lifecycle.server_checks(services.bus, services.keyring, services.lifecycle)
        checks["loops"] = lifecycle.loops_working(services.lifecycle, services.tasks, settings.worker_stall_seconds)
        probes = await lifecycle.serve_probes(
            settings.host, settings.worker_health_port, checks, settings.readiness_timeout
        )
    watchdog = asyncio.create_task(_watchdog(services.stop)) if lifecycle.watchdog_interval() else None
    lifecycle.notify("READY=1")
    log.info("worker %s running", services.holder)
    try:
        await services.stop.wait()
    finally:
        lifecycle.notify("STOPPING=1")
        if probes is not None:
            probes.close()  # an orchestrator sees it gone, not ready
        await stop(services)
        if watchdog is not None:
            watchdog.cancel()
        log.info("worker %s stopped", services.holder)


async def _watchdog(stop: asyncio.Event) -> None:
    """WATCHDOG=1 to systemd while the event loop turns (WatchdogSec= restarts a hung worker)."""
    from api import lifecycle

    interval = lifecycle.watchdog_interval() or 1.0
    while not stop.is_set():
        lifecycle.notify("WATCHDOG=1")
        await asyncio.sleep(interval)


def _serve(settings: Settings) -> None:
    """uvicorn, leaving gracefully (api/lifecycle.py GracefulServer)."""
    import uvicorn

    from api.app import create_app
    from api.http_protocol import protocol
    from api.lifecycle import GracefulServer

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's loggers go through ours (api/logs.py): one format, masked, with request ids
        access_log=False,  # the auth middleware writes the access log, sampled (ACCESS_LOG_SAMPLE, api/logs.py)
        http=protocol(settings.http_one_write),  # a response's head and body in one write (HTTP_ONE_WRITE)
        timeout_keep_alive=settings.http_keep_alive_seconds,  # HTTP_KEEP_ALIVE_SECONDS
        ws="websockets-sansio",
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # type: ignore[arg-type]  # a float works
    )
    server = GracefulServer(config, app.state.services.lifecycle, settings.shutdown_drain_seconds)
    server.run()
    if not server.started:
        sys.exit(3)  # uvicorn's STARTUP_FAILURE


def _needs_redis(settings: Settings, command: str) -> str | None:
    """In production, processes that split the work must share live events through Redis."""
    if not settings.production or settings.redis_url:
        return None
    if command == "worker" or (command == "serve" and not settings.run_workers):
        return (
            f"`{command}` in production needs REDIS_URL: without it the live events of the dispatchers never "
            "reach the servers' subscribers, and rate limits are per process"
        )
    return None


async def _rotate(settings: Settings) -> str:
    from api.services import token_policy
    from domain.accounts.tokens import rotate

    key = await rotate(token_policy(settings), keks=settings.kek_ring())
    return f"new key {key.kid} signs from {key.activates_at.isoformat()}"


async def _rewrap(settings: Settings) -> str:
    from domain.accounts.tokens import rewrap_keys

    keks = settings.kek_ring()
    changed = await rewrap_keys(keks)
    return f"{changed} signing keys re-wrapped under {keks.current.id}; KEKs other than it may now leave the ring"


async def _create_operator(settings: Settings, phone: str, name: str, password: str) -> str:
    from api.seed import create_operator

    org = await create_operator(phone=phone, name=name, password=password)
    return f"operator organisation {org.id} with user {phone}"


async def _ocds_export(prefix: str, out: str) -> int:
    from domain.disclosure import ocds

    with open(out, "w", encoding="utf-8") as stream:  # noqa: ASYNC230 (a command, not a server)
        return await ocds.export_all(prefix, ocds.jsonl_writer(stream))


async def _seed_announcements(settings: Settings, n: int, batch: int, seed: int) -> str:
    from api.bulk_seed import seed_announcements

    report = await seed_announcements(n, batch=batch, seed=seed, progress=sys.stderr.isatty())
    return (
        f"{report.announcements} announcements of {report.projects} new projects, {report.feed_entries} feed entries "
        f"in {report.seconds:.1f} s ({report.rate:.0f} announcements/s)"
    )


async def _verify(settings: Settings) -> dict[str, Any]:
    from domain.audit import services as audit

    result = await audit.verify(audit.read_export_file(settings.audit_export_path))
    return {
        "ok": result.ok,
        "checked": result.checked,
        "head": result.head_seq,
        "firstBroken": result.first_broken_seq,
        "reason": result.reason,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="palmtrade")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser(
        "serve",
        help="migrate (unless MIGRATE_AT_START=0: then refuse a database that lacks migrations), seed the demo city on "
        "first start, serve the API",
    )
    sub.add_parser("migrate", help="apply migrations (one process at a time: a session advisory lock on PostgreSQL)")
    sub.add_parser("worker", help="run the outbox dispatcher, the scheduler and the push senders")
    sub.add_parser("seed-demo", help="load the demo city into an empty database")
    sub.add_parser("rotate-keys", help="publish a new signing key (signs after the publish lead)")
    sub.add_parser(
        "rewrap-keys", help="re-seal every stored signing key under the newest key-encryption key (KEK rotation)"
    )
    sub.add_parser("verify-audit", help="verify the audit chain")
    export = sub.add_parser("ocds-export", help="write an OCDS record per public lot, one JSON per line")
    export.add_argument("--prefix", default=None, help="registered ocid prefix (default: OCDS_PREFIX)")
    export.add_argument("--out", required=True)
    bulk = sub.add_parser("seed-announcements", help="publish N generated announcements in bulk (scale tests)")
    bulk.add_argument("--announcements", type=int, required=True, metavar="N")
    bulk.add_argument("--batch", type=int, default=5000, help="announcements per transaction (default 5000)")
    bulk.add_argument("--seed", type=int, default=2026, help="random seed: the same seed, the same announcements")
    op = sub.add_parser("create-operator", help="open the operator organisation and its first user")
    op.add_argument("--phone", required=True)
    op.add_argument("--name", default="交易中心管理员")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    logs.configure(settings.log_level, settings.log_format)
    if args.command not in ("serve", "worker"):
        gc.enable()  # serve and the worker turn it on once started (gc_tuning.settle)
    if problem := _needs_redis(settings, args.command):
        parser.error(problem)
    if args.command == "migrate":
        asyncio.run(migrate(settings))
    if args.command == "serve":
        try:
            asyncio.run(prepare_database(settings, settings.migrate_at_start))
        except SchemaBehind as err:
            print(f"palmtrade serve: {err}", file=sys.stderr)
            return 3  # as uvicorn's STARTUP_FAILURE
        if settings.seed_demo and asyncio.run(_with_db(settings, _seed(settings))):
            print("demo city loaded: see README.md for its accounts")
        _serve(settings)
    elif args.command == "worker":
        run_loop(_run_worker(settings))
    elif args.command == "seed-demo":
        print("loaded" if asyncio.run(_with_db(settings, _seed(settings))) else "database not empty; nothing done")
    elif args.command == "seed-announcements":
        if args.announcements < 0 or not 1 <= args.batch <= 50_000:
            parser.error("--announcements must be >= 0 and --batch between 1 and 50000")
        print(asyncio.run(_with_db(settings, _seed_announcements(settings, args.announcements, args.batch, args.seed))))
    elif args.command == "rotate-keys":
        print(asyncio.run(_with_db(settings, _rotate(settings))))
    elif args.command == "rewrap-keys":
        print(asyncio.run(_with_db(settings, _rewrap(settings))))
    elif args.command == "verify-audit":
        result = asyncio.run(_with_db(settings, _verify(settings)))
        print(json.dumps(result, ensure_ascii=False))
        return 0 if result["ok"] else 1
    elif args.command == "ocds-export":
        count = asyncio.run(_with_db(settings, _ocds_export(args.prefix or settings.ocds_prefix, args.out)))
        print(f"{count} records written to {args.out}")
    elif args.command == "create-operator":
        password = getpass.getpass("password: ") if sys.stdin.isatty() else sys.stdin.readline().strip()
        print(asyncio.run(_with_db(settings, _create_operator(settings, args.phone, args.name, password))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
