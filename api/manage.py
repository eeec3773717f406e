"""Command line: serve, migrate, run the worker, seed the demo city or bulk announcements, rotate keys, verify audit."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import logging
import sys

from tortoise import Tortoise
from tortoise.migrations.api import migrate as tortoise_migrate

from api.settings import Settings
from domain.db import tortoise_config


async def migrate(settings: Settings) -> None:
    """Applies every committed migration (the same ones on SQLite and PostgreSQL)."""
    if settings.database_url.startswith("sqlite://"):
        from pathlib import Path

        path = settings.database_url.removeprefix("sqlite://")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = tortoise_config(settings.database_url)
    try:
        await tortoise_migrate(config=config)
    finally:
        await Tortoise.close_connections()


async def _with_db(settings: Settings, job: object) -> object:
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return await job  # type: ignore[misc]
    finally:
        await Tortoise.close_connections()


async def _seed(settings: Settings) -> bool:
    from api.seed import seed_demo_city

    return await seed_demo_city(settings.secret_key)


async def _run_worker(settings: Settings) -> None:
    """The dispatcher and the scheduler as their own process (several may run at once)."""
    from api.app import build_services, start, stop

    services = build_services(settings)
    await start(services, with_workers=True)
    logging.getLogger("palmtrade").info("worker %s running", services.holder)
    try:
        await services.stop.wait()
    finally:
        await stop(services)


async def _rotate(settings: Settings) -> str:
    from api.app import token_policy
    from domain.accounts.tokens import rotate

    key = await rotate(token_policy(settings))
    return f"new key {key.kid} signs from {key.activates_at.isoformat()}"


async def _create_operator(settings: Settings, phone: str, name: str, password: str) -> str:
    from api.seed import create_operator

    org = await create_operator(phone=phone, name=name, password=password)
    return f"operator organisation {org.id} with user {phone}"


async def _ocds_export(prefix: str, out: str) -> int:
    from domain.publication import ocds

    with open(out, "w", encoding="utf-8") as stream:  # noqa: ASYNC230 (a command, not a server)
        return await ocds.export_all(prefix, ocds.jsonl_writer(stream))


async def _seed_announcements(settings: Settings, n: int, batch: int, seed: int) -> str:
    from api.bulk_seed import seed_announcements

    report = await seed_announcements(n, batch=batch, seed=seed, progress=sys.stderr.isatty())
    return (
        f"{report.announcements} announcements of {report.projects} new projects, {report.feed_entries} feed entries "
        f"in {report.seconds:.1f} s ({report.rate:.0f} announcements/s)"
    )


async def _verify(settings: Settings) -> dict[str, object]:
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
    sub.add_parser("serve", help="migrate, seed the demo city on first start, serve the API")
    sub.add_parser("migrate", help="apply migrations")
    sub.add_parser("worker", help="run the outbox dispatcher, the scheduler and the push senders")
    sub.add_parser("seed-demo", help="load the demo city into an empty database")
    sub.add_parser("rotate-keys", help="publish a new signing key (signs after the publish lead)")
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
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if args.command in ("serve", "migrate"):
        asyncio.run(migrate(settings))
    if args.command == "serve":
        if settings.seed_demo and asyncio.run(_with_db(settings, _seed(settings))):
            print("demo city loaded: see README.md for its accounts")
        import uvicorn

        from api.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level,
            ws="websockets-sansio",
        )
    elif args.command == "worker":
        asyncio.run(_run_worker(settings))
    elif args.command == "seed-demo":
        print("loaded" if asyncio.run(_with_db(settings, _seed(settings))) else "database not empty; nothing done")
    elif args.command == "seed-announcements":
        if args.announcements < 0 or not 1 <= args.batch <= 50_000:
            parser.error("--announcements must be >= 0 and --batch between 1 and 50000")
        print(asyncio.run(_with_db(settings, _seed_announcements(settings, args.announcements, args.batch, args.seed))))
    elif args.command == "rotate-keys":
        print(asyncio.run(_with_db(settings, _rotate(settings))))
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
