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
- `bid_lean`: the app's `BidPlace` by hash (schema/lean.py's plan of the bid) against strawberry's pipeline and
  graphql-core (the lean path off for the round). Its targets are bids, not the screens: an auction in free bidding
  with 200 bidders written as bench/auction.py writes them; accepted bids (each bidder in turn bids the price plus
  one increment, so none is refused) and refused bids (a bidder who is not leading bids the starting price:
  BID_TOO_LOW, recorded on the audit trail as the full path records it). The rate limiter is the in-process one
  (5 bids a second per bidder; 200 bidders in turn stay under it).
- `bid_limit_script` (bids; `--redis URL` for the limiter and broker on Redis): the rate limit's count
  (notifications/keyspace.py `Keyspace.count`) as the MULTI/INCR/EXPIRE/EXEC transaction it was before it was one
  EVALSHA.
- `bid_publish_batch` (bids, `--redis URL`): the live publication after the bid (notifications/broker.py
  `RedisBroker.publish`) as it was before its writer task: each publish its own PUBLISH and SET pipeline, awaited.
- `front`: api/graphql_app.py's `_front` off: every request through strawberry's `run` (its content negotiation,
  `parse_http_body`), as before the front.
- `pool_in_place` (PostgreSQL; on bids too with `--bids`): domain/db_pool.py's pool taking and giving back an idle
  connection in place; off, asyncpg's own `_acquire` and `release` (a coroutine each, the release a shielded task).
- `keyspace_lane` (bids, `--redis URL`): the rate-limit count and the live publication on the keyspace's own
  pipelined connection (notifications/keyspace.py `_Lane`); off, through redis-py's client as before.

The loop is uvloop, as uvicorn serves (`--loop asyncio` for the plain loop the figures before "Issue 21, 2026-12-07
(4)" were taken on: there asyncpg's socket writes cost about three times as much, 78 against 25 us per round trip).

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
def _replaced(owner: Any, **attributes: Any) -> Iterator[None]:
    """`owner`'s attributes set as given for the block (a lever off: the code it replaced, put back), then restored."""
    kept = {name: getattr(owner, name) for name in attributes}
    for name, value in attributes.items():
        setattr(owner, name, value)
    try:
        yield
    finally:
        for name, value in kept.items():
            setattr(owner, name, value)


@contextlib.contextmanager
def _is_punished_by_the_orm() -> Iterator[None]:
    from domain.common import clock
    from domain.credit import services
    from domain.credit.models import JointPunishment

    async def is_punished(organisation_id: int, now: datetime | None = None) -> bool:
        in_force = services._in_force(now or clock.now())
        return await JointPunishment.filter(in_force, organisation_id=organisation_id).exists()

    with _replaced(services, is_punished=is_punished):
        yield


@contextlib.contextmanager
def _punished_asked_apart() -> Iterator[None]:
    from domain.accounts.organisations import user_of
    from domain.credit import services

    async def user_of_and_punished(actor: Any, now: datetime | None = None) -> tuple[Any, bool | None]:
        return await user_of(actor), None  # None: underPunishment asks is_punished itself

    with _replaced(services, user_of_and_punished=user_of_and_punished):
        yield


@contextlib.contextmanager
def _without_front() -> Iterator[None]:
    from api.graphql_app import PalmTradeGraphQL

    with _replaced(PalmTradeGraphQL, front=False):
        yield


@contextlib.contextmanager
def _count_in_a_transaction() -> Iterator[None]:
    from notifications.keyspace import Keyspace

    async def count(self: Keyspace, key: str, ttl_seconds: int) -> int:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.incr(self.name(key))
            pipe.expire(self.name(key), ttl_seconds)
            number, _ = await pipe.execute()
        return int(number)

    with _replaced(Keyspace, count=count):
        yield


@contextlib.contextmanager
def _publish_each_in_a_pipeline() -> Iterator[None]:
    from domain.common.topics import topic_of, watermark
    from notifications.broker import TOPIC_CHANNEL, RedisBroker, _encode, channel_of
    from notifications.keyspace import MARK_SECONDS

    async def publish(self: RedisBroker, message: dict[str, Any]) -> None:
        mark = watermark(message)
        async with self.space._client.pipeline(transaction=False) as pipe:
            pipe.publish(self.space.name(channel_of(topic_of(message))), _encode(message))
            if mark is not None:
                pipe.set(self.space.name(f"{TOPIC_CHANNEL}-seq:{mark[0]}"), mark[1], ex=MARK_SECONDS)
            await pipe.execute()

    with _replaced(RedisBroker, publish=publish):
        yield


@contextlib.contextmanager
def _pool_by_asyncpgs_code() -> Iterator[None]:
    import asyncpg

    from domain.db_pool import Pool

    with _replaced(Pool, _acquire=asyncpg.Pool._acquire, release=asyncpg.Pool.release):
        yield


@contextlib.contextmanager
def _scripts_through_redis_py() -> Iterator[None]:
    import hashlib

    from redis.exceptions import NoScriptError

    from notifications.keyspace import Keyspace

    async def _script(self: Keyspace, script: str, numkeys: int, *args: str | int) -> Any:
        sha = self._shas.get(script) or self._shas.setdefault(
            script, hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
        )
        try:
            return await self._client.evalsha(sha, numkeys, *args)
        except NoScriptError:
            self._shas[script] = await self._client.script_load(script)
            return await self._client.evalsha(self._shas[script], numkeys, *args)

    with _replaced(Keyspace, _script=_script):
        yield


LEVERS: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
    "is_punished": _is_punished_by_the_orm,
    "user_of_and_punished": _punished_asked_apart,
    "bid_lean": contextlib.nullcontext,  # measured by measure_bid: off turns the lean path off for the round
    "front": _without_front,
    "bid_limit_script": _count_in_a_transaction,
    "bid_publish_batch": _publish_each_in_a_pipeline,
    "pool_in_place": _pool_by_asyncpgs_code,
    "keyspace_lane": _scripts_through_redis_py,
}
# measured on bids (measure_bid), the others on Me and the screen
BID_LEVERS = {"bid_lean", "bid_limit_script", "bid_publish_batch", "keyspace_lane"}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lever", choices=sorted(LEVERS), required=True)
    parser.add_argument("--requests", type=int, default=300, help="requests per target and round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--postgres", metavar="URL", help="a fresh database on this server instead of SQLite")
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--bids", action="store_true", help="measure the lever on bids (measure_bid)")
    parser.add_argument("--redis", metavar="URL", default="", help="the broker and rate limits on this Redis")
    args = parser.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop

        uvloop.install()
    import persisted as bench  # bench/persisted.py: the database it prepares and the stored documents

    folder = tempfile.mkdtemp(prefix="palmtrade-lever-")
    created = asyncio.run(bench.create_pg_database(args.postgres)) if args.postgres else None
    url = created[0] if created else f"sqlite://{folder}/lever.sqlite3"
    secret = "s" * 48
    try:
        setup = multiprocessing.get_context("spawn").Process(target=bench.prepare, args=(url, secret, 40))
        setup.start()
        setup.join()
        os.environ.update(DATABASE_URL=url, SECRET_KEY=secret, SEED_DEMO="0", RUN_WORKERS="0", REDIS_URL=args.redis)
        os.chdir(folder)
        label = "postgres" if created else "sqlite"
        if args.lever in BID_LEVERS or args.bids:
            off = LEVERS[args.lever]
            asyncio.run(measure_bid(bench, f"{label}_{args.lever}", args.requests, args.rounds, off))
        else:
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


async def measure_bid(
    bench: Any, label: str, requests: int, rounds: int, off: Callable[[], Any] = contextlib.nullcontext
) -> None:
    import auction  # bench/auction.py: its seeded auction and bidders
    import httpx

    from api.app import create_app
    from api.settings import Settings
    from schema.relay import to_global_id

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
        lean = app.state.services.lean
        from domain.accounts.models import User

        # bench/auction.py's bidders sign in as 13900000001..: the demo city's users with those numbers move aside
        for user in await User.filter(phone__in=[f"139{i:08d}" for i in range(1, 201)]):
            user.phone = f"1370{user.id:07d}"
            await user.save(update_fields=["phone"])
        seeded = await auction.seed(200)
        lot = to_global_id("Lot", seeded.lots["bids"])
        sha256 = bench.operation("BidPlace")[1]
        price = [auction.START_PRICE - auction.STEP]
        turn = [0]
        leader = [-1]
        kinds: dict[tuple[str, bool], set[str]] = {}

        async def burst(target: str, count: int, enabled: bool) -> None:
            for _ in range(count):
                turn[0] = (turn[0] + 1) % len(seeded.tokens)
                if turn[0] == leader[0]:
                    turn[0] = (turn[0] + 1) % len(seeded.tokens)  # a refusal to the leader is ALREADY_LEADING
                token = seeded.tokens[turn[0]]
                amount = price[0] + auction.STEP if target == "accepted" else auction.START_PRICE
                body = {
                    "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha256}},
                    "variables": {"input": {"lotId": lot, "amountFen": amount}},
                }
                reply = await client.post("/graphql", json=body, headers={"authorization": f"Bearer {token}"})
                answer = reply.json()
                result = (answer.get("data") or {}).get("bidPlace") or {}
                kind = str(result.get("code") or result.get("__typename") or answer)
                if target == "accepted" and kind == "BidPlaced":
                    price[0], leader[0] = amount, turn[0]
                kinds.setdefault((target, enabled), set()).add(kind)

        toggles_lean = off is contextlib.nullcontext  # bid_lean: off is the lean path off
        for enabled in (False, True):
            lean.enabled = enabled or not toggles_lean
            with contextlib.nullcontext() if enabled else off():
                for target in ("accepted", "refused"):
                    await burst(target, 50, enabled)  # plan built, statements warm
        early = lean.stats.early
        rows: dict[tuple[str, bool], list[float]] = {}
        for round_no in range(rounds):
            for enabled in (False, True) if round_no % 2 == 0 else (True, False):  # neither always second
                lean.enabled = enabled or not toggles_lean
                with contextlib.nullcontext() if enabled else off():
                    for target in ("accepted", "refused"):
                        spent[0] = 0.0
                        await burst(target, requests, enabled)
                        rows.setdefault((target, enabled), []).append(spent[0] / requests * 1e6)
        lean.enabled = True
        early = (lean.stats.early - early) // (1 if toggles_lean else 2)
    expected = {"accepted": {"BidPlaced"}, "refused": {"BID_TOO_LOW"}}
    for (target, enabled), seen in kinds.items():
        if seen != expected[target]:
            raise RuntimeError(f"{target} bids, lean {'on' if enabled else 'off'}: answered {sorted(seen)}")
    if early != 2 * rounds * requests:
        raise RuntimeError(f"{early} bids answered early by the lean path, not {2 * rounds * requests}")
    for (target, enabled), measured in sorted(rows.items()):
        figure = f"lever_{label}_{target}_{'on' if enabled else 'off'}_app_cpu"
        print(f"{figure}: {min(measured):.0f} us")
        print(f"# {figure}: per round {' '.join(str(round(v)) for v in measured)} us", file=sys.stderr)


if __name__ == "__main__":
    main()
