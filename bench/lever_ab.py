"""One lever of issue 21 measured on and off in the same process, in alternated rounds (bench/README.md).

Not a bench of the served stack (bench/persisted.py is): the app is called through ASGI, without uvicorn, on a fresh
database holding the demo city and 40 generated announcements (SQLite, or PostgreSQL with `--postgres URL`). The
app's own `query Me` and the executed home screen (`AnnouncementList`, `Cache-Control: no-cache`) are sent by hash,
in rounds alternating the lever off and on (off first, then on first), so both see the same machine. It prints the
main thread's CPU per request of the app call (`time.thread_time`: on PostgreSQL asyncpg's work is in it, SQLite's
own thread is not), the best round and every round. A lever off is the code it replaced, put back for the round:

- `is_punished`: `domain.credit.services.is_punished` as the ORM query it was before it was one statement.
- `user_of_and_punished`: `query Me` reads the user and organisation with `user_of`, and `underPunishment` asks
  `is_punished` in a second statement, as before `underPunishment` was read in `user_of`'s statement.

    .venv/bin/python bench/lever_ab.py --lever is_punished --postgres postgres://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

LOGIN = "mutation($i: AuthLoginInput!) { authLogin(input: $i) { ... on SignedIn { session { accessToken } } } }"


@contextlib.contextmanager
def _is_punished_by_the_orm() -> Iterator[None]:
    from domain.common import clock
    from domain.credit import services
    from domain.credit.models import JointPunishment

    async def is_punished(organisation_id: int, now: datetime | None = None) -> bool:
        in_force = services._in_force(now or clock.now())
        return await JointPunishment.filter(in_force, organisation_id=organisation_id).exists()

    kept = services.is_punished
    services.is_punished = is_punished
    try:
        yield
    finally:
        services.is_punished = kept


@contextlib.contextmanager
def _punished_asked_apart() -> Iterator[None]:
    from domain.accounts.organisations import user_of
    from domain.credit import services

    async def user_of_and_punished(actor: Any, now: datetime | None = None) -> tuple[Any, bool | None]:
        return await user_of(actor), None  # None: underPunishment asks is_punished itself

    kept = services.user_of_and_punished
    services.user_of_and_punished = user_of_and_punished  # type: ignore[assignment]
    try:
        yield
    finally:
        services.user_of_and_punished = kept


LEVERS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "is_punished": _is_punished_by_the_orm,
    "user_of_and_punished": _punished_asked_apart,
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lever", choices=sorted(LEVERS), required=True)
    parser.add_argument("--requests", type=int, default=300, help="requests per target and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--postgres", metavar="URL", help="a fresh database on this server instead of SQLite")
    args = parser.parse_args(argv)
    import persisted as bench  # bench/persisted.py: the database it prepares and the stored documents

    folder = tempfile.mkdtemp(prefix="palmtrade-lever-")
    created = asyncio.run(bench.create_pg_database(args.postgres)) if args.postgres else None
    url = created[0] if created else f"sqlite://{folder}/lever.sqlite3"
    secret = "s" * 48
    try:
        setup = multiprocessing.get_context("spawn").Process(target=bench.prepare, args=(url, secret, 40))
        setup.start()
        setup.join()
        os.environ.update(DATABASE_URL=url, SECRET_KEY=secret, SEED_DEMO="0", RUN_WORKERS="0", REDIS_URL="")
        os.chdir(folder)
        label = "postgres" if created else "sqlite"
        asyncio.run(measure(bench, LEVERS[args.lever], f"{label}_{args.lever}", args.requests, args.rounds))
    finally:
        if created:
            asyncio.run(bench.drop_pg_database(args.postgres, created[1]))


async def measure(bench: Any, off: Callable[[], Any], label: str, requests: int, rounds: int) -> None:
    import httpx

    from api.app import create_app
    from api.seed import DEMO_PASSWORD
    from api.settings import Settings

    app = create_app(Settings.from_env())
    spent = [0.0]

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        started = time.thread_time()
        try:
            await app(scope, receive, send)
        finally:
            spent[0] += time.thread_time() - started

    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=asgi), base_url="http://bench") as client,
    ):
        variables = {"i": {"phone": "13800000001", "password": DEMO_PASSWORD}}
        reply = await client.post("/graphql", json={"query": LOGIN, "variables": variables})
        token = reply.json()["data"]["authLogin"]["session"]["accessToken"]
        headers = {"authorization": f"Bearer {token}", "cache-control": "no-cache"}

        def by_hash(name: str, variables: dict[str, Any]) -> dict[str, Any]:
            sha256 = bench.operation(name)[1]
            return {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}}, "variables": variables}

        targets = {"Me": by_hash("Me", {}), "AnnouncementList": by_hash("AnnouncementList", {"first": 20})}
        answers: dict[str, set[bytes]] = {}

        async def burst(name: str, count: int) -> None:
            for _ in range(count):
                reply = await client.post("/graphql", json=targets[name], headers=headers)
                if reply.status_code != 200 or b'"errors"' in reply.content:
                    raise RuntimeError(f"{name}: {reply.content[:300]!r}")
                answers.setdefault(name, set()).add(reply.content)

        for enabled in (False, True):
            with contextlib.nullcontext() if enabled else off():
                for name in targets:
                    await burst(name, 50)  # plans built, caches and statements warm
        rows: dict[tuple[str, bool], list[float]] = {}
        for round_no in range(rounds):
            for enabled in (False, True) if round_no % 2 == 0 else (True, False):  # neither always second
                with contextlib.nullcontext() if enabled else off():
                    for name in targets:
                        spent[0] = 0.0
                        await burst(name, requests)
                        rows.setdefault((name, enabled), []).append(spent[0] / requests * 1e6)
    for name, seen in answers.items():
        if len(seen) != 1:
            raise RuntimeError(f"{name}: {len(seen)} different answers between the lever off and on")
    for (name, enabled), measured in sorted(rows.items()):
        figure = f"lever_{label}_{name}_{'on' if enabled else 'off'}_app_cpu"
        print(f"{figure}: {min(measured):.0f} us")
        print(f"# {figure}: per round {' '.join(str(round(v)) for v in measured)} us", file=sys.stderr)


if __name__ == "__main__":
    main()
