"""Online auctions: bids on one hot lot and live price updates to thousands of watchers, in one run.

One run:

1. a fresh database (PostgreSQL when DATABASE_URL names a loopback server, dropped at the end;
   otherwise a SQLite file in a temporary directory), migrated; rows written directly: a tenderer,
   three lots whose online auctions are in free bidding (started a minute ago, free bidding for a
   day), B bidder organisations each with a user, a registration and an entry (bidder number) on
   every lot, and an access token per bidder signed with the database's key. Lot and organisation
   ids are random and large, so that other users of the same Redis (its pub/sub channel and
   rate-limit keys are global) do not meet this run's lots or bidders;
2. ``sql``: the raw SQL ceiling of the bid on one hot row, for N concurrent connections (asyncpg; SQLite:
   one sqlite3 connection), statement for statement what a warm accepted bid sends (checked with
   log_statement=all, bench/README.md). PostgreSQL: ``SELECT * FROM auction_bid_place(...)`` (migration
   0024: lock, judge, update the auction, insert the bid and its two outbox events, in one statement) with
   the parameters place_bid passes (the pool sends no reset query since domain/db.py's PooledConnection);
   accepted bids/s.
   SQLite, and PostgreSQL's Python path once at one connection (``sql_bid_tx_python_path_c1``): BEGIN,
   ``SELECT * FROM auction WHERE lot_id=$1 FOR UPDATE``, the bidder's and the leader's entries in one
   select, update auction (seq, price, leader, ends_at, next check), insert into auction_bid, insert the
   public bid event and the outbid notice into outbox_event, COMMIT; every
   transaction is an accepted bid. ``hot_lot_vs_sql_ceiling`` divides by the one-connection figure;
3. ``raw``: a plain ``websockets`` broadcast server in its own process and W sockets held by watcher
   processes; U messages, one at a time; latency from the moment the server starts the broadcast to
   receipt at each socket (p50/p99 over every socket and message);
4. a PalmTrade server process (``python -m api.manage serve``, RUN_WORKERS=1, REDIS_URL as given):

   - ``live``: W graphql-transport-ws watchers of ``auctionUpdates(lotId)`` (no token) held by the
     same watcher processes, U bids placed one at a time by this process (the next once every
     watcher has the last and the server answers /healthz quickly again); latency from the moment
     the bid's acknowledgement (the bidPlace response) was read to receipt at each socket, measured
     like the raw broadcast (same client code, same message shape); also from the moment the bid
     request was written (the acknowledgement can wait behind part of the fan-out), and the bid's
     own round trip;
   - ``bids``: client processes with C connections in total (a minimal HTTP/1.1 client on asyncio
     streams), each connection cycling through its share of the B bidders. Each bid takes a ticket from
     a counter shared by the client processes right before it is written and bids the step's starting
     price plus one increment per ticket: every bid is what the price allows when it leaves, and it
     comes back too low only when the platform let a later bid reach the row lock first. First a cold
     step (each bidder bids once: its first bid on the lot), then the warm sweep over C, then a refused
     step (the starting price: BID_TOO_LOW). Accepted and refused counted separately (by code); CPU of
     the servers, the worker, this database's PostgreSQL backends and Redis from each step's start until
     the outbox is drained; plain Starlette's CPU per request (bench/http_baseline.py's route, its own
     server process) measured before, as the unit of the ratios;
   - ``outbox``: a server without a dispatcher takes bids for --outbox-seconds; their events are held
     not due while 1, then 2, worker processes start, then released at once: events/s until empty; such a
     pair --outbox-trials times (3; tiny 1), the order alternating, each figure the median over the trials and
     the second worker's gain each trial's own, with its least and greatest; then
     this process's dispatcher at batch sizes 200, 20 and 2 over a fresh backlog (CPU per event);
   - the bids checked afterwards: sequences 1..N without a gap, prices strictly increasing, the
     auction row equal to the last bid, as many stored as the clients saw accepted.

Output, one figure a line, ``name: value unit``, then the ratios (bench/README.md says what each means).
Goals (stated on stderr, met or not): accepted bidPlace >= 1,000 bids/s and >= 60 % of the SQL ceiling at
one connection; live update p99 within 2x of the raw broadcast's p99. ``--profile DIR`` (py-spy installed
in .venv) samples the server in each bid step, the outbox workers and the dispatcher per batch size.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/palmtrade REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/auction.py
    .venv/bin/python bench/auction.py --scale tiny     # CI smoke test: SQLite + in-process broker if unset

Exits non-zero if setup fails, a watcher misses an update, or the stored bids are inconsistent.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import itertools
import json
import math
import os
import random
import resource
import secrets
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_baseline import _read_reply, cpu_seconds, percentile  # noqa: E402
from bench.publication import BenchDatabase, create_database, drop_database  # noqa: E402

HOST = "127.0.0.1"
START_PRICE = 100_000_000
STEP = 100_000
GOAL_BIDS = 1_000.0
GOAL_SQL_RATIO = 0.6
GOAL_P99_RATIO = 2.0
RUN_SECRET = secrets.token_urlsafe(48)  # every server of a run: the signing keys are sealed with it
BIDS_PER_SECOND = 5  # the server's per-bidder limit (schema/auctions/mutations.py)
SCALES: dict[str, dict[str, Any]] = {
    "default": {
        "bidders": 500,
        "watchers": 5000,
        "watcher_processes": 4,
        "updates": 20,
        "sql_connections": [1, 4, 16, 32],
        "bid_connections": [1, 4, 16, 64],
        "client_processes": 2,
        "sql_seconds": 3.0,
        "bid_seconds": 5.0,
        "warmup": 1.0,
        "cold_connections": 16,
        "plain_connections": 32,
        "plain_seconds": 5.0,
        "outbox_seconds": 3.0,
        "outbox_trials": 3,
    },
    "tiny": {
        "bidders": 60,
        "watchers": 50,
        "watcher_processes": 1,
        "updates": 5,
        "sql_connections": [1, 4],
        "bid_connections": [1, 4],
        "client_processes": 1,
        "sql_seconds": 1.0,
        "bid_seconds": 2.0,
        "warmup": 0.5,
        "cold_connections": 4,
        "plain_connections": 4,
        "plain_seconds": 0.5,
        "outbox_seconds": 1.0,
        "outbox_trials": 1,
    },
}
BID = (
    "mutation($input: BidPlaceInput!) { bidPlace(input: $input) { __typename "
    "... on BidPlaced { bid { seq amountFen } } ... on BidTooLow { minNextFen } ... on Error { code } } }"
)
WATCH = "subscription($lotId: ID!) { auctionUpdates(lotId: $lotId) { kind seq phase priceFen leadingBidderNo endsAt } }"


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


def raise_nofile() -> int:
    """Raises the soft file-descriptor limit to the hard one (children inherit it); returns it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def run_loop(coro: Any) -> Any:
    """asyncio.run on uvloop when installed (uvicorn serves on uvloop: the clients should not be slower)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def stats(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return percentile(ordered, 0.50), percentile(ordered, 0.99)


# --------------------------------------------------------------------------- seeding


@dataclass
class Seeded:
    lots: dict[str, int]  # purpose -> lot pk ("sql", "bids", "live")
    auctions: dict[str, int]  # purpose -> auction pk
    entries: list[tuple[int, str, int]]  # (entry id on the sql lot, bidder number, organisation id)
    tokens: list[str]  # one access token per bidder


async def seed(bidders: int) -> Seeded:
    """A tenderer, three lots with live auctions and `bidders` qualified bidders with tokens, written directly."""
    from tortoise.transactions import in_transaction

    from domain.accounts.models import Organisation, User
    from domain.accounts.tokens import KeyRing, TokenPolicy
    from domain.auctions.models import Auction, AuctionEntry
    from domain.publication.models import Lot, Project
    from domain.registration.models import Registration

    now = datetime.now(UTC)
    base = random.randrange(10**12, 9 * 10**12)  # ids nobody else on a shared Redis uses
    numbers = random.sample(range(1000, 10000), bidders)

    def org(i: int, kinds: list[str]) -> Organisation:
        return Organisation(
            id=base + i,
            credit_code=f"91B{base % 10**9:09d}{i:06d}"[:18],
            name=f"压测竞买人{i:04d}有限公司",
            region_code="370202",
            kinds=kinds,
            contact_name="压测",
            contact_phone=f"139{i:08d}",
            status="approved",
            created_at=now,
            updated_at=now,
        )

    async with in_transaction():
        await Organisation.bulk_create([org(0, ["tenderer"])] + [org(i + 1, ["bidder"]) for i in range(bidders)])
        await User.bulk_create(
            [
                User(
                    id=base + i + 1,
                    organisation_id=base + i + 1,
                    phone=f"139{i + 1:08d}",
                    name="压测用户",
                    password_hash="-",
                    created_at=now,
                )
                for i in range(bidders)
            ]
        )
        project = await Project.create(
            trade_code=f"B{base}",
            name="压测网络竞价项目",
            category="land_use_rights",
            region_code="370211",
            tenderer_id=base,
            created_at=now,
        )
        lots: dict[str, int] = {}
        auctions: dict[str, int] = {}
        for n, purpose in enumerate(("sql", "bids", "live")):
            lot = await Lot.create(
                id=base + n,
                project_id=project.id,
                lot_no=n + 1,
                trade_code=f"B{base}{n}",
                name=f"压测标的{n + 1}",
                procedure="online_auction",
                estimated_price_fen=START_PRICE,
                config={"depositRequired": False},
                status="published",
                created_at=now,
                updated_at=now,
            )
            auction = await Auction.create(
                lot_id=lot.id,
                starting_price_fen=START_PRICE,
                increment_fen=STEP,
                reserve_price_fen=START_PRICE,
                starts_at=now - timedelta(minutes=1),
                free_ends_at=now + timedelta(days=1),
                countdown_seconds=300,
                entry_deadline=now - timedelta(minutes=2),
                phase="free",
                seq=0,
                next_check_at=now + timedelta(days=1),
                created_at=now,
                updated_at=now,
            )
            lots[purpose], auctions[purpose] = lot.id, auction.id
            await Registration.bulk_create(
                [
                    Registration(
                        lot_id=lot.id,
                        organisation_id=base + i + 1,
                        user_id=base + i + 1,
                        status="registered",
                        registered_at=now,
                        updated_at=now,
                    )
                    for i in range(bidders)
                ]
            )
            regs = dict(await Registration.filter(lot_id=lot.id).values_list("organisation_id", "id"))
            await AuctionEntry.bulk_create(
                [
                    AuctionEntry(
                        auction_id=auction.id,
                        organisation_id=base + i + 1,
                        registration_id=regs[base + i + 1],
                        bidder_no=str(numbers[i]),
                        qualified_at=now,
                    )
                    for i in range(bidders)
                ]
            )
    rows = (
        await AuctionEntry.filter(auction_id=auctions["sql"])
        .order_by("id")
        .values_list("id", "bidder_no", "organisation_id")
    )
    entries = [(int(i), str(no), int(org)) for i, no, org in rows]
    # tokens as a sign-in issues them (api/services.py token_policy with the default issuer and audience)
    ring = KeyRing(TokenPolicy())
    await ring.load()
    tokens = [
        ring.issue(
            f"user:{base + i + 1}",
            {"org": base + i + 1, "roles": ["bidder"], "sid": str(uuid.uuid4())},
            ttl=timedelta(hours=3),
        )[0]
        for i in range(bidders)
    ]
    return Seeded(lots=lots, auctions=auctions, entries=entries, tokens=tokens)


# --------------------------------------------------------------------------- (1) the raw SQL ceiling


def postgres_cpu(url: str) -> float:
    """CPU seconds of the local PostgreSQL backends serving the database of `url` (loopback only; other
    databases' backends, e.g. other test runs on the machine, and the shared background processes excluded)."""
    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    marker = f" {name} ".encode()
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] != "postgres":
                continue
            if marker in (stat.parent / "cmdline").read_bytes():  # "postgres: 15/main: user DB host(port) ..."
                total += cpu_seconds(int(stat.parent.name))
    return total


SQL_CPU: dict[int, float] = {}  # connections -> PostgreSQL CPU seconds per transaction in the ceiling run
PYTHON_PATH_CPU: dict[int, float] = {}  # the same for the Python path's statements


async def sql_ceiling_pg(
    url: str, lot_id: int, entries: list[tuple[int, str, int]], connections: int, seconds: float
) -> float:
    """Accepted bids/s of what the server sends for a warm accepted bid on PostgreSQL, `connections` asyncpg
    connections on one hot auction row: place_bid's one statement (``SELECT * FROM auction_bid_place(...)``,
    migration 0024) with the parameters it passes; the pool sends no reset query after it. Each bid
    takes the next amount when it is sent; a bid another connection overtook on its way to the row lock comes
    back refused (its failure event written) and is not counted."""
    import asyncpg

    from domain.auctions.services import ONE_STATEMENT
    from domain.auctions.states import REMIND_BEFORE
    from domain.common.events import Audience
    from domain.common.idempotency import KEY_LIFETIME

    dsn = "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]
    conns = [await asyncpg.connect(dsn) for _ in range(connections)]
    public = json.dumps(Audience(public=True).as_json())
    operators = json.dumps(Audience().as_json())
    row = await conns[0].fetchrow("SELECT id, created_at, current_price_fen FROM auction WHERE lot_id = $1", lot_id)
    scope = (row["id"], row["created_at"])
    amounts = itertools.count(
        START_PRICE if row["current_price_fen"] is None else row["current_price_fen"] + STEP, STEP
    )
    refused = [0]

    async def one(conn: Any, k: int) -> bool:
        org_id = entries[k % len(entries)][2]
        answer = await conn.fetchrow(
            ONE_STATEMENT,
            lot_id,
            next(amounts),
            datetime.now(UTC),
            True,
            REMIND_BEFORE,
            org_id,
            org_id,  # the seeded users' ids are their organisations'
            "bench.sql_bid",
            "127.0.0.1",
            False,
            scope[0],
            scope[1],
            False,  # a warm bidder: its network fact was kept already
            "127.0.0.1",
            None,
            None,
            None,
            None,
            KEY_LIFETIME,
            uuid.uuid4(),
            uuid.uuid4(),
            uuid.uuid4(),
            public,
            operators,
        )
        if answer["verdict"] != "placed":
            refused[0] += 1
        return bool(answer["verdict"] == "placed")

    async def worker(conn: Any, until: float, offset: int) -> int:
        done = sent = 0
        while time.perf_counter() < until:
            done += await one(conn, offset + sent * connections)
            sent += 1
        return done

    try:
        await asyncio.gather(*(worker(c, time.perf_counter() + 0.3, i) for i, c in enumerate(conns)))
        refused[0] = 0
        began, pg0 = time.perf_counter(), postgres_cpu(url)
        counts = await asyncio.gather(*(worker(c, began + seconds, i) for i, c in enumerate(conns)))
        rate = sum(counts) / (time.perf_counter() - began)
        SQL_CPU[connections] = (postgres_cpu(url) - pg0) / max(1, sum(counts) + refused[0])
        if refused[0]:
            log(f"sql: {connections} connections: {refused[0]} bids overtaken on the way to the lock (refused)")
        # the dispatcher of the server started later must not spend its time on these
        await conns[0].execute("DELETE FROM outbox_event WHERE actor_label = 'bench.sql_bid'")
        return rate
    finally:
        for conn in conns:
            await conn.close()


async def sql_python_path_pg(
    url: str, lot_id: int, entries: list[tuple[int, str, int]], connections: int, seconds: float
) -> float:
    """Accepted bids/s of the Python path's bid transaction (SQLite's, and PostgreSQL's before 0024, 7 statements
    under the row lock), `connections` asyncpg connections on one hot auction row."""
    import asyncpg

    dsn = "postgresql://" + url.split("://", 1)[1].split("?", 1)[0]
    conns = [await asyncpg.connect(dsn) for _ in range(connections)]
    public = json.dumps({"orgs": [], "users": [], "roles": [], "public": True})

    async def one(conn: Any, k: int) -> None:
        entry_id, bidder_no, org_id = entries[k % len(entries)]
        async with conn.transaction():
            row = await conn.fetchrow("SELECT * FROM auction WHERE lot_id = $1 FOR UPDATE", lot_id)
            mine = await conn.fetch(
                "SELECT * FROM auction_entry WHERE auction_id = $1 AND (organisation_id = $2 OR id = $3)",
                row["id"],
                org_id,
                row["leading_entry_id"] or 0,
            )
            loser = next((e for e in mine if e["id"] == row["leading_entry_id"] and e["id"] != entry_id), None)
            now = datetime.now(UTC)
            seq = row["seq"] + 1
            price = row["starting_price_fen"] if row["current_price_fen"] is None else row["current_price_fen"] + STEP
            ends_at = row["ends_at"]
            await conn.execute(
                "UPDATE auction SET seq = $2, current_price_fen = $3, leading_entry_id = $4, leading_bidder_no = $5,"
                " ends_at = $6, next_check_at = $7, updated_at = $8 WHERE id = $1",
                row["id"],
                seq,
                price,
                entry_id,
                bidder_no,
                ends_at,
                row["next_check_at"],
                now,
            )
            await conn.execute(
                "INSERT INTO auction_bid (auction_id, entry_id, bidder_no, seq, amount_fen, placed_at, ends_at, phase)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                row["id"],
                entry_id,
                bidder_no,
                seq,
                price,
                now,
                ends_at,
                row["phase"],
            )
            payload = {
                "lot_id": lot_id,
                "seq": seq,
                "price_fen": price,
                "bidder_no": bidder_no,
                "phase": row["phase"],
                "ends_at": None,
                "placed_at": now.isoformat(),
            }
            insert = (
                "INSERT INTO outbox_event (event_id, type, object_type, object_id, outcome, actor_user_id,"
                " actor_org_id, actor_label, payload, audience, occurred_at, attempts)"
                " VALUES ($1, 'bench.sql_bid', 'Auction', $2, 'success', 1, 1, 'bench', $3, $4, $5, 0)"
            )
            await conn.execute(insert, uuid.uuid4(), str(row["id"]), json.dumps(payload), public, now)
            if loser is not None:
                audience = json.dumps({"orgs": [loser["organisation_id"]], "users": [], "roles": [], "public": False})
                notice = {"lot_id": lot_id, "seq": seq, "price_fen": price}
                await conn.execute(insert, uuid.uuid4(), str(row["id"]), json.dumps(notice), audience, now)

    async def worker(conn: Any, until: float, offset: int) -> int:
        done = 0
        while time.perf_counter() < until:
            await one(conn, offset + done * connections)
            done += 1
        return done

    try:
        await asyncio.gather(*(worker(c, time.perf_counter() + 0.3, i) for i, c in enumerate(conns)))
        began, pg0 = time.perf_counter(), postgres_cpu(url)
        counts = await asyncio.gather(*(worker(c, began + seconds, i) for i, c in enumerate(conns)))
        rate = sum(counts) / (time.perf_counter() - began)
        PYTHON_PATH_CPU[connections] = (postgres_cpu(url) - pg0) / max(1, sum(counts))
        # the dispatcher of the server started later must not spend its time on these
        await conns[0].execute("DELETE FROM outbox_event WHERE type = 'bench.sql_bid'")
        return rate
    finally:
        for conn in conns:
            await conn.close()


def sql_ceiling_sqlite(path: str, lot_id: int, entries: list[tuple[int, str, int]], seconds: float) -> float:
    """The same transaction on SQLite: one connection (SQLite has one writer), BEGIN IMMEDIATE ... COMMIT."""
    db = sqlite3.connect(path, isolation_level=None)
    db.row_factory = sqlite3.Row
    public = json.dumps({"orgs": [], "users": [], "roles": [], "public": True})
    insert = (
        "INSERT INTO outbox_event (event_id, type, object_type, object_id, outcome, actor_user_id, actor_org_id,"
        " actor_label, payload, audience, occurred_at, attempts)"
        " VALUES (?, 'bench.sql_bid', 'Auction', ?, 'success', 1, 1, 'bench', ?, ?, ?, 0)"
    )

    def one(k: int) -> None:
        entry_id, bidder_no, org_id = entries[k % len(entries)]
        db.execute("BEGIN IMMEDIATE")
        row = db.execute("SELECT * FROM auction WHERE lot_id = ?", (lot_id,)).fetchone()
        mine = db.execute(
            "SELECT * FROM auction_entry WHERE auction_id = ? AND (organisation_id = ? OR id = ?)",
            (row["id"], org_id, row["leading_entry_id"] or 0),
        ).fetchall()
        loser = next((e for e in mine if e["id"] == row["leading_entry_id"] and e["id"] != entry_id), None)
        now = datetime.now(UTC).isoformat()
        seq = row["seq"] + 1
        current, start = row["current_price_fen"], row["starting_price_fen"]
        price = start if current is None else current + STEP
        db.execute(
            "UPDATE auction SET seq = ?, current_price_fen = ?, leading_entry_id = ?, leading_bidder_no = ?,"
            " ends_at = ?, next_check_at = ?, updated_at = ? WHERE id = ?",
            (seq, price, entry_id, bidder_no, row["ends_at"], row["next_check_at"], now, row["id"]),
        )
        db.execute(
            "INSERT INTO auction_bid (auction_id, entry_id, bidder_no, seq, amount_fen, placed_at, ends_at, phase)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row["id"], entry_id, bidder_no, seq, price, now, row["ends_at"], row["phase"]),
        )
        payload = {
            "lot_id": lot_id,
            "seq": seq,
            "price_fen": price,
            "bidder_no": bidder_no,
            "phase": row["phase"],
            "ends_at": row["ends_at"],
            "placed_at": now,
        }
        db.execute(insert, (str(uuid.uuid4()), str(row["id"]), json.dumps(payload), public, now))
        if loser is not None:
            audience = json.dumps({"orgs": [loser["organisation_id"]], "users": [], "roles": [], "public": False})
            notice = {"lot_id": lot_id, "seq": seq, "price_fen": price}
            db.execute(insert, (str(uuid.uuid4()), str(row["id"]), json.dumps(notice), audience, now))
        db.execute("COMMIT")

    try:
        k = 0
        until = time.perf_counter() + 0.3
        while time.perf_counter() < until:
            one(k)
            k += 1
        began = time.perf_counter()
        done = 0
        while time.perf_counter() < began + seconds:
            one(k + done)
            done += 1
        rate = done / (time.perf_counter() - began)
        db.execute("DELETE FROM outbox_event WHERE type = 'bench.sql_bid'")
        return rate
    finally:
        db.close()


# --------------------------------------------------------------------------- WebSocket watchers (own processes)


def update_message(kind: str, seq: int, price: int | None) -> str:
    """A graphql-transport-ws "next" message as the server sends it (the raw broadcast sends the same shape)."""
    update = {"kind": kind, "seq": seq, "phase": "FREE", "priceFen": price, "leadingBidderNo": "1234", "endsAt": None}
    return json.dumps(
        {"id": "1", "type": "next", "payload": {"data": {"auctionUpdates": update}}}, separators=(",", ":")
    )


class WsSocket(asyncio.Protocol):
    """A minimal WebSocket client (RFC 6455) on an asyncio protocol: cheap enough for thousands per process.

    Receipt time is taken once per data_received, before any parsing, for every message in it.
    """

    def __init__(self, group: Watchers) -> None:
        self.group = group
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.fragments: list[bytes] = []
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.seen: set[int] = set()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {self.group.path} HTTP/1.1",
            f"Host: {self.group.host}:{self.group.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.group.graphql:
            lines.append("Sec-WebSocket-Protocol: graphql-transport-ws")
        self.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {exc}"))

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end])
            del self.buffer[: end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(head[:200].decode("latin-1")))
                return
            self.upgraded = True
            if self.group.graphql:
                self.send_text('{"type":"connection_init","payload":{}}')
        self.frames(now)

    def frames(self, now: float) -> None:
        buf = self.buffer
        while len(buf) >= 2:
            first, second = buf[0], buf[1]
            length, pos = second & 0x7F, 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, pos = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, pos = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < pos + length:
                return
            payload = bytes(buf[pos : pos + length])
            del buf[: pos + length]
            opcode, fin = first & 0x0F, first & 0x80
            if opcode in (0x0, 0x1, 0x2):
                self.fragments.append(payload)
                if fin:
                    message, self.fragments = b"".join(self.fragments), []
                    self.group.on_message(self, message, now)
            elif opcode == 0x9:  # ping: pong with the same payload
                self.send_frame(0xA, payload)
            elif opcode == 0x8:
                self.closed = True
                if self.transport is not None:
                    self.transport.close()

    def send_frame(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = bytes([0x80 | opcode, 0x80 | n])
        elif n < 1 << 16:
            header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
        else:
            header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
        key = int.from_bytes((mask * (n // 4 + 1))[:n], "big") if n else 0
        masked = (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big") if n else b""
        self.transport.write(header + mask + masked)

    def send_text(self, text: str) -> None:
        self.send_frame(0x1, text.encode())


class Watchers:
    """One watcher process: `count` sockets, receipt times per update sequence number."""

    def __init__(self, cfg: dict[str, Any]) -> None:
        self.host, self.port, self.path = cfg["host"], int(cfg["port"]), cfg["path"]
        self.graphql = cfg["mode"] == "graphql"
        self.count = int(cfg["count"])
        self.subscribe = json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"lotId": cfg.get("lot", "")}}}
        )
        self.times: dict[int, list[float]] = defaultdict(list)
        self.duplicates = 0
        self.errors: list[str] = []

    def on_message(self, sock: WsSocket, raw: bytes, now: float) -> None:
        try:
            message = json.loads(raw)
        except ValueError:
            self.errors.append(f"not JSON: {raw[:100]!r}")
            return
        kind = message.get("type")
        if kind == "next":
            update = ((message.get("payload") or {}).get("data") or {}).get("auctionUpdates") or {}
            if update.get("kind") == "snapshot":
                if not sock.ready.done():
                    sock.ready.set_result(True)
            elif update.get("kind") == "bid":
                seq = int(update["seq"])
                if seq in sock.seen:
                    self.duplicates += 1
                    return
                sock.seen.add(seq)
                times = self.times[seq]
                times.append(now)
                if len(times) == self.count:
                    print(f"got {seq}", flush=True)
        elif kind == "connection_ack":
            sock.send_text(self.subscribe)
        elif kind == "ping":
            sock.send_text('{"type":"pong"}')
        elif kind != "pong":
            self.errors.append(raw[:300].decode("utf-8", "replace"))
            if not sock.ready.done():
                sock.ready.set_exception(ConnectionError(raw[:300].decode("utf-8", "replace")))


async def stdin_reader() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def watcher_main(cfg: dict[str, Any]) -> None:
    """Child process: opens its sockets (a bounded number of handshakes at a time), says "ready N",
    prints "got SEQ" once every socket has update SEQ, and on "stop" prints its receipt times as JSON."""
    loop = asyncio.get_running_loop()
    group = Watchers(cfg)
    gate = asyncio.Semaphore(int(cfg.get("parallel", 50)))
    sockets: list[WsSocket] = []

    async def open_one() -> None:
        async with gate:
            for attempt in range(5):
                try:
                    _, sock = await loop.create_connection(lambda: WsSocket(group), group.host, group.port)
                    await asyncio.wait_for(sock.ready, 60)
                    sockets.append(sock)
                    return
                except (OSError, ConnectionError, TimeoutError) as err:
                    if attempt == 4:
                        raise RuntimeError(f"could not open a watcher: {err}") from err
                    await asyncio.sleep(0.2 * (attempt + 1))

    reader = await stdin_reader()
    await asyncio.gather(*(open_one() for _ in range(group.count)))
    print(f"ready {len(sockets)}", flush=True)
    cpu_ready = time.process_time()
    await reader.readline()
    result = {
        "cpu_seconds": time.process_time() - cpu_ready,  # what receiving the updates cost this process
        "count": group.count,
        "received": {str(seq): times for seq, times in group.times.items()},
        "duplicates": group.duplicates,
        "closed": sum(s.closed for s in sockets),
        "errors": group.errors[:5],
    }
    print(json.dumps(result), flush=True)
    for sock in sockets:
        if sock.transport is not None:
            sock.transport.close()
    await asyncio.sleep(0.2)


@dataclass
class WatcherFleet:
    """The controller's handle on the watcher processes."""

    procs: list[asyncio.subprocess.Process]
    sizes: list[int]
    got: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    events: dict[int, asyncio.Event] = field(default_factory=lambda: defaultdict(asyncio.Event))
    results: list[dict[str, Any]] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)
    ready: int = 0
    ready_event: asyncio.Event = field(default_factory=asyncio.Event)
    failed: str | None = None

    @classmethod
    async def start(cls, mode: str, port: int, path: str, total: int, processes: int, lot: str = "") -> WatcherFleet:
        sizes = [total // processes + (1 if i < total % processes else 0) for i in range(processes)]
        sizes = [s for s in sizes if s > 0]
        procs = []
        for size in sizes:
            cfg = {"mode": mode, "host": HOST, "port": port, "path": path, "count": size, "lot": lot, "parallel": 50}
            procs.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    __file__,
                    "--watcher",
                    json.dumps(cfg),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    cwd=ROOT,
                    limit=1 << 26,
                )
            )
        fleet = cls(procs=procs, sizes=sizes)
        fleet.readers = [asyncio.create_task(fleet._read(p)) for p in procs]
        return fleet

    async def _read(self, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            text = line.decode().strip()
            if text.startswith("got "):
                seq = int(text.split()[1])
                self.got[seq] += 1
                if self.got[seq] == len(self.procs):
                    self.events[seq].set()
            elif text.startswith("ready "):
                self.ready += int(text.split()[1])
                if self.ready == sum(self.sizes):
                    self.ready_event.set()
            elif text.startswith("{"):
                self.results.append(json.loads(text))
        await proc.wait()
        if proc.returncode != 0:
            self.failed = f"a watcher process exited with {proc.returncode}"
            self.ready_event.set()

    async def wait_ready(self, within: float) -> None:
        await asyncio.wait_for(self.ready_event.wait(), within)
        if self.failed:
            raise RuntimeError(self.failed)

    async def received(self, seq: int, within: float) -> bool:
        try:
            await asyncio.wait_for(self.events[seq].wait(), within)
        except TimeoutError:
            return False
        return True

    async def stop(self) -> list[dict[str, Any]]:
        for proc in self.procs:
            assert proc.stdin is not None
            with contextlib.suppress(ConnectionError):
                proc.stdin.write(b"stop\n")
                await proc.stdin.drain()
        await asyncio.wait_for(asyncio.gather(*self.readers), 120)
        for proc in self.procs:
            await asyncio.wait_for(proc.wait(), 60)
        return self.results


def per_update(results: list[dict[str, Any]], base: dict[int, float]) -> str:
    """p50/max per update in ms, in sequence order: shows whether a tail is one slow update or all of them."""
    parts = []
    for seq in sorted(base):
        times = sorted((t - base[seq]) * 1000.0 for r in results for t in r["received"].get(str(seq), []))
        if times:
            parts.append(f"{seq}:{percentile(times, 0.5):.0f}/{times[-1]:.0f}")
    return " ".join(parts)


def client_cost(results: list[dict[str, Any]]) -> str:
    """The watcher processes' CPU while the updates arrived, in total and per message received."""
    cpu = sum(float(r.get("cpu_seconds", 0.0)) for r in results)
    received = sum(len(times) for r in results for times in r["received"].values())
    per = cpu / received * 1e6 if received else math.nan
    return f"{cpu:.2f} s cpu in {len(results)} processes, {per:.0f} us/message"


def latencies(results: list[dict[str, Any]], base: dict[int, float]) -> tuple[list[float], int, int]:
    """(receipt - base in ms for every socket and update, receipts missing, duplicates)."""
    values: list[float] = []
    for result in results:
        for seq, times in result["received"].items():
            if int(seq) in base:
                values.extend((t - base[int(seq)]) * 1000.0 for t in times)
    expected = len(base) * sum(int(r["count"]) for r in results)
    duplicates = sum(r["duplicates"] for r in results)
    return values, expected - len(values), duplicates


# --------------------------------------------------------------------------- (3) the raw broadcast


async def raw_server_main(port: int) -> None:
    """Child process: a plain websockets server; on "send SEQ" (stdin) broadcasts one update to every socket."""
    from websockets.asyncio.server import broadcast, serve

    clients: set[Any] = set()

    async def handler(ws: Any) -> None:
        clients.add(ws)
        try:
            await ws.send(update_message("snapshot", 0, None))
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with serve(handler, HOST, port, compression=None, max_queue=None, backlog=4096):
        print("listening", flush=True)
        reader = await stdin_reader()
        while line := await reader.readline():
            words = line.split()
            if words and words[0] == b"send":
                seq = int(words[1])
                sent = time.time()
                broadcast(clients, update_message("bid", seq, START_PRICE + seq * STEP))
                print(f"sent {seq} {sent!r} {len(clients)}", flush=True)


async def measure_raw(args: argparse.Namespace) -> tuple[list[float], int, int]:
    port = free_port()
    server = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--raw-server", str(port), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT
    )
    assert server.stdin is not None
    assert server.stdout is not None
    fleet: WatcherFleet | None = None
    try:
        if (await asyncio.wait_for(server.stdout.readline(), 30)).strip() != b"listening":
            raise RuntimeError("the raw websockets server did not start")
        fleet = await WatcherFleet.start("raw", port, "/", args.watchers, args.watcher_processes)
        began = time.perf_counter()
        await fleet.wait_ready(300)
        log(f"raw: {args.watchers} sockets open in {time.perf_counter() - began:.1f} s")
        sent: dict[int, float] = {}
        missed = 0
        for seq in range(1, args.updates + 1):
            server.stdin.write(f"send {seq}\n".encode())
            await server.stdin.drain()
            words = (await asyncio.wait_for(server.stdout.readline(), 30)).split()
            sent[seq] = float(words[2])
            if not await fleet.received(seq, 30):
                missed += 1
            await asyncio.sleep(args.gap)
        results = await fleet.stop()
        fleet = None
        values, missing, duplicates = latencies(results, sent)
        log(f"raw: per update p50/max ms {per_update(results, sent)}")
        log(f"raw: watcher clients {client_cost(results)}")
        return values, missing + missed, duplicates
    finally:
        if fleet is not None:
            for proc in fleet.procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
        server.stdin.close()
        with contextlib.suppress(ProcessLookupError):
            server.terminate()
        await asyncio.wait_for(server.wait(), 30)


# --------------------------------------------------------------------------- the PalmTrade server


@dataclass
class Servers:
    """The PalmTrade processes: API servers (one port each) and, when separate, the outbox worker."""

    procs: list[subprocess.Popen[bytes]]
    ports: list[int]
    worker: subprocess.Popen[bytes] | None = None

    @property
    def port(self) -> int:
        return self.ports[0]

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def worker_cpu(self) -> float:
        return cpu_seconds(self.worker.pid) if self.worker is not None else 0.0

    def all(self) -> list[subprocess.Popen[bytes]]:
        return self.procs + ([self.worker] if self.worker is not None else [])


async def start_servers(
    db: BenchDatabase, tmp: Path, redis_url: str | None, processes: int, separate_worker: bool, run_workers: bool = True
) -> Servers:
    """`processes` API servers on their own ports; with a separate worker they run no dispatcher themselves."""
    ports = [free_port() for _ in range(processes)]
    secret = RUN_SECRET
    servers = Servers(procs=[], ports=ports)
    try:
        for i, port in enumerate(ports):  # one after the other: each runs the (idempotent) migrations first
            workers = run_workers and not separate_worker
            proc = start_server(db, port, tmp, redis_url, workers=workers, name=f"server{i}", secret=secret)
            servers.procs.append(proc)
            await wait_healthy(proc, port, tmp)
        if separate_worker and run_workers:
            servers.worker = start_server(db, 0, tmp, redis_url, workers=True, name="worker", secret=secret)
    except BaseException:
        for proc in servers.all():
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            proc.wait(timeout=10)
        raise
    return servers


def start_server(
    db: BenchDatabase,
    port: int,
    tmp: Path,
    redis_url: str | None,
    workers: bool = True,
    name: str = "server",
    secret: str | None = None,
    health_port: int = 0,
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "REDIS_URL": redis_url or "",
        "PORT": str(port),
        "HOST": HOST,
        "RUN_WORKERS": "1" if workers else "0",
        "SEED_DEMO": "0",
        "SECRET_KEY": secret or RUN_SECRET,
        "AUDIT_EXPORT_PATH": str(tmp / "audit-heads.jsonl"),
        "LOG_LEVEL": "warning",
        "PALMTRADE_PRODUCTION": "0",
        "JWT_ISSUER": "palmtrade",
        "JWT_AUDIENCE": "palmtrade-api",
        "WORKER_HEALTH_PORT": str(health_port),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    out = (tmp / f"{name}.log").open("ab")
    command = "worker" if name.startswith("worker") else "serve"
    proc = subprocess.Popen(
        [sys.executable, "-m", "api.manage", command], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    out.close()
    return proc


async def wait_healthy(proc: subprocess.Popen[bytes], port: int, tmp: Path, path: str = "/healthz") -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{server_log(tmp)}")
        try:
            status, _ = await http_request(port, "GET", path, None, {})
            if status == 200:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the server did not come up:\n{server_log(tmp)}")


def server_log(tmp: Path, lines: int = 30) -> str:
    logs = sorted(tmp.glob("server*.log")) + sorted(tmp.glob("worker.log"))
    tails = ["\n".join(p.read_text(errors="replace").splitlines()[-lines:]) for p in logs]
    return "\n".join(tails) or "(no server log)"


def _bid_place_sha256() -> str:
    """The manifest hash of the app's `BidPlace`."""
    from mobile_contract import gate

    return next(op.sha256 for op in gate.load_operations() if op.name == "BidPlace")


# bids sent as the app sends them, by the manifest hash of its BidPlace (`--bid-by-hash` sets it here and, for the
# client processes, in BENCH_BID_SHA256); None: the text of BID
BID_SHA256: str | None = os.environ.get("BENCH_BID_SHA256") or None


def bid_request(port: int, lot: str, token: str, amount: int) -> bytes:
    variables = {"input": {"lotId": lot, "amountFen": amount}}
    if BID_SHA256 is None:
        body = json.dumps({"query": BID, "variables": variables}).encode()
    else:
        persisted = {"persistedQuery": {"version": 1, "sha256Hash": BID_SHA256}}
        body = json.dumps({"extensions": persisted, "variables": variables}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def http_request(
    port: int, method: str, path: str, body: bytes | None, headers: dict[str, str]
) -> tuple[int, bytes]:
    """One request on its own connection (setup and the live measurement's bids)."""
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        status, reply, _ = await asyncio.wait_for(_read_reply(reader), 30)
        return status, reply
    finally:
        writer.close()


def classify(status: int, body: bytes) -> tuple[str, int | None, int | None]:
    """(outcome, accepted seq, price to bid next) of a bidPlace answer; outcome is ACCEPTED or an error code."""
    if status != 200:
        return f"HTTP_{status}", None, None
    reply = json.loads(body)
    if reply.get("errors"):
        return str(reply["errors"][0].get("extensions", {}).get("code", "ERROR")), None, None
    result = reply["data"]["bidPlace"]
    if result["__typename"] == "BidPlaced":
        return "ACCEPTED", int(result["bid"]["seq"]), int(result["bid"]["amountFen"]) + STEP
    if result["__typename"] == "BidTooLow":
        return "BID_TOO_LOW", None, int(result["minNextFen"])
    return str(result.get("code") or result["__typename"]), None, None


# --------------------------------------------------------------------------- (2) bids through the full stack


class Tickets:
    """A counter shared by the bid client processes (a file under flock): ticket n bids base + n increments,
    so amounts rise in the order the bids are sent and every bid is what the price allows when it was sent;
    only bids the platform reorders on their way to the auction's row lock come back too low."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)

    def take(self) -> int:
        import fcntl

        fcntl.flock(self.fd, fcntl.LOCK_EX)
        try:
            n = int.from_bytes(os.pread(self.fd, 8, 0) or b"\0", "little") + 1
            os.pwrite(self.fd, n.to_bytes(8, "little"), 0)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        return n


async def bid_client_main() -> None:
    """Child process: reads its job (JSON) from stdin, bids through `connections` keep-alive connections, each
    cycling through its bidders, and prints its tally as JSON.

    Modes: ``accept`` bids base + one increment per ticket (a counter shared by every client process), so each
    bidder bids what the price allows at the moment its bid leaves; ``refuse`` bids the starting price, below
    the current one (BID_TOO_LOW, the refusal path); ``once`` is ``accept`` with each bidder bidding once, so
    every bid is that bidder's first on the lot (cold), and no time window."""
    job = json.loads(sys.stdin.readline())
    ports, lot, tokens, connections = job["ports"], job["lot"], job["tokens"], int(job["connections"])
    t0, t1 = float(job["t0"]), float(job["t1"])
    mode = job.get("mode", "accept")
    tickets = Tickets(job["tickets"]) if mode != "refuse" else None
    base = int(job["base"])
    cpu: dict[str, float] = {}
    outcomes: dict[str, int] = defaultdict(int)
    every: dict[str, int] = defaultdict(int)  # every answer, the warm-up and the tail included
    accepted_total = 0
    per_bidder_second: dict[tuple[int, int], int] = defaultdict(int)
    latencies_ms: list[float] = []
    errors: list[str] = []

    async def worker(index: int) -> None:
        nonlocal accepted_total
        mine = list(range(index, len(tokens), connections))
        port = ports[index % len(ports)]  # connections spread over the server processes
        reader = writer = None
        k = 0
        await asyncio.sleep(max(0.0, float(job["start_at"]) - time.time()))
        try:
            while (started := time.time()) < t1 or mode == "once":
                if mode == "once" and k >= len(mine):
                    break
                bidder = mine[k % len(mine)]
                k += 1
                began = time.perf_counter()
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(HOST, port)
                    # the ticket is taken right before the write: amounts leave in ticket order
                    amount = base + tickets.take() * STEP if tickets is not None else START_PRICE
                    writer.write(bid_request(port, lot, tokens[bidder], amount))
                    status, body, keep = await asyncio.wait_for(_read_reply(reader), 30)  # type: ignore[arg-type]
                    outcome, _, _ = classify(status, body)
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError, KeyError) as err:
                    outcome, keep = "TRANSPORT", False
                    if len(errors) < 5:
                        errors.append(f"{type(err).__name__}: {err}")
                if outcome == "ACCEPTED":
                    accepted_total += 1
                every[outcome] += 1
                finished = time.time()
                if "t0" not in cpu and finished >= t0:
                    cpu["t0"] = time.process_time()
                if "t1" not in cpu and finished >= t1:
                    cpu["t1"] = time.process_time()
                if (t0 <= started and finished <= t1) or mode == "once":
                    outcomes[outcome] += 1
                    latencies_ms.append((time.perf_counter() - began) * 1000.0)
                    per_bidder_second[(bidder, int(started))] += 1
                if not keep and writer is not None:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    cpu_began = time.process_time()
    began = time.time()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    if mode == "once":
        cpu = {"t0": cpu_began, "t1": time.process_time()}
    print(
        json.dumps(
            {
                "outcomes": outcomes,
                "every": every,
                "accepted_total": accepted_total,
                "latencies": latencies_ms,
                "max_per_bidder_second": max(per_bidder_second.values(), default=0),
                "errors": errors,
                "cpu_seconds": cpu.get("t1", time.process_time()) - cpu.get("t0", 0.0),
                "began": began,
                "ended": time.time(),
            }
        ),
        flush=True,
    )


@dataclass
class BidStep:
    connections: int
    seconds: float
    requests: int
    accepted: int
    outcomes: dict[str, int]
    p50_ms: float
    p99_ms: float
    server_cpu_pct: float
    worker_cpu_pct: float
    client_cpu_pct: float
    db_cpu_pct: float
    max_per_bidder_second: int
    accepted_total: int
    drain_seconds: float
    backlog: int
    errors: list[str]
    mode: str = "accept"
    every: dict[str, int] = field(default_factory=dict)  # every answer of the step, warm-up and tail included
    cost: dict[str, float] = field(default_factory=dict)  # CPU seconds per process kind, step start to drained

    @property
    def accepted_rate(self) -> float:
        return self.accepted / self.seconds

    @property
    def request_rate(self) -> float:
        return self.requests / self.seconds

    @property
    def every_requests(self) -> int:
        return sum(self.every.values())

    @property
    def every_accepted(self) -> int:
        return self.every.get("ACCEPTED", 0)

    @property
    def cost_total(self) -> float:
        """CPU seconds of the platform (servers, worker, PostgreSQL backends, Redis) over the whole step."""
        return sum(v for k, v in self.cost.items() if k != "clients")


async def outbox_backlog(db: BenchDatabase) -> int:
    from tortoise import connections

    _, rows = await connections.get("default").execute_query(
        "SELECT count(*) FROM outbox_event WHERE dispatched_at IS NULL"
    )
    return int(rows[0][0])


async def drain_outbox(db: BenchDatabase, within: float = 600) -> tuple[float, int]:
    """Seconds until the server's dispatcher has delivered everything (and the backlog found at the start)."""
    began = time.perf_counter()
    backlog = await outbox_backlog(db)
    while await outbox_backlog(db) > 0:
        if time.perf_counter() - began > within:
            raise RuntimeError("the outbox did not drain")
        await asyncio.sleep(0.1)
    return time.perf_counter() - began, backlog


async def current_min_next(auction_id: int) -> int:
    from domain.auctions.models import Auction

    auction = await Auction.get(id=auction_id)
    return START_PRICE if auction.current_price_fen is None else auction.current_price_fen + STEP


def redis_pid(url: str | None) -> int | None:
    """The local redis-server serving `url` (its port on the command line), or None."""
    if not url:
        return None
    from urllib.parse import urlsplit

    port = f":{urlsplit(url).port or 6379}".encode()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            if name == "redis-server" and port in (stat.parent / "cmdline").read_bytes():
                return int(stat.parent.name)
    return None


REDIS_PID: list[int | None] = [None]


def platform_cpu(db: BenchDatabase, servers: Servers | None, extra: list[int] | None = None) -> dict[str, float]:
    """CPU seconds so far of every process a bid costs: API servers, the outbox worker(s), this database's
    PostgreSQL backends, and the Redis server (shared: other users of it are counted too)."""
    pid = REDIS_PID[0]
    return {
        "server": servers.cpu() if servers is not None else 0.0,
        "worker": (servers.worker_cpu() if servers is not None else 0.0) + sum(cpu_seconds(p) for p in extra or []),
        "postgres": postgres_cpu(db.url) if db.postgres else 0.0,
        "redis": cpu_seconds(pid) if pid is not None else 0.0,
    }


def spy(args: argparse.Namespace, pid: int, name: str) -> subprocess.Popen[bytes] | None:
    """With --profile DIR: py-spy samples `pid` (CPU only, 200/s) into DIR/<name>.txt until `unspy`."""
    if not args.profile:
        return None
    out = Path(args.profile) / f"{name}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "200", "-f", "raw"]
    return subprocess.Popen(
        [*command, "--nonblocking", "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def unspy(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None:
        proc.send_signal(signal.SIGINT)  # py-spy writes its samples on SIGINT
        proc.wait(timeout=120)


def cpu_delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after}


async def measure_bids(
    args: argparse.Namespace,
    db: BenchDatabase,
    servers: Servers,
    seeded: Seeded,
    lot: str,
    connections: int,
    mode: str = "accept",
    drain: bool = True,
    tokens: list[str] | None = None,
    seconds: float | None = None,
) -> BidStep:
    """One step of bids on the hot lot (see bid_client_main for the modes). The rates are over the measured
    window; `cost` is every platform process's CPU from the step's start until the outbox is drained again,
    for every bid of the step (warm-up and tail included), so an accepted bid's dispatch is part of its cost."""
    tokens = seeded.tokens if tokens is None else tokens
    seconds = args.bid_seconds if seconds is None else seconds
    processes = max(1, min(args.client_processes, connections))
    per_process = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    warmup = 0.0 if mode == "once" else args.warmup
    start_at = time.time() + 0.5
    t0 = start_at + warmup
    t1 = t0 + seconds
    base = await current_min_next(seeded.auctions["bids"]) - STEP
    ticket_file = tempfile.NamedTemporaryFile(prefix="palmtrade-bench-tickets-", delete=False)  # noqa: SIM115
    ticket_file.close()
    procs = []
    for p, conns in enumerate(per_process):
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--bid-client",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=ROOT,
            limit=1 << 26,
        )
        job = {
            "ports": servers.ports,
            "lot": lot,
            "tokens": tokens[p::processes],
            "connections": conns,
            "start_at": start_at,
            "t0": t0,
            "t1": t1,
            "mode": mode,
            "base": base,
            "tickets": ticket_file.name,
        }
        assert proc.stdin is not None
        proc.stdin.write((json.dumps(job) + "\n").encode())
        await proc.stdin.drain()
        proc.stdin.close()
        procs.append(proc)
    await asyncio.sleep(max(0.0, start_at - 0.05 - time.time()))
    cost0 = platform_cpu(db, servers)
    pg_cpu = (lambda: postgres_cpu(db.url)) if db.postgres else (lambda: 0.0)
    if mode != "once":
        await asyncio.sleep(max(0.0, t0 - time.time()))
    cpu0, wcpu0, pg0, w0 = servers.cpu(), servers.worker_cpu(), pg_cpu(), time.monotonic()
    profile = spy(args, servers.procs[0].pid, f"server_{mode}_c{connections}") if drain else None
    worker_profile = (
        spy(args, servers.worker.pid, f"worker_{mode}_c{connections}") if drain and servers.worker is not None else None
    )
    tallies = []
    if mode != "once":
        await asyncio.sleep(max(0.0, t1 - time.time()))
    else:
        tallies = [await collect_tally(p) for p in procs]
    cpu1, wcpu1, pg1, w1 = servers.cpu(), servers.worker_cpu(), pg_cpu(), time.monotonic()
    unspy(profile)
    unspy(worker_profile)
    backlog = await outbox_backlog(db)
    if mode != "once":
        tallies = [await collect_tally(p) for p in procs]
    os.unlink(ticket_file.name)
    window = (w1 - w0) if mode == "once" else seconds
    outcomes: dict[str, int] = defaultdict(int)
    every: dict[str, int] = defaultdict(int)
    for tally in tallies:
        for k, v in tally["outcomes"].items():
            outcomes[k] += v
        for k, v in tally["every"].items():
            every[k] += v
    p50, p99 = stats([x for t in tallies for x in t["latencies"]])
    drained = (await drain_outbox(db))[0] if drain else 0.0
    cost = cpu_delta(platform_cpu(db, servers), cost0)
    cost["clients"] = sum(t["cpu_seconds"] for t in tallies)
    return BidStep(
        connections=connections,
        seconds=window,
        requests=sum(outcomes.values()),
        accepted=outcomes.get("ACCEPTED", 0),
        outcomes=dict(outcomes),
        p50_ms=p50,
        p99_ms=p99,
        server_cpu_pct=100.0 * (cpu1 - cpu0) / (w1 - w0) if w1 > w0 else math.nan,
        worker_cpu_pct=100.0 * (wcpu1 - wcpu0) / (w1 - w0) if w1 > w0 else math.nan,
        client_cpu_pct=100.0 * sum(t["cpu_seconds"] for t in tallies) / window if window > 0 else math.nan,
        db_cpu_pct=100.0 * (pg1 - pg0) / (w1 - w0) if w1 > w0 and db.postgres else math.nan,
        max_per_bidder_second=max(t["max_per_bidder_second"] for t in tallies),
        accepted_total=sum(t["accepted_total"] for t in tallies),
        drain_seconds=drained,
        backlog=backlog,
        errors=[e for t in tallies for e in t["errors"]][:5],
        mode=mode,
        every=dict(every),
        cost=cost,
    )


async def collect_tally(proc: asyncio.subprocess.Process) -> dict[str, Any]:
    out, _ = await asyncio.wait_for(proc.communicate(), 300)
    if proc.returncode != 0:
        raise RuntimeError(f"a bid client failed ({proc.returncode})")
    return dict(json.loads(out.decode().strip().splitlines()[-1]))


async def check_bids(auction_id: int, accepted_total: int) -> list[str]:
    """Sequences 1..N without a gap, prices strictly increasing, the auction row = the last bid, N = accepted."""
    from domain.auctions.models import Auction, AuctionBid

    rows = await AuctionBid.filter(auction_id=auction_id).order_by("seq").values_list("seq", "amount_fen")
    auction = await Auction.get(id=auction_id)
    problems = []
    if [s for s, _ in rows] != list(range(1, len(rows) + 1)):
        problems.append("sequence numbers are not 1..N")
    if any(b[1] <= a[1] for a, b in itertools.pairwise(rows)):
        problems.append("prices do not strictly increase")
    if rows and (auction.seq, auction.current_price_fen) != tuple(rows[-1]):
        problems.append(f"auction row {auction.seq}/{auction.current_price_fen} is not the last bid {rows[-1]}")
    if len(rows) != accepted_total:
        problems.append(f"{len(rows)} bids stored, {accepted_total} acknowledged")
    return problems


async def measure_plain(args: argparse.Namespace, db: BenchDatabase, tmp: Path, redis_url: str | None) -> float:
    """Plain Starlette's server CPU per request (us) in this run: bench/http_baseline.py's GET /bench/plain, the
    app's middleware included, one server process on this database and Redis, no workers, closed-loop load."""
    import multiprocessing

    import bench.http_baseline as hb

    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "REDIS_URL": redis_url or "",
        "RUN_WORKERS": "0",
        "SEED_DEMO": "0",
        "SECRET_KEY": RUN_SECRET,
        "AUDIT_EXPORT_PATH": str(tmp / "plain-audit-heads.jsonl"),
        "LOG_LEVEL": "warning",
        "PALMTRADE_PRODUCTION": "0",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }
    log_path = tmp / "plain.log"
    proc = spawn_logged([sys.executable, str(ROOT / "bench" / "http_baseline.py"), "--serve", str(port)], env, log_path)
    try:
        await asyncio.to_thread(hb.wait_for_server, proc, f"http://{HOST}:{port}", log_path)
        load = argparse.Namespace(
            concurrency=args.plain_connections, clients=1, warmup=args.warmup, duration=args.plain_seconds, client="raw"
        )
        with multiprocessing.get_context("spawn").Pool(processes=1) as pool:
            result = await asyncio.to_thread(
                hb.measure, pool, port, hb.Target("plain_starlette_json", "GET", "/bench/plain"), load, proc.pid
            )
        if result.errors or result.rps <= 0:
            raise RuntimeError(f"plain Starlette: {result.errors} errors {result.samples}")
        log(f"plain: {result.rps:.0f} req/s, server cpu {result.server_cpu_pct:.0f} %")
        return result.server_cpu_per_request_us
    finally:
        hb.stop_server(proc)


def spawn_logged(command: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as out:
        return subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )


@dataclass
class OutboxRun:
    workers: int
    events: int
    seconds: float
    cpu: dict[str, float]

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else math.nan


async def hold_outbox(db: BenchDatabase, hold: bool) -> None:
    """Makes the waiting events not due (hold) or due again (release), in one statement."""
    from tortoise import connections

    when = "now() + interval '1 day'" if db.postgres else "datetime('now', '+1 day')"
    when = when if hold else "NULL"
    await connections.get("default").execute_script(
        f"UPDATE outbox_event SET next_attempt_at = {when} WHERE dispatched_at IS NULL"
    )


async def make_backlog(
    args: argparse.Namespace, db: BenchDatabase, tmp: Path, redis_url: str | None, seeded: Seeded, lot: str
) -> tuple[int, int]:
    """Accepted bids through a server that runs no dispatcher, for `outbox_seconds`: their events wait.
    Returns (events waiting, bids accepted)."""
    servers = await start_servers(db, tmp, redis_url, 1, separate_worker=False, run_workers=False)
    try:
        connections = max(args.bid_connections)
        step = await measure_bids(args, db, servers, seeded, lot, connections, drain=False, seconds=args.outbox_seconds)
    finally:
        stop_processes(servers.all())
    return await outbox_backlog(db), step.accepted_total


async def measure_outbox(
    args: argparse.Namespace, db: BenchDatabase, tmp: Path, redis_url: str | None, workers: int
) -> OutboxRun:
    """`workers` outbox worker processes (python -m api.manage worker), started and ready while the backlog is
    held, then released at once: events/s from the release until the backlog is empty."""
    await hold_outbox(db, True)
    ports = [free_port() for _ in range(workers)]
    procs = [
        start_server(db, 0, tmp, redis_url, workers=True, name=f"worker-outbox{workers}-{i}", health_port=port)
        for i, port in enumerate(ports)
    ]
    try:
        for proc, port in zip(procs, ports, strict=True):
            await wait_healthy(proc, port, tmp, "/readyz")
        await asyncio.sleep(1.0)  # past the first idle turn of every loop
        events = await outbox_backlog(db)
        before = platform_cpu(db, None, [p.pid for p in procs])
        profile = spy(args, procs[0].pid, f"worker_outbox_w{workers}")
        began = time.perf_counter()
        await hold_outbox(db, False)
        deadline = time.monotonic() + 600
        while await outbox_backlog(db) > 0:
            if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                raise RuntimeError(f"the outbox did not drain:\n{server_log(tmp)}")
            await asyncio.sleep(0.005)
        seconds = time.perf_counter() - began
        cpu = cpu_delta(platform_cpu(db, None, [p.pid for p in procs]), before)
        unspy(profile)
        return OutboxRun(workers=workers, events=events, seconds=seconds, cpu=cpu)
    finally:
        stop_processes(procs)


async def measure_batches(
    args: argparse.Namespace, db: BenchDatabase, redis_url: str | None, batches: list[int], per_batch: int
) -> dict[int, tuple[float, dict[str, float]]]:
    """The dispatcher in this process (api/services.py's consumers, the deployment's broker) at each batch size,
    over `per_batch` waiting events each: (events, CPU seconds per process kind; "worker" is this process)."""
    from api import gc_tuning
    from api.services import broker_and_limiter, outbox_consumers
    from api.settings import Settings
    from notifications.dispatch import Dispatcher

    settings = Settings(database_url=db.url, redis_url=redis_url or "")
    bus, _ = broker_and_limiter(settings)
    consumers = outbox_consumers(bus)
    # the collector as the worker has it (api/manage.py): this process's heap frozen, so a full collection of the
    # bench's own objects does not land in the window (one took 1.2 s of a batch200 step: bench/README.md (8))
    collector = gc_tuning.settle(settings.gc_freeze, settings.gc_gen0_threshold)
    out: dict[int, tuple[float, dict[str, float]]] = {}
    for size in batches:
        dispatcher = Dispatcher(consumers, batch_size=size)
        profile = spy(args, os.getpid(), f"dispatcher_batch{size}")
        await asyncio.sleep(0.3)  # py-spy attached
        before, mine = platform_cpu(db, None), time.process_time()
        done = 0
        while done < per_batch and (n := await dispatcher.run_once()):
            done += n
        cpu = cpu_delta(platform_cpu(db, None), before)
        unspy(profile)
        cpu["worker"] = time.process_time() - mine
        out[size] = (float(done), cpu)
    while await Dispatcher(consumers, batch_size=200).run_once():
        pass
    collector.restore()
    with contextlib.suppress(Exception):
        await bus.close()
    return out


def stop_processes(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# --------------------------------------------------------------------------- (3) live updates through PalmTrade


async def settle(port: int, within: float = 60.0) -> None:
    """Waits until the server answers /healthz within 10 ms twice in a row (its event loop is idle)."""
    deadline = time.monotonic() + within
    quick = 0
    while quick < 2 and time.monotonic() < deadline:
        began = time.perf_counter()
        await http_request(port, "GET", "/healthz", None, {})
        quick = quick + 1 if time.perf_counter() - began < 0.010 else 0
        await asyncio.sleep(0.02)


@dataclass
class Live:
    from_ack: list[float]  # receipt - the moment the bidder had read its acknowledgement, ms
    from_request: list[float]  # receipt - the moment the bid request was written, ms
    round_trips: list[float]  # the bidder's wait for its acknowledgement, ms
    missing: int
    duplicates: int


async def measure_live(args: argparse.Namespace, port: int, seeded: Seeded, lot: str) -> Live:
    fleet = await WatcherFleet.start("graphql", port, "/graphql", args.watchers, args.watcher_processes, lot)
    try:
        began = time.perf_counter()
        await fleet.wait_ready(600)
        log(f"live: {args.watchers} subscriptions open in {time.perf_counter() - began:.1f} s")
        await asyncio.sleep(0.5)
        acked: dict[int, float] = {}
        sent: dict[int, float] = {}
        missed = 0
        price = START_PRICE
        for n in range(args.updates):
            token = seeded.tokens[n % 2]  # two bidders in turn: never ALREADY_LEADING, far below 5 bids/s each
            request = bid_request(port, lot, token, price)
            reader, writer = await asyncio.open_connection(HOST, port)
            try:
                started = time.time()
                writer.write(request)
                status, body, _ = await asyncio.wait_for(_read_reply(reader), 30)
                at = time.time()
            finally:
                writer.close()
            outcome, seq, next_price = classify(status, body)
            if outcome != "ACCEPTED" or seq is None or next_price is None:
                raise RuntimeError(f"a live-measurement bid was not accepted: {outcome} {body[:300]!r}")
            acked[seq], sent[seq] = at, started
            price = next_price
            if not await fleet.received(seq, 60):
                missed += 1
            # two more messages follow each bid on the bus (the dispatcher repeats it, and the outbid notice travels
            # the same way) and every subscriber wakes for them: the next bid waits until the server is idle again
            await asyncio.sleep(args.gap)
            await settle(port)
        results = await fleet.stop()
        from_ack, missing, duplicates = latencies(results, acked)
        log(f"live: per update p50/max ms from the acknowledgement {per_update(results, acked)}")
        log(f"live: watcher clients {client_cost(results)}")
        from_request, _, _ = latencies(results, sent)
        trips = [(acked[s] - sent[s]) * 1000.0 for s in acked]
        return Live(from_ack, from_request, trips, missing + missed, duplicates)
    except BaseException:
        for proc in fleet.procs:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        raise


def cost_lines(
    plain_us: float,
    sql_rates: dict[int, float],
    cold: BidStep,
    steps: list[BidStep],
    best: BidStep,
    refused: BidStep,
    outbox_runs: list[OutboxRun],
    batch_costs: dict[int, tuple[float, dict[str, float]]],
) -> list[str]:
    """The issue-21 figures: rates of the hot lot and CPU per operation over every platform process, each
    against plain Starlette's CPU per request (or the SQL ceiling at one connection) of this run."""
    lines = [f"plain_starlette_cpu_per_request: {plain_us:.0f} us"]

    def ratio(us: float) -> float:
        return us / plain_us if plain_us > 0 else math.nan

    refused_n = refused.every_requests
    refused_us = refused.cost_total / refused_n * 1e6 if refused_n else math.nan

    def accepted_us(step: BidStep, part: str | None = None) -> float:
        """CPU per accepted bid: the step's platform CPU less its refused bids at the refused step's cost each."""
        if not step.every_accepted:
            return math.nan
        others = step.every_requests - step.every_accepted
        if part is None:
            total = step.cost_total - others * (refused_us / 1e6 if refused_n else 0.0)
        else:
            share = refused.cost.get(part, 0.0) / refused_n if refused_n else 0.0
            total = step.cost.get(part, 0.0) - others * share
        return total / step.every_accepted * 1e6

    sql_one = sql_rates.get(1, math.nan)
    lines.append(f"hot_lot_accepted_per_s: {best.accepted_rate:.0f} bids/s")
    lines.append(f"hot_lot_vs_sql_ceiling: {best.accepted_rate / sql_one:.2f} x")
    lines.append(f"hot_lot_cold_accepted_per_s: {cold.every_accepted / cold.seconds:.0f} bids/s")
    lines.append(f"hot_lot_refused_per_s: {refused.request_rate:.0f} bids/s")
    for s in steps:
        share = s.accepted / s.requests if s.requests else math.nan
        lines.append(f"hot_lot_accepted_share_c{s.connections}: {share:.3f} x")
        lines.append(f"bid_cpu_per_accepted_c{s.connections}: {accepted_us(s):.0f} us")
    lines.append(f"bid_cpu_per_accepted: {accepted_us(best):.0f} us")
    for part in ("server", "worker", "postgres", "redis"):
        lines.append(f"bid_cpu_per_accepted_{part}: {accepted_us(best, part):.0f} us")
    lines.append(f"bid_cpu_vs_plain: {ratio(accepted_us(best)):.1f} x")
    lines.append(f"bid_cold_cpu_per_accepted: {accepted_us(cold):.0f} us")
    lines.append(f"bid_cold_cpu_vs_plain: {ratio(accepted_us(cold)):.1f} x")
    lines.append(f"refused_bid_cpu: {refused_us:.0f} us")
    for part in ("server", "worker", "postgres", "redis"):
        value = refused.cost.get(part, 0.0) / refused_n * 1e6 if refused_n else math.nan
        lines.append(f"refused_bid_cpu_{part}: {value:.0f} us")
    lines.append(f"refused_bid_cpu_vs_plain: {ratio(refused_us):.1f} x")
    # the outbox runs come in trials of one run with 1 worker and one with 2 (a backlog made between them): each
    # figure is the median over the trials, the gain each trial's own, with its spread
    runs = {workers: [r for r in outbox_runs if r.workers == workers] for workers in (1, 2)}
    for workers, of in runs.items():
        if of:
            cpu = statistics.median(sum(r.cpu.values()) / max(1, r.events) for r in of)
            lines.append(f"outbox_events_per_s_w{workers}: {statistics.median(r.rate for r in of):.0f} events/s")
            lines.append(f"outbox_cpu_per_event_w{workers}: {cpu * 1e6:.0f} us")
    gains = [(two.rate - one.rate) / one.rate for one, two in zip(runs[1], runs[2], strict=False)]
    if gains:
        lines.append(f"outbox_second_worker_gain: {statistics.median(gains):.2f} x")
        lines.append(f"outbox_second_worker_gain_min: {min(gains):.2f} x")
        lines.append(f"outbox_second_worker_gain_max: {max(gains):.2f} x")
        lines.append(f"outbox_trials: {len(gains)} count")
    for size, (events, cpu) in batch_costs.items():
        lines.append(f"outbox_batch{size}_events: {events:.0f} count")
        lines.append(f"outbox_batch{size}_cpu_per_event: {sum(cpu.values()) / max(1.0, events) * 1e6:.0f} us")
        lines.append(f"outbox_batch{size}_worker_cpu_per_event: {cpu['worker'] / max(1.0, events) * 1e6:.0f} us")
    return lines


# --------------------------------------------------------------------------- main


def backend(args: argparse.Namespace) -> tuple[str | None, str | None, str]:
    """(DATABASE_URL to create the database on, REDIS_URL, description), or SystemExit(0) with a message."""
    from domain.db import is_postgres

    url = os.environ.get("DATABASE_URL") or None
    redis_url = os.environ.get("REDIS_URL") or None
    postgres = bool(url and is_postgres(url))
    if not postgres:
        url = None
    if not (postgres and redis_url) and args.scale != "tiny" and not args.allow_fallback:
        print(
            "skipped: the full benchmark needs DATABASE_URL on a loopback PostgreSQL and REDIS_URL "
            "(or --scale tiny / --allow-fallback for SQLite and the in-process broker)",
            file=sys.stderr,
        )
        raise SystemExit(0)
    return url, redis_url, ("postgresql" if postgres else "sqlite") + ("+redis" if redis_url else "+in-process broker")


async def run(args: argparse.Namespace) -> int:
    from tortoise import Tortoise

    from api.manage import migrate
    from api.settings import Settings
    from domain.db import tortoise_config
    from domain.wiring import wire
    from schema.relay import to_global_id

    source, redis_url, description = backend(args)
    REDIS_PID[0] = redis_pid(redis_url)
    nofile = raise_nofile()
    if nofile < args.watchers + 1000:
        log(f"RLIMIT_NOFILE is {nofile}: fewer watchers ({max(10, nofile - 1000)})")
        args.watchers = max(10, nofile - 1000)
    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-auction-"))
    db = await create_database(source)
    servers: Servers | None = None
    lines: list[str] = []
    failures: list[str] = []
    try:
        began = time.perf_counter()
        await migrate(Settings(database_url=db.url))
        await Tortoise.init(config=tortoise_config(db.url))
        wire()  # the domain's composition root: timed transitions, award blockers, security
        seeded = await seed(args.bidders)
        log(f"database {description}: migrated and seeded in {time.perf_counter() - began:.1f} s")

        # (1) the raw SQL ceiling
        sql_rates: dict[int, float] = {}
        for n in args.sql_connections if db.postgres else [1]:
            if db.postgres:
                sql_rates[n] = await sql_ceiling_pg(db.url, seeded.lots["sql"], seeded.entries, n, args.sql_seconds)
            else:
                path = db.url.removeprefix("sqlite://")
                sql_rates[n] = sql_ceiling_sqlite(path, seeded.lots["sql"], seeded.entries, args.sql_seconds)
            log(f"sql: {n} connections {sql_rates[n]:.0f} bids/s")

        if db.postgres and 1 not in sql_rates:  # the ceiling the goal compares with: one connection
            sql_rates[1] = await sql_ceiling_pg(db.url, seeded.lots["sql"], seeded.entries, 1, args.sql_seconds)
        python_path_rate = math.nan
        if db.postgres:  # what the statement saves: the Python path's transaction at one connection
            python_path_rate = await sql_python_path_pg(db.url, seeded.lots["sql"], seeded.entries, 1, args.sql_seconds)
            log(f"sql: the Python path's transaction, 1 connection {python_path_rate:.0f} bids/s")

        # plain Starlette's CPU per request, the unit of the CPU ratios
        plain_us = await measure_plain(args, db, tmp, redis_url)

        # (3) the raw broadcast, before the PalmTrade server runs
        raw_values, raw_missing, _raw_dup = await measure_raw(args)
        if raw_missing:
            failures.append(f"raw broadcast: {raw_missing} receipts missing")

        # the PalmTrade server
        separate = args.separate_worker or args.server_processes > 1
        servers = await start_servers(db, tmp, redis_url, args.server_processes, separate)
        port = servers.port  # the live measurement watches one process, like the raw broadcast

        # (3) live updates through PalmTrade
        live_lot = to_global_id("Lot", seeded.lots["live"])
        live = await measure_live(args, port, seeded, live_lot)
        if live.missing:
            failures.append(f"live updates: {live.missing} receipts missing")
        if live.duplicates:
            failures.append(f"live updates: {live.duplicates} updates delivered twice to one socket")
        await asyncio.sleep(1.0)
        await drain_outbox(db)

        # (2) bids through the full stack: cold bidders (each bidder's first bid on the lot), then warm ones at
        # each concurrency of the sweep, then refused bids (the starting price, below the current one)
        bids_lot = to_global_id("Lot", seeded.lots["bids"])
        cold = await measure_bids(args, db, servers, seeded, bids_lot, args.cold_connections, mode="once")
        log(
            f"bids cold: {cold.every_requests} first bids at {args.cold_connections} connections in "
            f"{cold.seconds:.1f} s, {dict(sorted(cold.every.items()))}, platform cpu {cold.cost_total:.2f} s"
        )
        steps: list[BidStep] = []
        for c in args.bid_connections:
            step = await measure_bids(args, db, servers, seeded, bids_lot, c)
            steps.append(step)
            log(
                f"bids: {c} connections {step.request_rate:.0f} requests/s, {step.accepted_rate:.0f} accepted/s, "
                f"{dict(sorted(step.outcomes.items()))}, server cpu {step.server_cpu_pct:.0f} %, "
                f"worker cpu {step.worker_cpu_pct:.0f} %, bid clients cpu {step.client_cpu_pct:.0f} %, "
                f"outbox backlog {step.backlog} drained in {step.drain_seconds:.1f} s"
            )
            for error in step.errors:
                log(f"bid client error: {error}")
        best = max(steps, key=lambda s: s.accepted_rate)
        refused = await measure_bids(args, db, servers, seeded, bids_lot, best.connections, mode="refuse")
        log(
            f"bids refused: {best.connections} connections {refused.request_rate:.0f} requests/s, "
            f"{dict(sorted(refused.outcomes.items()))}, platform cpu {refused.cost_total:.2f} s"
        )
        if any(p.poll() is not None for p in servers.all()):
            raise RuntimeError(f"a server died during the run:\n{server_log(tmp)}")
        stop_processes(servers.all())
        servers = None

        # (4) the outbox: a backlog of bids' events left by a server without a dispatcher, drained by 1 and 2
        # worker processes; then this process's dispatcher at each batch size
        outbox_runs: list[OutboxRun] = []
        batch_costs: dict[int, tuple[float, dict[str, float]]] = {}
        backlog_accepted = 0
        # (a pair per trial, 1 then 2 workers, the order alternating: one pair's gain moved by 0.5-0.9 x between runs)
        for trial in range(args.outbox_trials if args.outbox_seconds > 0 else 0):
            for workers in (1, 2) if trial % 2 == 0 else (2, 1):
                backlog, accepted = await make_backlog(args, db, tmp, redis_url, seeded, bids_lot)
                backlog_accepted += accepted
                run_ = await measure_outbox(args, db, tmp, redis_url, workers)
                outbox_runs.append(run_)
                log(
                    f"outbox: trial {trial + 1}, {workers} workers, {run_.events} of {backlog} events in "
                    f"{run_.seconds:.2f} s ({run_.rate:.0f}/s)"
                )
        if args.outbox_seconds > 0 and args.outbox_batches:
            backlog, accepted = await make_backlog(args, db, tmp, redis_url, seeded, bids_lot)
            backlog_accepted += accepted
            per_batch = max(1, backlog // len(args.outbox_batches))
            batch_costs = await measure_batches(args, db, redis_url, args.outbox_batches, per_batch)
        accepted_all = cold.accepted_total + sum(s.accepted_total for s in steps) + backlog_accepted
        failures += await check_bids(seeded.auctions["bids"], accepted_all)

        # the figures
        lines.append(f"bidders: {args.bidders} count")
        lines.append(f"server_processes: {args.server_processes} count")
        lines.append(f"separate_worker: {int(separate)} count")
        for n, rate in sql_rates.items():
            lines.append(f"sql_bid_tx_c{n}: {rate:.0f} bids/s")
            if n in SQL_CPU:
                lines.append(f"sql_bid_tx_postgres_cpu_per_tx_c{n}: {SQL_CPU[n] * 1e6:.0f} us")
        sql_best = max(sql_rates.values())
        lines.append(f"sql_bid_tx_ceiling: {sql_best:.0f} bids/s")
        if db.postgres:
            lines.append(f"sql_bid_tx_python_path_c1: {python_path_rate:.0f} bids/s")
            if 1 in PYTHON_PATH_CPU:
                lines.append(f"sql_bid_tx_python_path_postgres_cpu_per_tx_c1: {PYTHON_PATH_CPU[1] * 1e6:.0f} us")
        for s in steps:
            c = s.connections
            lines.append(f"graphql_bid_requests_c{c}: {s.request_rate:.0f} requests/s")
            lines.append(f"graphql_bids_accepted_c{c}: {s.accepted_rate:.0f} bids/s")
            lines.append(f"graphql_bids_refused_c{c}: {(s.requests - s.accepted) / s.seconds:.0f} bids/s")
            for code, count in sorted(s.outcomes.items()):
                if code != "ACCEPTED":
                    lines.append(f"graphql_bids_refused_c{c}_{code.lower()}: {count / s.seconds:.0f} bids/s")
            lines.append(f"graphql_bid_p50_c{c}: {s.p50_ms:.2f} ms")
            lines.append(f"graphql_bid_p99_c{c}: {s.p99_ms:.2f} ms")
            lines.append(f"graphql_bid_server_cpu_c{c}: {s.server_cpu_pct:.0f} %")
            cpu_per = s.server_cpu_pct / 100.0 / s.request_rate * 1e6 if s.request_rate else math.nan
            lines.append(f"graphql_bid_server_cpu_per_request_c{c}: {cpu_per:.0f} us")
            if separate:
                lines.append(f"graphql_bid_worker_cpu_c{c}: {s.worker_cpu_pct:.0f} %")
                per_bid = s.worker_cpu_pct / 100.0 / s.accepted_rate * 1e6 if s.accepted_rate else math.nan
                lines.append(f"graphql_bid_worker_cpu_per_accepted_c{c}: {per_bid:.0f} us")
            lines.append(f"graphql_bid_client_cpu_c{c}: {s.client_cpu_pct:.0f} %")
            if db.postgres:
                lines.append(f"graphql_bid_postgres_cpu_c{c}: {s.db_cpu_pct:.0f} %")
                total = (s.server_cpu_pct + s.worker_cpu_pct + s.db_cpu_pct + s.client_cpu_pct) / 100.0
                per_bid = total / s.accepted_rate * 1e6 if s.accepted_rate else math.nan
                lines.append(f"graphql_bid_all_cpu_per_accepted_c{c}: {per_bid:.0f} us")
            lines.append(f"outbox_drain_after_c{c}: {s.drain_seconds:.1f} s")
        lines.append(f"graphql_bids_accepted_best: {best.accepted_rate:.0f} bids/s")
        lines.append(f"graphql_bids_best_connections: {best.connections} count")
        rate_limited = sum(s.outcomes.get("BID_RATE_LIMITED", 0) for s in [*steps, cold, refused])
        lines.append(f"bid_rate_limited: {rate_limited} count")
        lines.append(f"max_bids_per_bidder_second: {max(s.max_per_bidder_second for s in steps)} count")
        lines.append(f"watchers: {args.watchers} count")
        lines.append(f"updates: {args.updates} count")
        raw_p50, raw_p99 = stats(raw_values)
        live_p50, live_p99 = stats(live.from_ack)
        request_p50, request_p99 = stats(live.from_request)
        trip_p50, _ = stats(live.round_trips)
        lines.append(f"raw_broadcast_p50: {raw_p50:.1f} ms")
        lines.append(f"raw_broadcast_p99: {raw_p99:.1f} ms")
        lines.append(f"raw_broadcast_max: {max(raw_values, default=math.nan):.1f} ms")
        lines.append(f"graphql_update_p50: {live_p50:.1f} ms")
        lines.append(f"graphql_update_p99: {live_p99:.1f} ms")
        lines.append(f"graphql_update_max: {max(live.from_ack, default=math.nan):.1f} ms")
        lines.append(f"graphql_update_min: {min(live.from_ack, default=math.nan):.1f} ms")
        lines.append(f"graphql_update_from_request_p50: {request_p50:.1f} ms")
        lines.append(f"graphql_update_from_request_p99: {request_p99:.1f} ms")
        lines.append(f"graphql_live_bid_roundtrip_p50: {trip_p50:.1f} ms")
        lines.append(f"graphql_live_bid_roundtrip_max: {max(live.round_trips, default=math.nan):.1f} ms")
        bid_vs_sql = best.accepted_rate / sql_best if sql_best else math.nan
        sql_one = sql_rates.get(1, math.nan)
        p99_ratio = live_p99 / raw_p99 if raw_p99 > 0 else math.nan
        lines.append(f"graphql_bids_vs_sql_ceiling: {bid_vs_sql:.2f} x")
        lines.append(f"graphql_update_vs_raw_p99: {p99_ratio:.2f} x")
        lines.append(f"graphql_update_vs_raw_p50: {live_p50 / raw_p50 if raw_p50 > 0 else math.nan:.2f} x")
        lines += cost_lines(plain_us, sql_rates, cold, steps, best, refused, outbox_runs, batch_costs)
        for line in lines:
            print(line, flush=True)

        met = best.accepted_rate >= GOAL_BIDS
        log(
            f"goal accepted bidPlace >= {GOAL_BIDS:.0f} bids/s: {'met' if met else 'NOT met'} "
            f"({best.accepted_rate:.0f} at {best.connections} connections)"
        )
        met = best.accepted_rate / sql_one >= GOAL_SQL_RATIO
        log(
            f"goal accepted bidPlace >= {GOAL_SQL_RATIO:.0%} of the SQL ceiling at one connection: "
            f"{'met' if met else 'NOT met'} ({best.accepted_rate / sql_one:.2f} x of {sql_one:.0f} bids/s; "
            f"{bid_vs_sql:.2f} x of the best over the sweep, {sql_best:.0f} bids/s)"
        )
        met = p99_ratio <= GOAL_P99_RATIO
        log(
            f"goal live update p99 within {GOAL_P99_RATIO:.0f}x of the raw broadcast: {'met' if met else 'NOT met'} "
            f"({live_p99:.1f} ms vs {raw_p99:.1f} ms = {p99_ratio:.2f} x; from the bid request instead of its "
            f"acknowledgement: p99 {request_p99:.1f} ms = {request_p99 / raw_p99 if raw_p99 > 0 else math.nan:.2f} x)"
        )
        if min(live.from_ack, default=0.0) < 0:
            log(
                f"some watchers had the update before the bidder had its acknowledgement (by up to "
                f"{-min(live.from_ack):.0f} ms): the bid's answer waited for part of the fan-out"
            )
        busiest = max(s.max_per_bidder_second for s in steps)
        if rate_limited or busiest >= BIDS_PER_SECOND:
            log(
                f"the per-bidder limit ({BIDS_PER_SECOND}/s) was reached ({rate_limited} refused, busiest bidder "
                f"{busiest} in one second): more bidders (--bidders) would take it out of the run"
            )
        else:
            log(f"the per-bidder limit ({BIDS_PER_SECOND}/s) did not cap the run (busiest bidder: {busiest} a second)")
        log(
            f"database={description} scale={args.scale} bidders={args.bidders} watchers={args.watchers} "
            f"watcher_processes={args.watcher_processes} client_processes={args.client_processes} "
            f"updates={args.updates} gap={args.gap}s bid_window={args.bid_seconds}s warmup={args.warmup}s "
            f"nofile={nofile} cores={os.cpu_count()} loadavg={' '.join(f'{x:.1f}' for x in os.getloadavg())}"
        )
        for failure in failures:
            print(f"error: {failure}", file=sys.stderr)
        return 1 if failures else 0
    finally:
        for proc in servers.all() if servers is not None else []:
            if proc.poll() is None:
                proc.terminate()
        for proc in servers.all() if servers is not None else []:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if Tortoise.is_inited():
            await Tortoise.close_connections()
        if args.keep_log:
            log(f"server log kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        await drop_database(db)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="default", help="default or tiny (CI)")
    parser.add_argument("--bidders", type=int, default=None)
    parser.add_argument("--watchers", type=int, default=None)
    parser.add_argument("--watcher-processes", type=int, default=None)
    parser.add_argument("--updates", type=int, default=None, help="live updates measured")
    parser.add_argument("--gap", type=float, default=0.5, help="pause after an update reached every watcher (s)")
    parser.add_argument("--sql-connections", default=None, help="comma-separated sweep, e.g. 1,4,16,32")
    parser.add_argument("--bid-connections", default=None, help="comma-separated sweep, e.g. 1,4,16,64")
    parser.add_argument("--client-processes", type=int, default=None)
    parser.add_argument("--sql-seconds", type=float, default=None)
    parser.add_argument("--bid-seconds", type=float, default=None)
    parser.add_argument("--warmup", type=float, default=None)
    parser.add_argument("--cold-connections", type=int, default=None, help="connections of the cold bidders' step")
    parser.add_argument("--plain-connections", type=int, default=None, help="connections for plain Starlette")
    parser.add_argument("--plain-seconds", type=float, default=None, help="plain Starlette's measured window")
    parser.add_argument(
        "--outbox-seconds", type=float, default=None, help="bids left for the outbox workers per run (0: no outbox)"
    )
    parser.add_argument(
        "--outbox-trials",
        type=int,
        default=None,
        help="pairs of outbox runs (1 worker, 2 workers; the order alternating); medians reported (full scale 3)",
    )
    parser.add_argument("--outbox-batches", default="200,20,2", help="in-process dispatcher batch sizes ('' for none)")
    parser.add_argument(
        "--profile", metavar="DIR", help="py-spy the server in each bid step and the workers (py-spy installed)"
    )
    parser.add_argument("--server-processes", type=int, default=1, help="API server processes (own ports)")
    parser.add_argument(
        "--separate-worker", action="store_true", help="outbox dispatcher in its own process (always with 2+ servers)"
    )
    parser.add_argument("--allow-fallback", action="store_true", help="run the full scale on SQLite if need be")
    parser.add_argument("--keep-log", action="store_true", help="keep the server log directory")
    parser.add_argument(
        "--bid-by-hash",
        action="store_true",
        help="send the app's BidPlace by its manifest hash (its lean path, LEAN_PERSISTED) instead of BID's text",
    )
    parser.add_argument("--watcher", help=argparse.SUPPRESS)
    parser.add_argument("--raw-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--bid-client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    for name in (
        "bidders",
        "watchers",
        "watcher_processes",
        "updates",
        "client_processes",
        "sql_seconds",
        "bid_seconds",
        "warmup",
        "cold_connections",
        "plain_connections",
        "plain_seconds",
        "outbox_seconds",
        "outbox_trials",
    ):
        if getattr(args, name) is None:
            setattr(args, name, scale[name])
    for name in ("sql_connections", "bid_connections"):
        value = getattr(args, name)
        setattr(args, name, [int(x) for x in value.split(",")] if value else list(scale[name]))
    args.outbox_batches = [int(x) for x in args.outbox_batches.split(",") if x.strip()]
    if not 2 <= args.bidders <= 9000:
        parser.error("--bidders must be 2..9000 (4-digit bidder numbers)")
    if (
        min(
            args.watchers,
            args.watcher_processes,
            args.updates,
            args.client_processes,
            args.server_processes,
            *args.sql_connections,
            *args.bid_connections,
        )
        < 1
    ):
        parser.error("counts must be >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.bid_by_hash:
        global BID_SHA256
        BID_SHA256 = os.environ["BENCH_BID_SHA256"] = _bid_place_sha256()  # the bid clients' processes too
    if args.watcher:
        run_loop(watcher_main(json.loads(args.watcher)))
        return 0
    if args.raw_server:
        run_loop(raw_server_main(args.raw_server))
        return 0
    if args.bid_client:
        run_loop(bid_client_main())
        return 0
    try:
        return int(run_loop(run(args)))
    except SystemExit:
        raise
    except Exception as err:  # setup failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
