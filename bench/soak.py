"""Runs for months: a steady mixed load on two servers and an outbox worker, PostgreSQL + Redis, for minutes or hours.

One run:

1. a fresh database on the loopback PostgreSQL DATABASE_URL names (``<name>_bench_<random>``, dropped at the end),
   migrated and seeded with the demo city and 40 generated announcements (``bench/persisted.py``'s set-up: the home
   screen's 20 cards). The demo city is seeded on a clock 31 minutes back, so that its online auction (化学需氧量
   排污权, the demo bidders 13900000001 and 13900000002 entered) has been in free bidding for a minute when the load
   begins; bids keep it live after its hour of free bidding (every bid restarts the 5-minute countdown);
2. the bidding day's cluster (``tests/support/load.py``): ``--servers`` server processes (RUN_WORKERS=0),
   ``--workers`` worker processes (dispatcher, chronograph, push senders), a Redis and an FCM stub of their own,
   with short retention: ``PUSH_DELIVERY_RETENTION_DAYS``, ``NOTIFICATION_RETENTION_DAYS`` and
   ``REFRESH_TOKEN_RETENTION_DAYS`` 0, ``OUTBOX_RETENTION_HOURS`` 48 (its floor). Once the worker has dispatched
   the set-up's events they are moved 72 hours back (``dispatched_at``), so the outbox purge has rows past its
   floor to delete within minutes;
3. the load, for ``--minutes``: phones (``Phone`` of tests/support/load.py, by the app's persisted hashes) that
   sign in with a password (one attempt in ten first fails: an unknown number), then run a session of 20 to 60
   actions a think time apart: ``query Me``, the home screen (``AnnouncementList``, one in ten pulled fresh), an
   announcement from it, the inbox (``Inbox``), the live lot's state and, on the demo bidders' accounts, a bid of
   the lowest next price, a token refresh; half sign out at the end. ``--watchers`` sockets follow the lot live.
   The number of phones is ``--rate`` times the mean think time. Every ``--purge-seconds`` the leases of the
   retention purges (and of ``idempotency.purge``) are expired, so the worker's chronograph runs them on its next
   tick instead of every 10 or 60 minutes;
4. meanwhile every ``--sample-seconds``: the RSS, open descriptors and CPU of each server, worker and the Redis
   (``/proc``);
5. at the end the purges run once more; for each retained table, its rows and the rows its retention no longer
   allows at that purge (must be 0), by the rules of domain/common/retention.py and its neighbours, written here
   again in SQL: the check does not trust the code it checks.

Output, one figure a line, ``name: value unit``. Per process: ``soak_rss_slope_<process>``, the least-squares slope
after the warm-up of the lower envelope of its RSS (the least sample of each of 12 stretches: an argon2 hash holds
64 MiB while it runs, and a sample that falls inside one is not growth), MiB per hour; ``soak_rss_slope_all_samples_``
the same over every sample; its RSS at the end and at most, its descriptors' growth and CPU after the warm-up (Redis
too, not held to the goal), and ``soak_cpu_per_request`` (servers and workers). Per operation:
``soak_p50_<op>``, ``soak_p99_<op>``, ``soak_count_<op>`` (every request of the load, timed by the client). Per
retained table: ``soak_table_rows_<table>`` at the end, ``_made_`` (ids issued during the load), ``_deleted_`` (by the
purges), ``_over_retention_`` (must be 0). The audit trail (never purged) per 1,000 requests and its verification;
typed outcomes (``soak_outcome_transport_*``: a connection broke and the phone sent the request again, to the
other server); ``soak_loadgen_*`` (the load generator's own event-loop lag, which is in every latency it records,
and its CPU); ``soak_errors`` (5xx, INTERNAL, requests no server answered, answers the phones did not expect). Progress
and the goals, met or missed, on stderr as ``# ...`` lines.

Goals (issue 21): RSS slope after the warm-up below 5 MiB/h for every server and worker, every table within its
retention, p99 below 250 ms for every operation including sign-in. A slope over a few minutes says little (one
arena or cache filling moves it by tens of MiB/h): the goal is for the hour.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make soak                 # an hour
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres make soak SOAK_MINUTES=3
    DATABASE_URL=... .venv/bin/python bench/soak.py --scale tiny     # the CI smoke: 45 s of load at 10 requests/s

Exits 2 if set-up fails, 1 on any error above or a process of the cluster that exited, and with ``--strict`` 1 when
a goal is missed; otherwise 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import http_baseline as hb  # cpu_seconds; puts the repository on sys.path
import persisted  # the demo city plus generated announcements
import publication  # a fresh database on the PostgreSQL server, dropped afterwards

from tests.support.load import SECRET, Cluster, Metrics, Phone, Pools, Process, Unanswered, Watcher, think

GOAL_SLOPE_MIB_PER_H = 5.0
GOAL_P99_MS = 250.0
MIB = 1 << 20
ANNOUNCEMENTS = 40
SEED_BACK = timedelta(minutes=31)  # the demo auction's bidding starts 30 minutes after seeding
OUTBOX_AGED = timedelta(hours=72)
CLIENTS_PER_POOL = 25
RETENTION = {
    "OUTBOX_RETENTION_HOURS": "48",
    "PUSH_DELIVERY_RETENTION_DAYS": "0",
    "NOTIFICATION_RETENTION_DAYS": "0",
    "REFRESH_TOKEN_RETENTION_DAYS": "0",
}


@dataclass(frozen=True)
class Rule:
    """A retained table: the purge that keeps it, and the rows it no longer allows at that purge's `$1` (its now)."""

    table: str
    job: str
    over: str


def _past(column: str, setting: str) -> str:
    """`column` lies further back than the retention `setting` (hours or days) from the purge's now, `$1`."""
    unit = "hours" if setting.endswith("_HOURS") else "days"
    return f"{column} <= $1::timestamptz - make_interval({unit} => {RETENTION[setting]})"


RULES = [
    # domain/common/retention.purge_outbox: dispatched longer than OUTBOX_RETENTION_HOURS ago; never undispatched
    Rule("outbox_event", "outbox.purge", _past("dispatched_at", "OUTBOX_RETENTION_HOURS")),
    # domain/notifications/retention: final pushes made longer than PUSH_DELIVERY_RETENTION_DAYS ago
    Rule(
        "push_delivery",
        "push_delivery.purge",
        f"status <> 'pending' AND {_past('created_at', 'PUSH_DELIVERY_RETENTION_DAYS')}",
    ),
    # ... notifications made longer than NOTIFICATION_RETENTION_DAYS ago, but for those with a pending push
    Rule(
        "notification",
        "notification.purge",
        f"{_past('created_at', 'NOTIFICATION_RETENTION_DAYS')} AND NOT EXISTS (SELECT 1 FROM push_delivery p"
        " WHERE p.notification_id = notification.id AND p.status = 'pending')",
    ),
    # domain/accounts/retention: expired or revoked longer than REFRESH_TOKEN_RETENTION_DAYS ago
    Rule(
        "refresh_token",
        "refresh_token.purge",
        " OR ".join(_past(column, "REFRESH_TOKEN_RETENTION_DAYS") for column in ("expires_at", "revoked_at")),
    ),
    # domain/common/idempotency.purge_expired: past their lifetime
    Rule("idempotency_record", "idempotency.purge", "expires_at <= $1::timestamptz"),
]
NEVER_PURGED = {"audit_entry": "seq"}  # the chain is kept whole (README: Production layout, the audit chain)

FAILED_SIGNIN = "signin_failed"
# the actions of a session and their weights (a bid only on a bidder's account; others look at the lot)
ACTIONS = [("me", 15), ("home_screen", 30), ("announcement_detail", 20), ("notifications", 15), ("lot", 12)]
ACTIONS += [("token_refresh", 5)]
BID_REFUSALS = {"BID_TOO_LOW", "ALREADY_LEADING", "BID_RATE_LIMITED", "AUCTION_NOT_LIVE", "BID_NOT_ON_INCREMENT"}
SIGNIN_REFUSALS = {"INVALID_CREDENTIALS", "RATE_LIMITED"}


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------- set-up


def prepare(database_url: str) -> None:
    """The demo city (seeded SEED_BACK ago: its auction live now) and the generated announcements."""
    from domain.common import clock

    previous = clock.set_clock(clock.ManualClock(datetime.now(UTC) - SEED_BACK))
    try:
        asyncio.run(persisted.prepare_database(database_url, SECRET, ANNOUNCEMENTS))
    finally:
        clock.set_clock(previous)


def asyncpg_url(database_url: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, "", ""))


async def wait_for(what: str, check: Any, within: float, cluster: Cluster) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if result := await check():
            return result
        dead = [p.name for p in [*cluster.servers, *cluster.workers] if not p.alive]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}\n{cluster.tail()}")
        await asyncio.sleep(0.5)
    raise RuntimeError(f"no {what} after {within:.0f} s\n{cluster.tail()}")


@dataclass
class Ready:
    lot_id: str
    aged: int
    accounts: list[tuple[str, bool]]  # (phone, entered in the auction)


async def get_ready(conn: Any, cluster: Cluster) -> Ready:
    """Waits for the worker to dispatch the set-up's events and open the auction; ages those events."""
    from api.seed import AUCTION_BIDDERS, DEMO_ENTITIES
    from schema.relay import to_global_id

    async def drained() -> bool:
        return bool(await conn.fetchval("SELECT count(*) = 0 FROM outbox_event WHERE dispatched_at IS NULL"))

    async def live() -> int | None:
        row = await conn.fetchrow("SELECT lot_id FROM auction WHERE phase IN ('free', 'timed') LIMIT 1")
        return int(row["lot_id"]) if row else None

    lot = await wait_for("live auction", live, 90, cluster)
    await wait_for("dispatch of the set-up's events", drained, 90, cluster)
    aged = await conn.fetchval(
        "WITH moved AS (UPDATE outbox_event SET dispatched_at = dispatched_at - $1::interval"
        " WHERE dispatched_at IS NOT NULL RETURNING 1) SELECT count(*) FROM moved",
        OUTBOX_AGED,
    )
    demo = [entity[6] for entity in DEMO_ENTITIES]
    rows = await conn.fetch(
        "SELECT u.phone FROM app_user u JOIN organisation o ON o.id = u.organisation_id"
        " WHERE o.status = 'approved' AND u.phone = ANY($1::text[]) ORDER BY u.phone",
        demo,
    )
    accounts = [(str(r["phone"]), str(r["phone"]) in AUCTION_BIDDERS) for r in rows]
    if not any(bidder for _, bidder in accounts):
        raise RuntimeError(f"the demo bidders are not among the approved accounts: {accounts}")
    return Ready(to_global_id("Lot", lot), int(aged), accounts)


# --------------------------------------------------------------------------------------------- the phones


@dataclass
class Load:
    """What the phones share: the lot, the cards the home screen showed, the errors they met."""

    lot_id: str
    stop: asyncio.Event
    think_mean: float
    cards: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    unknown: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def expect(answer: dict[str, Any], field_name: str, typename: str, allowed: set[str] | None = None) -> dict[str, Any]:
    result = answer[field_name]
    if result.get("__typename") == typename or (allowed and result.get("code") in allowed):
        return dict(result)
    raise AssertionError(f"{field_name}: {str(result)[:300]}")


async def pause(phone: Phone, load: Load) -> None:
    await think(phone, 0.5 * load.think_mean, 1.5 * load.think_mean, load.stop)


async def sign_in(phone: Phone, number: str, load: Load) -> str:
    """Signs in with the password (one attempt in ten fails first, on a number nobody has); the refresh token."""
    if phone.random.random() < 0.1:
        unknown = f"136{90_000_000 + next(load.unknown) % 10_000_000:08d}"
        answer = await phone.call("SignIn", {"input": {"phone": unknown, "password": "wrong"}}, label=FAILED_SIGNIN)
        if answer["authLogin"].get("code") not in SIGNIN_REFUSALS:
            raise AssertionError(f"a failing sign-in: {answer}")
        await pause(phone, load)
    from api.seed import DEMO_PASSWORD

    answer = await phone.call("SignIn", {"input": {"phone": number, "password": DEMO_PASSWORD}}, label="signin")
    session = expect(answer, "authLogin", "SignedIn")["session"]
    phone.token = session["accessToken"]
    return str(session["refreshToken"])


async def act(phone: Phone, action: str, bidder: bool, refresh: str, load: Load) -> str:
    """One action of a session; the refresh token after it."""
    if action == "announcement_detail" and not load.cards:
        action = "home_screen"  # a card is picked from the home screen
    if action == "me":
        me = (await phone.call("Me", label="me"))["me"]
        if not me or not me.get("user"):
            raise AssertionError(f"me: {me}")
    elif action == "home_screen":
        fresh = phone.random.random() < 0.1
        data = await phone.call("AnnouncementList", {"first": 20}, fresh=fresh, label="home_screen")
        edges = data["announcements"]["edges"]
        if len(edges) < 20:
            raise AssertionError(f"the home screen showed {len(edges)} cards")
        if len(load.cards) < 20:
            load.cards[:] = [e["node"]["id"] for e in edges]
    elif action == "announcement_detail" and load.cards:
        pick = phone.random.choice(load.cards)
        shown = (await phone.call("AnnouncementDetail", {"id": pick}, label="announcement_detail"))["announcement"]
        if not shown or shown.get("__typename") not in (None, "Announcement"):
            raise AssertionError(f"announcement {pick}: {shown}")
    elif action == "notifications":
        await phone.call("Inbox", {"first": 20}, label="notifications")
    elif action == "lot":
        state = (await phone.call("AuctionState", {"lotId": load.lot_id}, fresh=True, label="auction_state"))["auction"]
        if bidder and state["phase"].lower() in ("free", "timed"):
            bid = {"lotId": load.lot_id, "amountFen": state["minNextBidFen"], "idempotencyKey": f"bid-{uuid.uuid4()}"}
            answer = await phone.call("BidPlace", {"input": bid}, label="bid")
            expect(answer, "bidPlace", "BidPlaced", BID_REFUSALS)
    elif action == "token_refresh":
        answer = await phone.call("RefreshSession", {"input": {"refreshToken": refresh}}, label="token_refresh")
        session = expect(answer, "authRefresh", "SignedIn")["session"]
        phone.token = session["accessToken"]
        return str(session["refreshToken"])
    return refresh


async def user(phone: Phone, index: int, number: str, bidder: bool, device: bool, load: Load, delay: float) -> None:
    """Sessions until the load stops: sign in, 20 to 60 actions, sign out half the time; errors are counted."""
    await think(phone, delay, delay, load.stop)
    actions, weights = zip(*ACTIONS, strict=True)
    while not load.stop.is_set():
        try:
            refresh = await sign_in(phone, number, load)
            if device:
                registered = {
                    "provider": "FCM",
                    "token": f"fcm-soak-{index}",
                    "platform": "ANDROID",
                    "appVersion": "3.2.0",
                    "installationId": f"soak-{index}",
                }
                answer = await phone.call("DeviceRegister", {"input": registered}, label="device_register")
                expect(answer, "deviceRegister", "DeviceRegistered")
                device = False
            for _ in range(phone.random.randint(20, 60)):
                await pause(phone, load)
                if load.stop.is_set():
                    return
                action = phone.random.choices(actions, weights)[0]
                refresh = await act(phone, action, bidder, refresh, load)
            if phone.random.random() < 0.5:
                answer = await phone.call("SignOut", {"input": {"refreshToken": refresh}}, label="sign_out")
                expect(answer, "authLogout", "LoggedOut")
        except (AssertionError, Unanswered, KeyError, TypeError, ValueError) as err:
            load.errors.append(f"{type(err).__name__}: {str(err)[:300]}")
        phone.token = None
        await pause(phone, load)


# --------------------------------------------------------------------------------------------- processes


@dataclass
class Sample:
    at: float
    rss: int  # bytes
    fds: int
    cpu: float  # seconds


@dataclass
class Watch:
    """One process's samples; `pid` changes would mean it was started again (it must not be)."""

    process: Process
    goal: bool = True  # held to the RSS slope goal (Redis is reported, not held)
    samples: list[Sample] = field(default_factory=list)
    pids: set[int] = field(default_factory=set)

    def sample(self, now: float) -> None:
        proc = self.process.proc
        if proc is None or proc.poll() is not None:
            return
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
            rss = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:"))
            fds = len(os.listdir(f"/proc/{proc.pid}/fd"))
        except (OSError, StopIteration, ValueError):
            return
        self.pids.add(proc.pid)
        self.samples.append(Sample(now, rss, fds, hb.cpu_seconds(proc.pid)))

    def after(self, t: float) -> list[Sample]:
        return [s for s in self.samples if s.at >= t]


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB), MiB per hour."""
    if len(points) < 3:
        return math.nan
    tm = sum(t for t, _ in points) / len(points)
    ym = sum(y for _, y in points) / len(points)
    var = sum((t - tm) ** 2 for t, _ in points)
    if var == 0:
        return math.nan
    return sum((t - tm) * (y - ym) for t, y in points) / var * 3600


def envelope(samples: list[Sample], stretches: int = 12) -> list[tuple[float, float]]:
    """The least RSS of each of up to `stretches` runs of consecutive samples, at the run's middle: what a process
    keeps, without the 64 MiB an argon2 hash holds while it runs (a sample may fall inside one)."""
    size = max(1, math.ceil(len(samples) / stretches))
    runs = [samples[i : i + size] for i in range(0, len(samples), size)]
    return [((run[0].at + run[-1].at) / 2, min(s.rss for s in run) / MIB) for run in runs if len(run) == size]


async def sampling(watches: list[Watch], every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        now = time.monotonic()
        for watch in watches:
            watch.sample(now)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def expire_purge_leases(conn: Any) -> datetime:
    """Makes every retention purge due: the worker's chronograph runs them on its next tick. Returns when."""
    when: datetime = await conn.fetchval("SELECT now()")
    await conn.execute(
        "UPDATE scheduler_lease SET leased_until = $2::timestamptz - interval '1 second' WHERE name = ANY($1::text[])",
        [rule.job for rule in RULES],
        when,
    )
    return when


async def purging(conn: Any, every: float, stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if not stop.is_set():
            await expire_purge_leases(conn)


async def table_counts(conn: Any) -> dict[str, tuple[int, int]]:
    """(rows, ids issued so far) of every retained table (its id sequence: a purged table's max(id) says nothing)
    and of the audit trail (never purged: its highest seq)."""
    counts = {}
    for table in [r.table for r in RULES]:
        rows = await conn.fetchval(f"SELECT count(*) FROM {table}")
        issued = await conn.fetchval(
            f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {await _sequence(conn, table)}"
        )
        counts[table] = (int(rows), int(issued))
    for table, key in NEVER_PURGED.items():
        row = await conn.fetchrow(f"SELECT count(*) AS n, coalesce(max({key}), 0) AS top FROM {table}")
        counts[table] = (int(row["n"]), int(row["top"]))
    return counts


async def _sequence(conn: Any, table: str) -> str:
    name = await conn.fetchval("SELECT pg_get_serial_sequence($1, 'id')", table)
    if not name:
        raise RuntimeError(f"{table}.id has no sequence")
    return str(name)


async def over_retention(conn: Any, cluster: Cluster, within: float = 30) -> dict[str, int]:
    """Runs every purge once more and, for each table, the rows its retention no longer allows at that run
    (waiting up to `within` seconds for the worker to get through them)."""
    forced = await expire_purge_leases(conn)
    deadline = time.monotonic() + within
    while True:
        runs = dict(
            await conn.fetch(
                "SELECT name, last_run_at FROM scheduler_lease WHERE name = ANY($1::text[]) AND last_run_at >= $2",
                [rule.job for rule in RULES],
                forced,
            )
        )
        over = {}
        for rule in RULES:
            ran = runs.get(rule.job)
            at = ran if ran is not None else forced
            over[rule.table] = int(await conn.fetchval(f"SELECT count(*) FROM {rule.table} WHERE {rule.over}", at))
        if (len(runs) == len(RULES) and not any(over.values())) or time.monotonic() > deadline:
            missing = [rule.job for rule in RULES if rule.job not in runs]
            if missing:
                log(f"the chronograph did not run {', '.join(missing)} within {within:.0f} s\n{cluster.tail()}")
            return over
        await asyncio.sleep(1)


# --------------------------------------------------------------------------------------------- figures


def p(values: list[float], q: float) -> float:
    return hb.percentile(sorted(values), q)


def report(
    args: argparse.Namespace,
    metrics: Metrics,
    window: float,
    watches: list[Watch],
    warm_at: float,
    warm_requests: int,
    tables: tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]],
    over: dict[str, int],
    aged: int,
    watchers: list[Watcher],
    errors: list[str],
) -> tuple[list[str], list[str]]:
    """The figures, and the goals missed."""
    lines = [
        f"soak_minutes: {args.minutes:g} min",
        f"soak_warmup_minutes: {args.warmup:.2g} min",
        f"soak_servers: {args.servers} count",
        f"soak_workers: {args.workers} count",
    ]
    missed = []
    operations = sorted(name for name in metrics.latency if not name.startswith("ws_"))
    measured = {name: metrics.latency[name] for name in operations}
    total = requests(metrics)
    lines += [f"soak_requests: {total} count", f"soak_request_rate: {total / window:.1f} req/s"]
    for name in operations:
        values = measured[name]
        lines += [
            f"soak_p50_{name}: {1000 * p(values, 0.50):.1f} ms",
            f"soak_p99_{name}: {1000 * p(values, 0.99):.1f} ms",
            f"soak_count_{name}: {len(values)} count",
        ]
        if values and 1000 * p(values, 0.99) >= GOAL_P99_MS:
            missed.append(f"p99 of {name} {1000 * p(values, 0.99):.0f} ms (goal < {GOAL_P99_MS:.0f} ms)")
    cpu_total = 0.0
    for watch in watches:
        name = watch.process.name
        after = watch.after(warm_at)
        slope = slope_per_hour(envelope(after))
        lines.append(f"soak_rss_slope_{name}: {slope:.1f} MiB/h")
        lines.append(
            f"soak_rss_slope_all_samples_{name}: {slope_per_hour([(s.at, s.rss / MIB) for s in after]):.1f} MiB/h"
        )
        if watch.samples:
            lines.append(f"soak_rss_end_{name}: {watch.samples[-1].rss / MIB:.1f} MiB")
            lines.append(f"soak_rss_max_{name}: {max(s.rss for s in watch.samples) / MIB:.1f} MiB")
        if len(after) >= 2:
            cpu = after[-1].cpu - after[0].cpu
            cpu_total += cpu if watch.goal else 0.0
            lines.append(f"soak_fds_growth_{name}: {after[-1].fds - after[0].fds} count")
            lines.append(f"soak_cpu_{name}: {100 * cpu / (after[-1].at - after[0].at):.1f} %")
        lines.append(f"soak_rss_samples_{name}: {len(after)} count")
        if watch.goal and not slope < GOAL_SLOPE_MIB_PER_H:
            missed.append(f"RSS slope of {name} {slope:.1f} MiB/h (goal < {GOAL_SLOPE_MIB_PER_H:g})")
    if total > warm_requests:
        lines.append(f"soak_cpu_per_request: {1000 * cpu_total / (total - warm_requests):.2f} ms")
    lines += [f"soak_{line}" for line in metrics.generator_report()]  # the load generator's lag and CPU
    start, end = tables
    for table, (rows, top) in end.items():
        lines.append(f"soak_table_rows_{table}: {rows} count")
        lines.append(f"soak_table_made_{table}: {top - start[table][1]} count")
        lines.append(f"soak_table_deleted_{table}: {start[table][0] + top - start[table][1] - rows} count")
        if table in over:
            lines.append(f"soak_table_over_retention_{table}: {over[table]} count")
            if over[table]:
                missed.append(f"{table}: {over[table]} rows past their retention")
    lines.append(f"soak_table_aged_outbox_event: {aged} count")
    made_audit = end["audit_entry"][1] - start["audit_entry"][1]
    if total:
        lines.append(f"soak_audit_rows_per_1k_requests: {1000 * made_audit / total:.0f} count")
    lines.append(f"soak_resent_after_a_broken_connection: {metrics.resent} count")
    lines.append(f"soak_watcher_updates: {sum(w.updates for w in watchers)} count")
    lines.append(f"soak_watcher_reconnects: {sum(w.reconnects for w in watchers)} count")
    for outcome, n in sorted(metrics.outcomes.items()):
        if outcome != "ok":
            lines.append(f"soak_outcome_{outcome}: {n} count")
    lines.append(f"soak_errors: {len(errors)} count")
    lines.append(f"soak_goals_missed: {len(missed)} count")
    return lines, missed


# --------------------------------------------------------------------------------------------- the run


async def soak(args: argparse.Namespace, database_url: str, tmp: Path) -> int:
    import asyncpg

    from domain.accounts.key_encryption import new_entry

    settings = {**RETENTION, "KEY_ENCRYPTION_KEYS": new_entry()}
    cluster = Cluster(database_url, tmp, servers=args.servers, workers=args.workers, settings=settings)
    conn = await asyncpg.connect(asyncpg_url(database_url))
    metrics = Metrics()
    stop = asyncio.Event()
    errors: list[str] = []
    try:
        started = time.monotonic()
        await cluster.start()
        ready = await get_ready(conn, cluster)
        log(
            f"cluster up in {time.monotonic() - started:.1f} s: {args.servers} servers, {args.workers} workers; "
            f"{ready.aged} set-up events aged {OUTBOX_AGED}; {len(ready.accounts)} accounts"
        )
        users = max(1, math.ceil(args.rate * args.think))
        load = Load(ready.lot_id, stop, args.think)
        watches = [Watch(p) for p in [*cluster.servers, *cluster.workers]]
        watches.append(Watch(cluster.redis, goal=False))
        duration, warmup = 60 * args.minutes, 60 * args.warmup
        tables_start = await table_counts(conn)
        began = time.monotonic()
        metrics.begin(began)  # the load generator's own event-loop lag and CPU (soak_loadgen_*)
        background = [
            asyncio.create_task(sampling(watches, args.sample_seconds, stop)),
            asyncio.create_task(purging(conn, args.purge_seconds, stop)),
        ]
        # a pooled connection is dropped after 2 s idle (Pools' keepalive), well before the servers' 5 s (uvicorn's
        # keep-alive): at the same 5 s a phone now and then sent on a connection the server was closing
        async with Pools(users, CLIENTS_PER_POOL, keepalive=2.0) as shards:
            # first sign-ins spread over a session's length (at most the warm-up): a burst of argon2 hashes at the
            # start would queue every sign-in behind it, and measure the start rather than the steady state
            ramp = min(warmup, 40 * args.think)
            phones = [Phone(shards[i], cluster.urls, metrics, seed=i + 1) for i in range(users)]
            tasks = []
            for i, phone in enumerate(phones):
                number, bidder = ready.accounts[i % len(ready.accounts)]
                device = i < 2 * len(ready.accounts)
                delay = ramp * i / users
                tasks.append(asyncio.create_task(user(phone, i, number, bidder, device, load, delay)))
            watchers = [Watcher(cluster.urls, ready.lot_id, metrics, seed=10_000 + i) for i in range(args.watchers)]
            tasks += [asyncio.create_task(w.run(stop)) for w in watchers]
            log(f"load: {users} phones, {args.watchers} watchers, for {args.minutes:g} min ({args.warmup:.2g} warm-up)")
            warm_at = math.nan
            next_progress = began + args.progress_seconds
            while (now := time.monotonic()) < began + duration:
                if math.isnan(warm_at) and now >= began + warmup:
                    warm_at, warm_requests = now, requests(metrics)
                dead = [p.name for p in [*cluster.servers, *cluster.workers] if not p.alive]
                if dead:
                    errors.append(f"{', '.join(dead)} exited during the load")
                    log(f"{', '.join(dead)} exited\n{cluster.tail()}")
                    break
                if now >= next_progress:
                    next_progress += args.progress_seconds
                    rss = " ".join(f"{w.process.name} {w.samples[-1].rss / MIB:.0f}" for w in watches if w.samples)
                    log(
                        f"{now - began:.0f} s: {metrics.requests} requests ({metrics.requests / (now - began):.1f}/s), "
                        f"{len(load.errors) + len(metrics.server_errors)} errors; RSS MiB {rss}"
                    )
                await asyncio.sleep(min(1.0, began + duration - now))
            if math.isnan(warm_at):
                warm_at, warm_requests = time.monotonic(), requests(metrics)
            window = time.monotonic() - began
            metrics.end()
            stop.set()
            for watch in watches:
                watch.sample(time.monotonic())
            done, pending = await asyncio.wait(tasks, timeout=60)
            for task in pending:
                task.cancel()
            if pending:
                errors.append(f"{len(pending)} phones still waiting for an answer 60 s after the load stopped")
            for task in done:
                if not task.cancelled() and task.exception() is not None:
                    errors.append(f"a phone failed: {task.exception()!r}")
            for failed in await asyncio.gather(*background, return_exceptions=True):
                if isinstance(failed, BaseException):
                    errors.append(f"sampling or purging failed: {failed!r}")
        over = await over_retention(conn, cluster)
        tables_end = await table_counts(conn)
        errors += load.errors + metrics.server_errors
        for name, n in transport_failures(metrics).items():  # resent to the other server: counted, not errors
            log(f"{name}: {n} requests met a broken connection and were sent again")
        restarted = [w.process.name for w in watches if len(w.pids) > 1 or not w.process.alive]
        errors += [f"{name} exited or was started again" for name in restarted]
    finally:
        stop.set()
        metrics.end()
        await conn.close()
        cluster.stop()
    chain = verify_audit(cluster)
    if not chain.get("ok"):
        errors.append(f"the audit chain does not verify: {chain}")
    lines, missed = report(
        args,
        metrics,
        window,
        watches,
        warm_at,
        warm_requests,
        (tables_start, tables_end),
        over,
        ready.aged,
        watchers,
        errors,
    )
    lines.insert(-2, f"soak_audit_chain_ok: {int(bool(chain.get('ok')))} count")
    lines.insert(-2, f"soak_audit_chain_checked: {chain.get('checked', 0)} count")
    print("\n".join(lines), flush=True)
    for sample in errors[:10]:
        log(f"error: {sample}")
    for goal in missed:
        log(f"goal missed: {goal}")
    if not missed:
        log("every goal met: RSS slopes, retention, p99")
    load_avg = os.getloadavg()
    log(f"load average {load_avg[0]:.2f} {load_avg[1]:.2f} {load_avg[2]:.2f} on {os.cpu_count()} cores")
    if errors:
        return 1
    return 1 if (missed and args.strict) else 0


def verify_audit(cluster: Cluster) -> dict[str, Any]:
    """`manage verify-audit` on the cluster's database and head exports: the chain unbroken after the purges."""
    worker = cluster.workers[0]
    done = subprocess.run(
        [sys.executable, "-m", "api.manage", "verify-audit"],
        cwd=hb.ROOT,
        env=worker.env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    try:
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return {"ok": False, "output": (done.stdout + done.stderr)[-500:]}


def requests(metrics: Metrics) -> int:
    """HTTP requests so far (the watchers' sockets apart)."""
    return sum(len(v) for name, v in metrics.latency.items() if not name.startswith("ws_"))


def transport_failures(metrics: Metrics) -> Counter[str]:
    failed: Counter[str] = Counter()
    for name, outcomes in metrics.by_operation.items():
        for outcome, n in outcomes.items():
            if outcome.startswith("transport_"):
                failed[name] += n
    return failed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["default", "tiny"], default="default", help="tiny: the CI smoke")
    parser.add_argument("--minutes", type=float, default=None, help="how long the load runs (default 60; tiny 0.75)")
    parser.add_argument(
        "--warmup", type=float, default=None, help="minutes left out of the RSS slopes (default: a third, at most 10)"
    )
    parser.add_argument("--rate", type=float, default=None, help="requests/s the phones aim at (default 40; tiny 10)")
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds between a phone's actions (default 2)")
    parser.add_argument("--watchers", type=int, default=4, help="sockets following the live lot (default 4)")
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sample-seconds", type=float, default=None, help="RSS sampling period (default: 1 to 10 s)")
    parser.add_argument("--purge-seconds", type=float, default=30.0, help="run the retention purges this often")
    parser.add_argument("--progress-seconds", type=float, default=None, help="progress lines on stderr this often")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--keep", action="store_true", help="keep the database and the processes' logs")
    args = parser.parse_args(argv)
    tiny = args.scale == "tiny"
    args.minutes = args.minutes if args.minutes is not None else (0.75 if tiny else 60.0)
    args.rate = args.rate if args.rate is not None else (10.0 if tiny else 40.0)
    if args.minutes <= 0 or args.rate <= 0 or args.think <= 0 or args.servers < 1 or args.workers < 1:
        parser.error("--minutes, --rate and --think must be > 0, --servers and --workers >= 1")
    args.warmup = args.warmup if args.warmup is not None else min(10.0, args.minutes / 3)
    if not 0 <= args.warmup < args.minutes:
        parser.error("--warmup must be shorter than --minutes")
    seconds = 60 * args.minutes
    args.sample_seconds = args.sample_seconds or min(10.0, max(1.0, seconds / 360))
    args.progress_seconds = args.progress_seconds or min(300.0, max(15.0, seconds / 12))
    return args


def main(argv: list[str] | None = None) -> int:
    from domain.db import is_postgres

    args = parse_args(argv)
    source = os.environ.get("DATABASE_URL", "")
    if not is_postgres(source):
        print("error: the soak runs on PostgreSQL: DATABASE_URL=postgres://...@127.0.0.1:5432/<db>", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-soak-"))
    db = None
    try:
        started = time.monotonic()
        db = asyncio.run(publication.create_database(source))
        prepare(db.url)
        log(f"database {db.name} seeded in {time.monotonic() - started:.1f} s (demo city + {ANNOUNCEMENTS})")
        return asyncio.run(soak(args, db.url, tmp))
    except Exception as err:
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    finally:
        if db is not None and not args.keep:
            asyncio.run(publication.drop_database(db))
        if args.keep:
            log(f"kept: database {db.name if db else '-'}, logs in {tmp}")
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
