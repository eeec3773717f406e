"""The outbox worker per event, two code trees alternated (issue 21, bench/README.md "(8)").

Not a bench of the served stack (bench/auction.py is). One database (PostgreSQL with `--postgres URL`, else SQLite),
seeded as bench/auction.py seeds it (a hot lot, `--bidders` qualified bidders, optionally one device each so that
outbid notices make push deliveries). Each round, for each tree named by `--tree NAME=DIR` (a checkout of the code:
`git worktree add /tmp/base <commit>` for the before), a child process running that tree's code places `--bids`
accepted bids in turn on the hot lot (each outbids the previous leader: a bid event and an outbid notice, as a hot
lot makes them), publishes each bid as the server does after its commit (so the broker's marks are there), then
drains the outbox with `notifications.dispatch.Dispatcher(api.services.outbox_consumers(bus))` at each `--batch`
size over its share of those events. Only the dispatch is measured: the child's CPU (`time.process_time`; on
PostgreSQL asyncpg's work is in it), this database's PostgreSQL backends' CPU, and the SQL statements the
dispatcher sent (asyncpg's query logger; BEGIN and COMMIT included), per event and per batch. The trees alternate
their order every round, so both see the same machine; every round is printed, then the median per tree. The child
runs on uvloop, as the worker does (api/manage.py).

    .venv/bin/python bench/outbox_ab.py --postgres postgres://postgres@127.0.0.1:5432/test \
      --redis redis://127.0.0.1:6379/0 --tree before=/tmp/base --tree after=. --rounds 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_cpu(url: str) -> float:
    """CPU seconds of the local PostgreSQL backends of this database (as bench/auction.py counts them; that module
    is not imported here: the child runs another tree's code)."""
    marker = f" {url.rsplit('/', 1)[1].split('?', 1)[0]} ".encode()
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            if (
                text[text.index("(") + 1 : text.rindex(")")] == "postgres"
                and marker in (stat.parent / "cmdline").read_bytes()
            ):
                total += _cpu_seconds(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return total


def _statement_kind(query: str) -> str:
    """A statement shortened to what it does: its verb and first table."""
    text = " ".join(query.split())
    match = re.match(
        r"(?i)(begin|commit|rollback|savepoint|release|select pg_advisory_xact_lock|"
        r"(?:update|insert into|delete from)\s+\"?(\w+)\"?|select .*? from \"?(\w+)\"?)",
        text,
    )
    if match is None:
        return text[:60]
    head = match.group(1).split()[0].upper()
    table = match.group(2) or match.group(3)
    if head == "SELECT" and "pg_advisory_xact_lock" in text:
        return "SELECT pg_advisory_xact_lock"
    return f"{head} {table}" if table else head


async def child(job: dict[str, Any]) -> dict[str, Any]:
    import asyncpg
    from tortoise import Tortoise

    from api.services import broker_and_limiter, outbox_consumers
    from api.settings import Settings
    from domain.auctions.services import place_bid
    from domain.common.actors import Actor, Role
    from domain.common.events import live_message
    from domain.common.models import OutboxEvent
    from domain.db import tortoise_config
    from domain.wiring import wire
    from notifications.dispatch import Dispatcher

    url = job["url"]
    statements: Counter[str] = Counter()
    counting = [False]

    def logged(record: Any) -> None:
        if counting[0]:
            statements[_statement_kind(record.query)] += 1

    original = asyncpg.connection.Connection.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        self.add_query_logger(logged)

    asyncpg.connection.Connection.__init__ = init  # type: ignore[method-assign]
    await Tortoise.init(config=tortoise_config(url))
    wire()
    bus, _ = broker_and_limiter(Settings(database_url=url, redis_url=job["redis"] or ""))
    postgres = url.startswith("postgres")
    pg_cpu = (lambda: postgres_cpu(url)) if postgres else (lambda: 0.0)
    bidders = job["bidders"]
    out: dict[str, Any] = {"batches": {}}
    for size in job["batches"]:
        # the backlog: accepted bids in turn, each bidder outbidding the previous leader, published as the server does
        from domain.auctions.models import Auction

        auction = await Auction.get(lot_id=job["lot"])
        price = auction.current_price_fen or auction.starting_price_fen - auction.increment_fen
        turn = job["turn"]
        for _ in range(job["bids"]):
            turn += 1
            org = bidders[turn % len(bidders)]
            price += auction.increment_fen
            actor = Actor(user_id=org, org_id=org, roles=frozenset({Role.BIDDER}), session_id="bench")
            placed = await place_bid(actor, job["lot"], price)
            await bus.publish(live_message(placed.event))
        job["turn"] = turn
        waiting = await OutboxEvent.filter(dispatched_at=None).count()
        dispatcher = Dispatcher(outbox_consumers(bus), batch_size=size)
        await asyncio.sleep(0.2)  # the broker's publishes gone
        statements.clear()
        counting[0] = True
        cpu0, pg0, batches, done = time.process_time(), pg_cpu(), 0, 0
        while n := await dispatcher.run_once():
            done += n
            batches += 1
        cpu1, pg1 = time.process_time(), pg_cpu()
        counting[0] = False
        out["batches"][str(size)] = {
            "waiting": waiting,
            "events": done,
            "batches": batches,
            "worker_s": cpu1 - cpu0,
            "postgres_s": pg1 - pg0,
            "statements": dict(statements),
        }
    out["turn"] = job["turn"]
    await bus.close()
    await Tortoise.close_connections()
    return out


async def prepare(args: argparse.Namespace) -> tuple[dict[str, Any], Any]:
    sys.path.insert(0, str(HERE.parent))
    sys.path.insert(0, str(HERE))
    from auction import seed  # type: ignore[import-not-found]
    from publication import create_database  # type: ignore[import-not-found]
    from tortoise import Tortoise

    from api.manage import migrate
    from api.settings import Settings
    from domain.accounts.models import User
    from domain.db import tortoise_config
    from domain.notifications.models import Device

    db = await create_database(args.postgres)
    await migrate(Settings(database_url=db.url))
    await Tortoise.init(config=tortoise_config(db.url))
    seeded = await seed(args.bidders)
    users = await User.filter(organisation_id__gte=min(e[2] for e in seeded.entries)).values_list("id", flat=True)
    bidders = sorted(int(e[2]) for e in seeded.entries)
    if args.devices:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
        await Device.bulk_create(
            [
                Device(
                    user_id=int(u),
                    provider="fcm",
                    token=f"bench-{u}",
                    platform="android",
                    app_version="1.0",
                    locale="zh-CN",
                    created_at=now,
                    last_seen_at=now,
                )
                for u in users
            ]
        )
    await Tortoise.close_connections()
    job = {"url": db.url, "redis": args.redis, "lot": seeded.lots["bids"], "bidders": bidders, "turn": 0}
    return job, db


def run_child(tree: Path, job: dict[str, Any], profile: Path | None = None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("DATABASE_URL", None)
    spy: list[str] = []
    if profile is not None:  # py-spy runs the child (bid placing included: sum the stacks under _deliver)
        profile.parent.mkdir(parents=True, exist_ok=True)
        py_spy = str(Path(sys.executable).parent / "py-spy")
        spy = [py_spy, "record", "-r", "200", "-f", "raw", "--nonblocking", "-o", str(profile), "--"]
    proc = subprocess.run(
        [*spy, sys.executable, str(Path(__file__).resolve()), "--child"],
        input=json.dumps(job).encode(),
        capture_output=True,
        cwd=tree,
        env=env,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.decode()[-4000:])
    result: dict[str, Any] = json.loads(proc.stdout.decode().strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--redis", metavar="URL", default="", help="Redis for the broker (else in-process)")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR", help="a code tree (repeat)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bids", type=int, default=400, help="accepted bids per batch size per round")
    parser.add_argument("--batch", default="200,20,2", help="batch sizes")
    parser.add_argument("--bidders", type=int, default=200)
    parser.add_argument("--devices", action=argparse.BooleanOptionalAction, default=True, help="one device a bidder")
    parser.add_argument("--profile", metavar="DIR", help="py-spy each child into DIR/<tree>_r<round>.txt")
    args = parser.parse_args()
    if args.child:
        job = json.loads(sys.stdin.read())
        sys.path.insert(0, os.getcwd())
        import uvloop  # the worker's loop (api/manage.py)

        print(json.dumps(uvloop.run(child(job))))
        return 0
    trees = [(name, Path(path).resolve()) for name, _, path in (t.partition("=") for t in args.tree)] or [
        ("this", HERE.parent)
    ]
    job, db = asyncio.run(prepare(args))
    job["bids"], job["batches"] = args.bids, [int(b) for b in args.batch.split(",") if b.strip()]
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {name: {} for name, _ in trees}
    try:
        for r in range(args.rounds):
            order = trees if r % 2 == 0 else list(reversed(trees))
            for name, tree in order:
                profile = Path(args.profile) / f"{name}_r{r + 1}.txt" if args.profile else None
                result = run_child(tree, job, profile)
                job["turn"] = result["turn"]
                for size, figures in result["batches"].items():
                    rows[name].setdefault(size, []).append(figures)
                    events = max(1, figures["events"])
                    per = sum(figures["statements"].values()) / max(1, figures["batches"])
                    print(
                        f"# round {r + 1} {name} batch {size}: {figures['events']} events in {figures['batches']}"
                        f" batches; worker {figures['worker_s'] / events * 1e6:.0f} us/event, postgres"
                        f" {figures['postgres_s'] / events * 1e6:.0f} us/event; {per:.1f} statements/batch",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        from publication import drop_database  # type: ignore[import-not-found]

        asyncio.run(drop_database(db))
    for name, _ in trees:
        for size, figures in rows[name].items():
            worker = [f["worker_s"] / max(1, f["events"]) * 1e6 for f in figures]
            pg = [f["postgres_s"] / max(1, f["events"]) * 1e6 for f in figures]
            print(f"{name}_batch{size}_worker_cpu_per_event: {statistics.median(worker):.0f} us")
            print(f"{name}_batch{size}_postgres_cpu_per_event: {statistics.median(pg):.0f} us")
            print(f"{name}_batch{size}_worker_rounds: {' '.join(f'{w:.0f}' for w in worker)} us")
            print(f"{name}_batch{size}_postgres_rounds: {' '.join(f'{p:.0f}' for p in pg)} us")
            last = figures[-1]
            batches = max(1, last["batches"])
            per = {k: v / batches for k, v in sorted(last["statements"].items(), key=lambda kv: -kv[1])}
            print(f"{name}_batch{size}_statements_per_batch: {sum(per.values()):.1f} count")
            print(f"# {name} batch {size} statements per batch: " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
