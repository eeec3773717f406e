"""The remote opening at scale: N bidders hand over their keys inside one decryption window.

One run:

1. a fresh database on the server DATABASE_URL names (PostgreSQL: a new database
   ``<name>_bench_<random>``, dropped at the end; otherwise a SQLite file in a temporary directory),
   migrated; only loopback servers are accepted;
2. seeded in bulk (not measured): one sealed tender lot (open_tender, evaluating) of a tenderer,
   N approved bidder organisations (default 3,000; ``--scale tiny`` 100) each with a user, a
   registration and a standing ``SealedBid`` holding a real JWE sealed with
   ``mobile_contract.sealed_bid.seal`` under its own key, and the lot's ``Opening`` in its
   decryption window (deadline a minute ago, the lot's 60-minute window); with ``--graphql`` a
   second such lot with the same bidders and fresh keys. Real time (the system clock) throughout;
3. baselines, in this process, before the opening: ``SELECT 1`` p50 and the pure decryption
   ``domain.tendering.sealing.open_sealed`` of the same N tokens one after another (p50 and total);
4. the opening: N key submissions through ``domain.tendering.opening.submit_key`` (the service
   layer: the shared lock on the opening, the row lock on the bid, decryption, checks, the event),
   ``--concurrency`` tasks (default 50) pulling bidders from one queue, each call timed; with
   ``--graphql`` the same through the GraphQL schema executed in process (``bidDecrypt``, no HTTP)
   on the second lot;
5. verified: every bid decrypted with its price, one ``opening.bid_decrypted`` event per bid, no
   refusal; exits 1 otherwise.

Output, one figure a line, ``name: value unit``, then the ratios to the baselines. CPU seconds of
this process and of the database server's backends (PostgreSQL on this machine, read from /proc)
say which side the opening waits on. Goals: p99 per decryption < 1 s (a bidder taps "decrypt" and
waits) and all N decrypted within 60 s (stated on stderr, met or not).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/palmtrade .venv/bin/python bench/opening.py
    .venv/bin/python bench/opening.py --scale tiny            # SQLite smoke test for CI
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import math
import os
import random
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_baseline import cpu_seconds  # noqa: E402
from bench.publication import create_database, drop_database, percentile  # noqa: E402

SCALES = {"default": 3_000, "tiny": 100}
GOALS = {"decrypt_p99_ms": 1000.0, "opening_total_s": 60.0}
BATCH = 1000
DECRYPT = """mutation($input: BidDecryptInput!) { bidDecrypt(input: $input) {
  __typename ... on BidDecrypted { priceFen documents } ... on Error { code message } } }"""


class Failed(Exception):
    pass


def log(message: str, args: argparse.Namespace) -> None:
    if not args.quiet:
        print(f"# {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- seeding


@dataclass
class Bidder:
    org_id: int
    user_id: int
    keys: list[dict[str, Any]] = field(default_factory=list)  # one per lot
    tokens: list[str] = field(default_factory=list)
    prices: list[int] = field(default_factory=list)


@dataclass
class Seeded:
    lots: list[tuple[int, str]]  # (lot id, trade code)
    bidders: list[Bidder]
    seconds: float
    seal_seconds: float


def with_pool(url: str, size: int) -> str:
    """The URL with an asyncpg pool of `size` connections, unless it names one already."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("maxsize", str(size))
    query.setdefault("minsize", "1")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


async def seed(n: int, lots: int, postgres: bool) -> Seeded:
    """A tenderer, `lots` sealed tender lots in their decryption window, and n bidders with a sealed bid on each."""
    from tortoise import connections
    from tortoise.transactions import in_transaction

    from domain.accounts.models import Organisation, User
    from domain.common.catalogue import Category
    from domain.publication.identifiers import trade_code
    from domain.publication.models import Lot, Project
    from domain.publication.procedures import Procedure, configure
    from domain.registration.models import Registration
    from domain.tendering.models import Opening, SealedBid
    from mobile_contract.sealed_bid import new_key, seal

    began = time.perf_counter()
    now = datetime.now(UTC)
    deadline = now - timedelta(minutes=1)
    rng = random.Random(20260)
    project_code = trade_code("370200", Category.ENGINEERING_CONSTRUCTION, now.year, rng.randrange(1, 10**6))
    bidders = [Bidder(org_id=i + 2, user_id=i + 2) for i in range(n)]

    def org(org_id: int, name: str, kinds: list[str]) -> Organisation:
        return Organisation(
            id=org_id,
            credit_code=f"91370200MA{org_id:07d}X"[:18],
            name=name,
            region_code="370202",
            kinds=kinds,
            contact_name="压测",
            contact_phone=f"139{org_id:08d}",
            status="approved",
            created_at=now,
            updated_at=now,
        )

    # the JWEs first, as the phones made them before the deadline
    seal_began = time.perf_counter()
    codes = [
        trade_code("370200", Category.ENGINEERING_CONSTRUCTION, now.year, int(project_code[12:18]), k + 1)
        for k in range(lots)
    ]
    for b in bidders:
        for code in codes:
            key, price = new_key(), rng.randrange(900_000_000, 1_300_000_000)
            files = {"商务标.pdf": secrets.token_bytes(64), "技术标.pdf": secrets.token_bytes(64)}
            b.keys.append(key)
            b.prices.append(price)
            b.tokens.append(seal(key, code, price, files))
    seal_seconds = time.perf_counter() - seal_began

    async with in_transaction():
        await Organisation.bulk_create(
            [org(1, "青岛压测建设集团有限公司", ["tenderer"])]
            + [org(b.org_id, f"压测投标人{b.org_id:05d}工程有限公司", ["bidder"]) for b in bidders],
            batch_size=BATCH,
        )
        await User.bulk_create(
            [
                User(
                    id=b.user_id,
                    organisation_id=b.org_id,
                    phone=f"138{b.user_id:08d}",
                    name="压测用户",
                    password_hash="-",
                    created_at=now,
                )
                for b in bidders
            ],
            batch_size=BATCH,
        )
        project = await Project.create(
            trade_code=project_code,
            name="压测市政道路改造工程",
            category=Category.ENGINEERING_CONSTRUCTION.value,
            region_code="370202",
            tenderer_id=1,
            created_at=now,
        )
        seeded_lots = []
        for k, code in enumerate(codes):
            config = configure(Procedure.OPEN_TENDER, {})
            config["bid_deadline"] = deadline.isoformat()
            window = timedelta(minutes=int(config.get("decryption_window_minutes", 60)))
            lot = await Lot.create(
                project_id=project.id,
                lot_no=k + 1,
                trade_code=code,
                name=f"压测标段{k + 1}",
                procedure=Procedure.OPEN_TENDER.value,
                estimated_price_fen=1_500_000_000,
                config=config,
                status="evaluating",
                created_at=now - timedelta(days=30),
                updated_at=now,
            )
            await Registration.bulk_create(
                [
                    Registration(
                        lot_id=lot.id,
                        organisation_id=b.org_id,
                        user_id=b.user_id,
                        status="registered",
                        registered_at=now - timedelta(days=20),
                        updated_at=now - timedelta(days=20),
                    )
                    for b in bidders
                ],
                batch_size=BATCH,
            )
            regs = dict(await Registration.filter(lot_id=lot.id).values_list("organisation_id", "id"))
            await SealedBid.bulk_create(
                [
                    SealedBid(
                        lot_id=lot.id,
                        registration_id=regs[b.org_id],
                        organisation_id=b.org_id,
                        submitted_by=b.user_id,
                        ciphertext=b.tokens[k],
                        ciphertext_sha256=hashlib.sha256(b.tokens[k].encode()).hexdigest(),
                        size=len(b.tokens[k]),
                        status="submitted",
                        submitted_at=now - timedelta(days=1),
                    )
                    for b in bidders
                ],
                batch_size=BATCH,
            )
            await Opening.create(
                lot_id=lot.id,
                status="decrypting",
                deadline=deadline,
                started_at=deadline,
                window_ends_at=deadline + window,
                next_check_at=deadline + window,
                bids=n,
                created_at=now - timedelta(days=30),
                updated_at=deadline,
            )
            seeded_lots.append((lot.id, code))
    conn = connections.get("default")
    if postgres:  # explicit ids above: move the sequences past them
        for table in ("organisation", "app_user"):
            await conn.execute_script(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM \"{table}\"))"
            )
    await conn.execute_script("ANALYZE")
    return Seeded(lots=seeded_lots, bidders=bidders, seconds=time.perf_counter() - began, seal_seconds=seal_seconds)


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    name: str
    latencies: list[float]  # seconds, sorted
    total: float
    cpu_self: float
    cpu_db: float
    refusals: Counter[str]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.total if self.total else math.nan

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)


async def backend_pids(postgres: bool) -> list[int]:
    if not postgres:
        return []
    from tortoise import connections

    rows = await connections.get("default").execute_query_dict(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
    )
    return [int(r["pid"]) for r in rows]


def cpu_of(pids: list[int]) -> dict[int, float]:
    return {pid: cpu_seconds(pid) for pid in pids}


async def baseline_select_1(repeat: int) -> list[float]:
    from tortoise import connections

    conn = connections.get("default")
    for _ in range(10):
        await conn.execute_query("SELECT 1")
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        await conn.execute_query("SELECT 1")
        samples.append(time.perf_counter() - t0)
    return sorted(samples)


def baseline_open_sealed(seeded: Seeded, k: int) -> tuple[list[float], float]:
    """The pure decryption and check of every token, one after another: (sorted latencies, total)."""
    from domain.tendering.sealing import open_sealed

    code = seeded.lots[k][1]
    for b in seeded.bidders[:20]:  # warm-up
        open_sealed(b.tokens[k], b.keys[k], code)
    samples = []
    began = time.perf_counter()
    for b in seeded.bidders:
        t0 = time.perf_counter()
        opened = open_sealed(b.tokens[k], b.keys[k], code)
        samples.append(time.perf_counter() - t0)
        if opened.price_fen != b.prices[k]:
            raise Failed(f"open_sealed gave {opened.price_fen} for organisation {b.org_id}, sealed {b.prices[k]}")
    total = time.perf_counter() - began
    return sorted(samples), total


async def opening_run(name: str, seeded: Seeded, k: int, args: argparse.Namespace, graphql: bool) -> Run:
    """Every bidder hands over its key for lot k, `concurrency` at a time; each call timed."""
    from domain.common.actors import Actor, Role
    from domain.common.errors import DomainError
    from domain.tendering import opening

    lot_id = seeded.lots[k][0]
    queue: asyncio.Queue[Bidder] = asyncio.Queue()
    for b in random.Random(k).sample(seeded.bidders, len(seeded.bidders)):  # arrival order != seeding order
        queue.put_nowait(b)
    latencies: list[float] = []
    refusals: Counter[str] = Counter()

    def actor(b: Bidder) -> Actor:
        return Actor(user_id=b.user_id, org_id=b.org_id, roles=frozenset({Role.BIDDER}), session_id="bench")

    if graphql:
        from schema.build import build_schema
        from schema.context import Context
        from schema.relay import to_global_id

        schema = build_schema()
        lot_gid = to_global_id("Lot", lot_id)

        async def call(b: Bidder) -> None:
            result = await schema.execute(
                DECRYPT,
                variable_values={"input": {"lotId": lot_gid, "key": b.keys[k]}},
                context_value=Context(request=None, response=None, actor=actor(b)),
            )
            if result.errors:
                refusals[f"graphql:{result.errors[0].message[:60]}"] += 1
                return
            data = (result.data or {}).get("bidDecrypt") or {}
            if data.get("__typename") != "BidDecrypted":
                refusals[str(data.get("code") or data.get("__typename"))] += 1
            elif data.get("priceFen") != b.prices[k]:
                refusals["wrong price answered"] += 1

    else:

        async def call(b: Bidder) -> None:
            try:
                bid = await opening.submit_key(actor(b), lot_id, b.keys[k])
            except DomainError as err:
                refusals[err.code] += 1
                return
            if bid.price_fen != b.prices[k]:
                refusals["wrong price answered"] += 1

    async def worker() -> None:
        while True:
            try:
                b = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            try:
                await call(b)
            except Exception as err:  # a bug or a database error: count it, keep the others going
                refusals[f"{type(err).__name__}: {str(err)[:80]}"] += 1
            latencies.append(time.perf_counter() - t0)

    pids = await backend_pids(args.postgres)
    db_before = cpu_of(pids)
    self_before = time.process_time()
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    total = time.perf_counter() - began
    cpu_self = time.process_time() - self_before
    db_after = cpu_of(await backend_pids(args.postgres))
    readable = {pid: v for pid, v in db_after.items() if not math.isnan(v)}  # NaN: not on this machine
    cpu_db = sum(v - db_before.get(pid, 0.0) for pid, v in readable.items()) if readable else math.nan
    return Run(name, sorted(latencies), total, cpu_self, cpu_db, refusals)


async def verify(seeded: Seeded, k: int) -> list[str]:
    """Every bid of lot k decrypted with its sealed price, one bid_decrypted event each."""
    from domain.common.models import OutboxEvent
    from domain.tendering.models import Opening, SealedBid

    lot_id = seeded.lots[k][0]
    problems = []
    rows = await SealedBid.filter(lot_id=lot_id).values_list("organisation_id", "status", "price_fen")
    by_org = {int(o): (s, p) for o, s, p in rows}
    wrong = [b.org_id for b in seeded.bidders if by_org.get(b.org_id) != ("decrypted", b.prices[k])]
    if len(rows) != len(seeded.bidders) or wrong:
        problems.append(f"lot {lot_id}: {len(wrong)} of {len(seeded.bidders)} bids not decrypted with their price")
    opening_id = (await Opening.get(lot_id=lot_id)).id
    events = await OutboxEvent.filter(type="opening.bid_decrypted", object_id=str(opening_id)).count()
    if events != len(seeded.bidders):
        problems.append(f"lot {lot_id}: {events} opening.bid_decrypted events for {len(seeded.bidders)} bids")
    return problems


async def audience_bytes(postgres: bool) -> float:
    """The mean size of the audience JSON of the bid_decrypted events (who may watch each line)."""
    from tortoise import connections

    length = "octet_length(audience::text)" if postgres else "length(audience)"
    rows = await connections.get("default").execute_query_dict(
        f"SELECT avg({length}) AS n FROM outbox_event WHERE type = 'opening.bid_decrypted'"
    )
    return float(rows[0]["n"] or 0.0)


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> int:
    from tortoise import Tortoise

    from api.manage import migrate
    from api.settings import Settings
    from domain.common import clock
    from domain.db import tortoise_config
    from domain.wiring import wire

    clock.set_clock(clock.SystemClock())  # real time: the window was seeded around now
    db = await create_database(os.environ.get("DATABASE_URL"))
    args.postgres = db.postgres
    url = with_pool(db.url, args.pool) if db.postgres else db.url
    lines: list[str] = []
    problems: list[str] = []
    try:
        await migrate(Settings(database_url=db.url))
        await Tortoise.init(config=tortoise_config(url))
        wire()  # the domain's composition root: timed transitions, award blockers, security
        try:
            lots = 2 if args.graphql else 1
            log(f"seeding {args.bidders} bidders with a sealed bid on {lots} lot(s)", args)
            seeded = await seed(args.bidders, lots, db.postgres)
            lines += [
                f"bidders: {args.bidders} count",
                f"concurrency: {args.concurrency} count",
                f"seed_time: {seeded.seconds:.2f} s",
                f"seal_time: {seeded.seal_seconds:.2f} s",
            ]
            log("baselines: SELECT 1, open_sealed", args)
            select_1 = await baseline_select_1(args.repeat)
            pure, pure_total = baseline_open_sealed(seeded, 0)
            log(f"opening: {args.bidders} key submissions through submit_key, {args.concurrency} at a time", args)
            runs = [await opening_run("service", seeded, 0, args, graphql=False)]
            problems += await verify(seeded, 0)
            if args.graphql:
                log(f"opening: {args.bidders} bidDecrypt mutations through the schema", args)
                runs.append(await opening_run("graphql", seeded, 1, args, graphql=True))
                problems += await verify(seeded, 1)
            audience = await audience_bytes(db.postgres)
        finally:
            await Tortoise.close_connections()
    finally:
        if args.keep:
            print(f"# kept the database: {db.url}", file=sys.stderr)
        else:
            await drop_database(db)

    s1 = percentile(select_1, 0.5)
    pure_p50 = percentile(pure, 0.5)
    for line in lines:
        print(line)
    print(f"baseline_select_1_p50: {s1 * 1000:.3f} ms")
    print(f"baseline_open_sealed_p50: {pure_p50 * 1e6:.1f} us")
    print(f"baseline_open_sealed_p99: {percentile(pure, 0.99) * 1e6:.1f} us")
    print(f"baseline_open_sealed_total: {pure_total:.3f} s")
    print(f"baseline_open_sealed_per_second: {len(pure) / pure_total:.0f} decrypts/s")
    for r in runs:
        suffix = "" if r.name == "service" else f"_{r.name}"
        print(f"decrypt{suffix}_p50: {r.p(0.5) * 1000:.2f} ms")
        print(f"decrypt{suffix}_p99: {r.p(0.99) * 1000:.2f} ms")
        print(f"decrypt{suffix}_max: {r.latencies[-1] * 1000:.2f} ms")
        print(f"opening_total{suffix}: {r.total:.2f} s")
        print(f"decrypts_per_second{suffix}: {r.rate:.0f} decrypts/s")
        print(f"opening_cpu_bench_process{suffix}: {r.cpu_self:.2f} s")
        if args.postgres:
            print(f"opening_cpu_database{suffix}: {r.cpu_db:.2f} s")
        print(f"refusals{suffix}: {sum(r.refusals.values())} count")
    print(f"bid_decrypted_audience_mean: {audience:.0f} bytes")
    service = runs[0]
    print(f"decrypt_p50_vs_open_sealed_p50: {service.p(0.5) / pure_p50:.1f} x")
    print(f"decrypt_p50_vs_select_1_p50: {service.p(0.5) / s1:.1f} x")
    print(f"opening_total_vs_open_sealed_total: {service.total / pure_total:.1f} x")
    print(f"open_sealed_share_of_opening: {pure_total / service.total * 100:.1f} %")
    if args.graphql:
        print(f"decrypt_graphql_p50_vs_service_p50: {runs[1].p(0.5) / service.p(0.5):.2f} x")
        print(f"opening_total_graphql_vs_service: {runs[1].total / service.total:.2f} x")

    for r in runs:
        for reason, count in r.refusals.most_common(5):
            print(f"# {r.name} refused {count}x: {reason}", file=sys.stderr)
            problems.append(f"{r.name}: {count} submissions refused ({reason})")
    for r in runs:
        for goal, value, limit in (
            ("p99 per decryption < 1 s", r.p(0.99) * 1000, GOALS["decrypt_p99_ms"]),
            (f"all {args.bidders} decrypted within 60 s", r.total, GOALS["opening_total_s"]),
        ):
            met = value < limit
            print(f"# goal ({r.name}) {goal}: {'met' if met else 'NOT met'} ({value:.1f})", file=sys.stderr)
    print(
        f"# database={'postgresql' if db.postgres else 'sqlite'} bidders={args.bidders} "
        f"concurrency={args.concurrency} pool={args.pool if db.postgres else 1} cores={os.cpu_count()} clock=system",
        file=sys.stderr,
    )
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    return 0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="default", help="default 3,000 bidders; tiny 100")
    parser.add_argument("--bidders", type=int, default=None, help="override the scale's count")
    parser.add_argument("--concurrency", type=int, default=50, help="key submissions in flight (tasks)")
    parser.add_argument(
        "--pool", type=int, default=None, help="PostgreSQL connections (default: the concurrency, at most 90)"
    )
    parser.add_argument("--graphql", action="store_true", help="also measure bidDecrypt through the schema")
    parser.add_argument("--repeat", type=int, default=500, help="SELECT 1 calls for its p50")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database and print its URL")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    args = parser.parse_args(argv)
    args.bidders = args.bidders if args.bidders is not None else SCALES[args.scale]
    args.pool = args.pool if args.pool is not None else min(args.concurrency, 90)
    if args.bidders < 1 or args.concurrency < 1 or args.pool < 1 or args.repeat < 1:
        parser.error("--bidders, --concurrency, --pool and --repeat must be >= 1")
    if args.bidders > 9_999_000:
        parser.error("--bidders must be below 9,999,000 (organisation ids fit the credit code)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return asyncio.run(run(args))
    except Failed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # setup failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
