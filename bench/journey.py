"""What a sealed bidder's opening journey costs per operation, against plain Starlette in the same server.

The bidding day's sealed bidders (tests/resilience/test_bidding_day.py ``sealed_bidder``) each send, by persisted
hash (mobile_contract/operations/app/*.graphql, as tests/support/load.py ``Phone.call`` does): SignIn (password),
CreditCommitmentSign (REGISTRATION), LotRegister, DeviceRegister, CreditCommitmentSign (BID), BidSubmit. This bench
sends each of them once per bidder and measures what one costs the server process and PostgreSQL.

One run:

1. a fresh database on the server DATABASE_URL names (PostgreSQL: ``<name>_bench_<random>``, dropped at the end;
   without DATABASE_URL a SQLite file, for the CI smoke), migrated, an operator created (``api.seed``);
2. ONE server process (``bench/http_baseline.py --serve``: ``create_app`` plus the plain ``GET /bench/plain``),
   RUN_WORKERS=0 (no dispatcher, chronograph or push senders in it: their work is not in the figures; the outbox
   just fills), REDIS_URL as given, argon2 at the tests' cost (as the bidding day runs; ``--argon2 production``
   for the deployed default);
3. set up through that server with the tests' factories (tests/factories.py ``approved_org``,
   tests/scenarios/test_sealed_bids.py ``sealed_lot``), not measured: two sealed tender lots open for
   registration and bids (deadline in 25 days), N approved bidder organisations with a user each;
4. pass ``c1`` on the first lot: for each operation of the journey in order, every bidder sends it, one request
   in flight; the server's CPU (``/proc/<pid>/stat`` utime + stime, every thread: the CPU pool's argon2 too) and
   PostgreSQL's over the N requests, over N. Then pass ``c8`` on the second lot, 8 in flight: the same and the
   wall-clock p50/p99. Plain Starlette (``GET /bench/plain``) the same way in the same run, and the home screen
   ``AnnouncementList`` by hash from the response cache as a reference row;
5. PostgreSQL only: statements per operation. A second server process (the same command) connects as a login role
   of its own (``journey_bench_<random>``, superuser, ``ALTER ROLE ... SET log_statement = 'all'``), runs the journey
   on a third lot for ``--count-bidders`` bidders one at a time, and the lines the server's log
   (``--pg-log``, default /var/log/postgresql/postgresql-15-main.log) gains for that role and database are counted
   (``statement:`` and ``execute`` lines; asyncpg's extended protocol logs each Execute, not Parse/Bind);
   transactions are counted from the same lines, per backend (``[pid]``): each ``BEGIN`` block is one, and so is
   each statement outside one (``pg_stat_database``'s xact counters lag by up to a second per backend and smeared
   one operation into the next). The logging server is separate so that the
   log writes are not in the CPU figures. The role is dropped at the end.

The server's kernel CPU (stime: socket reads and writes, among them one round trip's per statement) is printed
apart (``*_server_sys_cpu_per_op``), and so is the least a statement costs a client: ``asyncpg_round_trip_*``, a
prepared primary-key SELECT on one raw asyncpg connection from this process, 5,000 times in a row (its CPU, its
kernel share, PostgreSQL's).

PostgreSQL CPU: ``*_pg_cpu_per_op`` sums every ``postgres`` process on the machine (backends of other databases
and the WAL writer, checkpointer etc. included: other activity on the machine adds noise);
``*_pg_db_cpu_per_op`` only this database's backends (bench/README.md "How CPU is measured"). A backend that exits
inside a window is lost to both.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/journey REDIS_URL=redis://127.0.0.1:6379/9 \\
        .venv/bin/python bench/journey.py                 # 100 bidders
    env -u DATABASE_URL -u REDIS_URL .venv/bin/python bench/journey.py --scale tiny   # 5 bidders, SQLite: CI smoke

Output: one figure a line, ``name: value unit``. Exits 1 if any operation answers an error, a non-200 or an
unexpected ``__typename``; 2 if the set-up fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import re
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import http_baseline as hb  # noqa: E402
from bench.publication import create_database, drop_database, percentile  # noqa: E402

PASSWORD = "palmtrade2026"  # tests/factories.py PASSWORD
TEST_ARGON2 = {"PASSWORD_HASH_TIME_COST": "1", "PASSWORD_HASH_MEMORY_KIB": "64", "PASSWORD_HASH_PARALLELISM": "1"}
PG_LOG = "/var/log/postgresql/postgresql-15-main.log"


class Failed(Exception):
    pass


def log(message: str) -> None:
    print(f"# {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the journey


@dataclass
class Bidder:
    phone: str
    token: str = ""


@dataclass(frozen=True)
class Step:
    """One operation of the journey: its figure name, persisted operation, root field and expected __typename."""

    name: str
    operation: str
    root: str
    typename: str | None
    variables: Callable[[Bidder, int, dict[str, Any]], dict[str, Any]]
    authenticated: bool = True


def _commit(stage: str) -> Callable[[Bidder, int, dict[str, Any]], dict[str, Any]]:
    def variables(b: Bidder, i: int, lot: dict[str, Any]) -> dict[str, Any]:
        key = f"cc-{uuid.uuid4()}"
        return {"input": {"lotId": lot["id"], "stage": stage, "version": 1, "idempotencyKey": key}}

    return variables


def _device(b: Bidder, i: int, lot: dict[str, Any]) -> dict[str, Any]:
    # a fresh installation per lot (pass): each registers a new device, as a phone's first start does
    device = {
        "provider": "FCM",
        "token": f"fcm-{b.phone}-{uuid.uuid4().hex[:8]}",
        "platform": "ANDROID",
        "appVersion": "3.2.0",
        "installationId": f"install-{b.phone}-{lot['tradeCode']}",
    }
    return {"input": device}


JOURNEY = [
    Step(
        "sign_in",
        "SignIn",
        "authLogin",
        "SignedIn",
        lambda b, i, lot: {"input": {"phone": b.phone, "password": PASSWORD}},
        authenticated=False,
    ),
    Step(
        "commit_registration",
        "CreditCommitmentSign",
        "creditCommitmentSign",
        "CreditCommitmentSigned",
        _commit("REGISTRATION"),
    ),
    Step(
        "lot_register",
        "LotRegister",
        "lotRegister",
        "LotRegistered",
        lambda b, i, lot: {"input": {"lotId": lot["id"], "idempotencyKey": f"reg-{uuid.uuid4()}"}},
    ),
    Step("device_register", "DeviceRegister", "deviceRegister", "DeviceRegistered", _device),
    Step("commit_bid", "CreditCommitmentSign", "creditCommitmentSign", "CreditCommitmentSigned", _commit("BID")),
    Step(
        "bid_submit",
        "BidSubmit",
        "bidSubmit",
        "BidSubmitted",
        lambda b, i, lot: {
            "input": {"lotId": lot["id"], "sealedBid": lot["sealed"][i], "idempotencyKey": f"bid-{uuid.uuid4()}"}
        },
    ),
]
# the reference row: the home screen by hash, anonymous, answered from the response cache
SCREEN = Step(
    "announcement_list_cached", "AnnouncementList", "announcements", None, lambda b, i, lot: {"first": 20}, False
)


def operations() -> dict[str, str]:
    from mobile_contract import gate

    return {op.name: op.sha256 for op in gate.load_operations()}


class Client:
    """The app's way of sending a persisted operation (tests/support/load.py Phone.call), on one aiohttp session."""

    def __init__(self, base: str, hashes: dict[str, str]) -> None:
        import aiohttp

        self.base, self.hashes = base, hashes
        self.http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=16))
        self.errors: list[str] = []

    async def close(self) -> None:
        await self.http.close()

    async def call(self, step: Step, bidder: Bidder, i: int, lot: dict[str, Any]) -> float:
        """Sends the step for the bidder; its wall time. A wrong answer is recorded in `errors`."""
        body = json.dumps(
            {
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": self.hashes[step.operation]}},
                "operationName": step.operation,
                "variables": step.variables(bidder, i, lot),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {"content-type": "application/json"}
        if step.authenticated:
            headers["authorization"] = f"Bearer {bidder.token}"
        began = time.perf_counter()
        async with self.http.post(f"{self.base}/graphql", data=body, headers=headers) as response:
            status, raw = response.status, await response.read()
        took = time.perf_counter() - began
        problem = None
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        if status != 200 or not isinstance(answer, dict) or answer.get("errors") or not answer.get("data"):
            problem = f"HTTP {status}: {raw[:300]!r}"
        else:
            data = answer["data"].get(step.root)
            if not data:
                problem = f"no {step.root}: {raw[:300]!r}"
            elif step.typename and data.get("__typename") != step.typename:
                problem = f"__typename {data.get('__typename')}: {json.dumps(data, ensure_ascii=False)[:300]}"
            elif step.name == "sign_in":
                bidder.token = data["session"]["accessToken"]
        if problem:
            self.errors.append(f"{step.name} ({bidder.phone}): {problem}")
        return took

    async def plain(self) -> float:
        began = time.perf_counter()
        async with self.http.get(f"{self.base}/bench/plain") as response:
            status, raw = response.status, await response.read()
        if status != 200 or json.loads(raw) != {"hello": "world"}:
            self.errors.append(f"plain: HTTP {status} {raw[:100]!r}")
        return time.perf_counter() - began


# --------------------------------------------------------------------------- CPU


def postgres_cpu(database: str | None) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds of every `postgres` process on the machine, and of those serving `database`, by pid."""
    every: dict[int, float] = {}
    ours: dict[int, float] = {}
    marker = f" {database} ".encode() if database else None
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            if text[text.index("(") + 1 : text.rindex(")")] != "postgres":
                continue
            pid = int(stat.parent.name)
            cpu = hb.cpu_seconds(pid)
            every[pid] = cpu
            if marker and marker in (stat.parent / "cmdline").read_bytes():  # "postgres: 15/main: user DB host..."
                ours[pid] = cpu
    return every, ours


def _delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(v - before.get(pid, 0.0) for pid, v in after.items() if not math.isnan(v))


def sys_seconds(pid: int) -> float:
    """stime of a process (Linux /proc): its CPU in the kernel (socket writes and reads among it); NaN elsewhere."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[12]) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


@dataclass
class Window:
    name: str
    count: int
    server_cpu: float
    server_sys: float
    pg_cpu: float
    pg_db_cpu: float
    wall: float
    latencies: list[float] = field(default_factory=list)  # seconds, sorted

    def per_op_us(self, seconds: float) -> float:
        return seconds / self.count * 1e6 if self.count else math.nan


PROFILE: Path | None = None  # --profile DIR: py-spy samples the server over each window of the c1 pass


@contextlib.contextmanager
def profiling(pid: int, name: str) -> Any:
    """py-spy's raw stacks of the server over the block, in PROFILE/<name>.txt (py-spy is not a dependency)."""
    if PROFILE is None:
        yield
        return
    import signal
    import subprocess

    PROFILE.mkdir(parents=True, exist_ok=True)
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "-p", str(pid), "-r", "200", "-f", "raw"]
    spy = subprocess.Popen(
        [*command, "--nonblocking", "-o", str(PROFILE / f"{name}.txt")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attached
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)  # py-spy writes what it has on SIGINT
        spy.wait(timeout=60)


async def window(
    name: str, pid: int, database: str | None, count: int, concurrency: int, call: Callable[[int], Awaitable[float]]
) -> Window:
    """`call(i)` for i in range(count), `concurrency` in flight; the CPU of the server and PostgreSQL around it."""
    with profiling(pid, name) if concurrency == 1 else contextlib.nullcontext():
        return await _window(name, pid, database, count, concurrency, call)


async def _window(
    name: str, pid: int, database: str | None, count: int, concurrency: int, call: Callable[[int], Awaitable[float]]
) -> Window:
    queue = list(range(count))
    latencies: list[float] = []

    async def worker() -> None:
        while queue:
            latencies.append(await call(queue.pop(0)))

    pg_before, db_before = postgres_cpu(database)
    server_before, sys_before = hb.cpu_seconds(pid), sys_seconds(pid)
    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - began
    server, sys_ = hb.cpu_seconds(pid) - server_before, sys_seconds(pid) - sys_before
    pg_after, db_after = postgres_cpu(database)
    pg, db = _delta(pg_before, pg_after), _delta(db_before, db_after)
    return Window(name, count, server, sys_, pg, db, wall, sorted(latencies))


# --------------------------------------------------------------------------- set-up


class Clock:
    """What `sealed_lot` asks of the tests' manual clock: now (the server runs on the real one)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class Api:
    """What the tests' factories ask of the `api` fixture: `gql` over HTTP against the bench's server."""

    def __init__(self, base: str) -> None:
        import httpx

        self.http = httpx.AsyncClient(base_url=base, timeout=60)

    async def gql(self, query: str, variables: dict[str, Any] | None = None, token: str | None = None) -> Any:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        reply = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=headers)
        body = reply.json()
        if reply.status_code != 200 or "errors" in body:
            raise Failed(f"set-up: HTTP {reply.status_code} {str(body)[:500]}")
        return body


async def prepare_database(url: str, operator_phone: str) -> None:
    """Migrated, with the operator organisation (api.seed.create_operator, as the bidding day makes it)."""
    from tortoise import Tortoise

    from api.manage import migrate
    from api.seed import create_operator
    from api.settings import Settings
    from domain.db import tortoise_config

    await migrate(Settings(database_url=url))
    await Tortoise.init(config=tortoise_config(url))
    try:
        await create_operator(phone=operator_phone, name="运营管理员", password=PASSWORD)
    finally:
        await Tortoise.close_connections()


async def set_up(base: str, operator_phone: str, lots: int, n: int) -> tuple[list[dict[str, Any]], list[Bidder]]:
    """`lots` sealed tender lots open for registration and bids, and n approved bidder organisations."""
    from tests import factories as f
    from tests.scenarios.test_sealed_bids import sealed_lot

    api = Api(base)
    try:
        operator = await f.login(api, operator_phone)
        made = []
        for _ in range(lots):
            project, _, _ = await sealed_lot(api, Clock(), operator)
            made.append(dict(project["lots"][0]))
        bidders = []
        for k in range(n):
            _, phone, _ = await f.approved_org(api, operator)
            bidders.append(Bidder(phone))
            if (k + 1) % 25 == 0:
                log(f"set-up: {k + 1} of {n} bidder organisations approved")
        return made, bidders
    finally:
        await api.http.aclose()


def seal_bids(lot: dict[str, Any], n: int) -> None:
    """Each bidder's sealed bid for the lot, as the bidding day's phones seal them (a 2 KiB file): made before the
    window, so that the client's sealing is not in the wall times."""
    from mobile_contract.sealed_bid import new_key, seal

    lot["sealed"] = [
        seal(new_key(), lot["tradeCode"], 1_000_000_000 + 1_000 * i, {"商务标.pdf": os.urandom(2048)}) for i in range(n)
    ]


# --------------------------------------------------------------------------- statement counting


@dataclass
class Counted:
    statements: int
    begins: int
    transactions: float
    per_call: list[int]
    sample: list[str]  # the statements of the second call (the first may be a cold one)


class StatementLog:
    """Lines the PostgreSQL server log gains for one role and database: `statement:` and `execute ...:` entries."""

    def __init__(self, path: str, role: str, database: str) -> None:
        self.path = Path(path)
        # log_line_prefix '%m [%p] %q%u@%d ': "2026-12-07 15:31:00.123 UTC [123] role@db LOG:  statement: BEGIN;"
        self.pattern = re.compile(
            rf"^\S+ \S+ \S+ \[(\d+)\] {re.escape(role)}@{re.escape(database)} LOG:  (statement|execute [^:]*): (.*)$"
        )
        self.offset = self.path.stat().st_size

    def mark(self) -> None:
        self.offset = self.path.stat().st_size

    def read(self) -> list[tuple[int, str]]:
        """The statements logged since the last mark (or read), with their backend's pid; moves the mark."""
        with self.path.open("rb") as stream:
            stream.seek(self.offset)
            chunk = stream.read()
        end = chunk.rfind(b"\n") + 1  # a line being written stays for the next read
        self.offset += end
        found = []
        for line in chunk[:end].decode("utf-8", "replace").splitlines():
            m = self.pattern.match(line)
            if m:
                found.append((int(m.group(1)), m.group(3)))
        return found


def transactions(lines: list[tuple[int, str]]) -> int:
    """Transactions in statements logged in order: a BEGIN ... COMMIT/ROLLBACK block of a backend is one, and so is
    each statement a backend sends outside one."""
    open_: set[int] = set()
    count = 0
    for pid, text in lines:
        word = text.lstrip().split(None, 1)[0].rstrip(";").upper() if text.strip() else ""
        if word in ("BEGIN", "START"):
            open_.add(pid)
            count += 1
        elif word in ("COMMIT", "ROLLBACK", "END"):
            open_.discard(pid)
        elif pid not in open_:
            count += 1
    return count


async def count_statements(
    client: Client,
    statements: StatementLog,
    step: Step,
    bidders: list[Bidder],
    lot: dict[str, Any],
) -> Counted:
    """The step for each bidder, one at a time; the log read after each call."""
    await asyncio.sleep(0.3)
    statements.read()  # whatever came before (the previous step's last lines)
    per_call: list[int] = []
    lines: list[tuple[int, str]] = []
    calls: list[list[tuple[int, str]]] = []
    for i, b in enumerate(bidders):
        await client.call(step, b, i, lot)
        await asyncio.sleep(0.05)  # a statement sent after the answer (none expected) lands in this call's lines
        got = statements.read()
        per_call.append(len(got))
        calls.append(got)
        lines += got
    await asyncio.sleep(0.3)
    lines += statements.read()
    begins = sum(1 for _, s in lines if s.lstrip().upper().startswith("BEGIN"))
    sample = [s for _, s in calls[min(1, len(calls) - 1)]]
    return Counted(len(lines), begins, transactions(lines) / len(bidders), per_call, sample)


async def idle_statements(statements: StatementLog, seconds: float) -> int:
    """What the server sends on its own (RUN_WORKERS=0) while nothing is asked of it."""
    await asyncio.sleep(0.3)
    statements.read()
    await asyncio.sleep(seconds)
    return len(statements.read())


# --------------------------------------------------------------------------- the run


async def round_trip_floor(url: str, database: str, n: int) -> tuple[float, float, float]:
    """What one statement costs at the least: a prepared primary-key SELECT on one asyncpg connection from this
    process, n times one after another: (this process's CPU, its kernel share, PostgreSQL's CPU) per statement."""
    import asyncpg

    parts = urlsplit(url)
    conn = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, parts.path, "", "")))
    try:
        stmt = await conn.prepare('SELECT "id", "name", "status", "kinds" FROM "organisation" WHERE "id" = $1')
        for _ in range(100):
            await stmt.fetchrow(1)
        pid = os.getpid()
        pg_before, _ = postgres_cpu(database)
        cpu_before, sys_before = hb.cpu_seconds(pid), sys_seconds(pid)
        for _ in range(n):
            await stmt.fetchrow(1)
        cpu, sys_ = hb.cpu_seconds(pid) - cpu_before, sys_seconds(pid) - sys_before
        pg_after, _ = postgres_cpu(database)
        return cpu / n, sys_ / n, _delta(pg_before, pg_after) / n
    finally:
        await conn.close()


def server_env(url: str, tmp: Path, label: str, args: argparse.Namespace) -> dict[str, str]:
    env = hb.server_env(url, args.secret, tmp, label)
    env.update(
        {
            "RUN_WORKERS": "0",  # the dispatcher, chronograph and push senders are not in the figures
            "REDIS_URL": os.environ.get("REDIS_URL", ""),
            "SEED_DEMO": "0",
            "PALMTRADE_PRODUCTION": "0",
            "MIGRATE_AT_START": "0",  # migrated by this process
        }
    )
    if args.argon2 == "test":
        env.update(TEST_ARGON2)
    return env


async def journey_pass(
    label: str,
    client: Client,
    pid: int,
    database: str | None,
    lot: dict[str, Any],
    bidders: list[Bidder],
    concurrency: int,
    plain_count: int,
) -> list[Window]:
    """Plain Starlette, then each step of the journey for every bidder, then the cached screen; `concurrency` in
    flight."""
    found = []
    for _ in range(50):  # warm-up of the connections
        await client.plain()
    found.append(await window("plain", pid, database, plain_count, concurrency, lambda i: client.plain()))
    for step in JOURNEY:
        log(f"{label}: {step.name} x {len(bidders)}, {concurrency} in flight")
        found.append(
            await window(
                step.name,
                pid,
                database,
                len(bidders),
                concurrency,
                lambda i, step=step: client.call(step, bidders[i], i, lot),  # type: ignore[misc]
            )
        )
    anonymous = Bidder("-")
    await client.call(SCREEN, anonymous, 0, lot)  # the first one fills the cache
    found.append(
        await window(
            SCREEN.name,
            pid,
            database,
            max(len(bidders), 100),
            concurrency,
            lambda i: client.call(SCREEN, anonymous, i, lot),
        )
    )
    return found


async def run(args: argparse.Namespace, tmp: Path) -> tuple[list[str], list[str]]:
    """The figures' lines, and the operations that answered wrongly."""
    from tests import factories as f

    db = await create_database(os.environ.get("DATABASE_URL"))
    role = f"journey_bench_{uuid.uuid4().hex[:8]}"
    lines: list[str] = []
    errors: list[str] = []
    try:
        database = db.name if db.postgres else None
        operator_phone = f.new_phone()
        log(f"database {db.name or db.url}: migrating")
        await prepare_database(db.url, operator_phone)
        hashes = operations()
        port = hb.free_port()
        base = f"http://{hb.HOST}:{port}"
        lots_needed = 3 if db.postgres and not args.no_count else 2
        with hb.serving(port, server_env(db.url, tmp, "journey", args), tmp, "journey") as proc:
            log(f"set-up: {lots_needed} sealed lots, {args.bidders} bidder organisations (through the server)")
            began = time.perf_counter()
            lots, bidders = await set_up(base, operator_phone, lots_needed, args.bidders)
            for lot in lots:
                seal_bids(lot, args.bidders)
            lines.append(f"setup_time: {time.perf_counter() - began:.1f} s")
            if db.postgres:
                floor = await round_trip_floor(db.url, db.name, 5000)
                lines.append(f"asyncpg_round_trip_cpu: {floor[0] * 1e6:.0f} us")
                lines.append(f"asyncpg_round_trip_sys_cpu: {floor[1] * 1e6:.0f} us")
                lines.append(f"asyncpg_round_trip_pg_cpu: {floor[2] * 1e6:.0f} us")
            client = Client(base, hashes)
            try:
                c1 = await journey_pass("c1", client, proc.pid, database, lots[0], bidders, 1, args.plain)
                c8 = await journey_pass("c8", client, proc.pid, database, lots[1], bidders, 8, args.plain)
            finally:
                errors += client.errors
                await client.close()
        counted: dict[str, Counted] = {}
        idle = None
        if db.postgres and not args.no_count:
            counted, idle = await count_pass(args, tmp, db, role, lots[2], bidders[: args.count_bidders], hashes)
    finally:
        await drop_database(db)
        if db.postgres:
            await drop_role(db.server, role)
    return lines + report(args, c1, c8, counted, idle, database), errors


async def drop_role(server: str, role: str) -> None:
    import asyncpg

    parts = urlsplit(server)
    admin = await asyncpg.connect(urlunsplit(("postgresql", parts.netloc, "/postgres", "", "")))
    try:
        await admin.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await admin.close()


async def count_pass(
    args: argparse.Namespace,
    tmp: Path,
    db: Any,
    role: str,
    lot: dict[str, Any],
    bidders: list[Bidder],
    hashes: dict[str, str],
) -> tuple[dict[str, Counted], int | None]:
    """A second server as a role whose every statement is logged; the journey once per bidder, one at a time."""
    import asyncpg

    parts = urlsplit(db.server)
    admin_url = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE ROLE "{role}" LOGIN SUPERUSER')
        await admin.execute(f"ALTER ROLE \"{role}\" SET log_statement = 'all'")
    finally:
        await admin.close()
    if not os.path.exists(args.pg_log):  # noqa: ASYNC240 (once, before the server starts)
        log(f"no PostgreSQL log at {args.pg_log}: statements not counted")
        return {}, None
    netloc = f"{role}@{parts.hostname}:{parts.port or 5432}"
    url = urlunsplit(("postgres", netloc, f"/{db.name}", parts.query, ""))
    statements = StatementLog(args.pg_log, role, db.name)
    port = hb.free_port()
    base = f"http://{hb.HOST}:{port}"
    counted: dict[str, Counted] = {}
    with hb.serving(port, server_env(url, tmp, "journey-count", args), tmp, "journey-count"):
        client = Client(base, hashes)
        try:
            idle = await idle_statements(statements, 3.0)
            log(f"statements: the journey for {len(bidders)} bidders on a server logging as {role}")
            for step in JOURNEY:
                counted[step.name] = await count_statements(client, statements, step, bidders, lot)
            anonymous = Bidder("-")
            await client.call(SCREEN, anonymous, 0, lot)
            counted[SCREEN.name] = await count_statements(client, statements, SCREEN, [anonymous] * len(bidders), lot)
        finally:
            errors = client.errors
            await client.close()
    if errors:
        raise Failed(f"statement pass: {errors[:3]}")
    if args.dump_statements:
        with open(args.dump_statements, "w", encoding="utf-8") as out:  # noqa: ASYNC230 (after the measurements)
            for name, c in counted.items():
                out.write(f"== {name}: {len(c.sample)} statements (second call), per call {c.per_call}\n")
                out.writelines(f"{line}\n" for line in c.sample)
    return counted, idle


def report(
    args: argparse.Namespace,
    c1: list[Window],
    c8: list[Window],
    counted: dict[str, Counted],
    idle: int | None,
    database: str | None,
) -> list[str]:
    out = [f"bidders: {args.bidders} count"]
    plain1, plain8 = c1[0], c8[0]
    p1 = plain1.per_op_us(plain1.server_cpu)
    p8 = plain8.per_op_us(plain8.server_cpu)
    out.append(f"plain_cpu_per_request: {p1:.0f} us")
    out.append(f"plain_sys_cpu_per_request: {plain1.per_op_us(plain1.server_sys):.0f} us")
    out.append(f"plain_c8_cpu_per_request: {p8:.0f} us")
    c8_by_name = {w.name: w for w in c8}
    for w in c1[1:]:
        n = w.name
        w8 = c8_by_name[n]
        server = w.per_op_us(w.server_cpu)
        out.append(f"{n}_server_cpu_per_op: {server:.0f} us")
        out.append(f"{n}_server_sys_cpu_per_op: {w.per_op_us(w.server_sys):.0f} us")
        if database:
            out.append(f"{n}_pg_cpu_per_op: {w.per_op_us(w.pg_cpu):.0f} us")
            out.append(f"{n}_pg_db_cpu_per_op: {w.per_op_us(w.pg_db_cpu):.0f} us")
        if n in counted:
            c = counted[n]
            out.append(f"{n}_statements_per_op: {c.statements / len(c.per_call):.1f} count")
            out.append(f"{n}_statements_median: {statistics.median(c.per_call):.0f} count")
            out.append(f"{n}_begins_per_op: {c.begins / len(c.per_call):.2f} count")
            out.append(f"{n}_transactions_per_op: {c.transactions:.2f} count")
        out.append(f"{n}_server_cpu_vs_plain: {server / p1:.1f} x")
        out.append(f"{n}_c1_p50: {percentile(w.latencies, 0.5) * 1000:.1f} ms")
        out.append(f"{n}_c8_server_cpu_per_op: {w8.per_op_us(w8.server_cpu):.0f} us")
        if database:
            out.append(f"{n}_c8_pg_cpu_per_op: {w8.per_op_us(w8.pg_cpu):.0f} us")
        out.append(f"{n}_c8_server_cpu_vs_plain: {w8.per_op_us(w8.server_cpu) / p8:.1f} x")
        out.append(f"{n}_p50: {percentile(w8.latencies, 0.5) * 1000:.1f} ms")
        out.append(f"{n}_p99: {percentile(w8.latencies, 0.99) * 1000:.1f} ms")
        out.append(f"{n}_c8_per_s: {w8.count / w8.wall:.1f} ops/s")
    journey = [w for w in c1[1:] if w.name != SCREEN.name]
    total = sum(w.per_op_us(w.server_cpu) for w in journey)
    out.append(f"journey_server_cpu: {total:.0f} us")
    if database:
        out.append(f"journey_pg_cpu: {sum(w.per_op_us(w.pg_cpu) for w in journey):.0f} us")
    if counted:
        per_op = [counted[w.name].statements / len(counted[w.name].per_call) for w in journey]
        out.append(f"journey_statements: {sum(per_op):.1f} count")
    if idle is not None:
        out.append(f"idle_statements_3s: {idle} count")
    out.append(f"journey_server_cpu_vs_plain: {total / p1:.0f} x")
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=["default", "tiny"], default="default", help="default 100 bidders, tiny 5")
    parser.add_argument("--bidders", type=int, default=None, help="bidder organisations (default 100; tiny 5)")
    parser.add_argument("--count-bidders", type=int, default=20, help="bidders of the statement-counting pass")
    parser.add_argument("--no-count", action="store_true", help="skip the statement-counting pass")
    parser.add_argument("--dump-statements", metavar="FILE", help="write each operation's logged statements here")
    parser.add_argument("--profile", metavar="DIR", help="py-spy the server over each c1 window into DIR/<op>.txt")
    parser.add_argument("--pg-log", default=PG_LOG, help="the PostgreSQL server's log file (log_statement lines)")
    parser.add_argument("--plain", type=int, default=None, help="plain Starlette requests per pass (default 2000)")
    parser.add_argument(
        "--argon2",
        choices=["test", "production"],
        default="test",
        help="password hash cost: the tests' (as the bidding day runs) or the deployed default",
    )
    args = parser.parse_args(argv)
    tiny = args.scale == "tiny"
    args.bidders = args.bidders if args.bidders is not None else (5 if tiny else 100)
    args.plain = args.plain if args.plain is not None else (100 if tiny else 2000)
    args.count_bidders = max(1, min(args.count_bidders, args.bidders))
    if args.bidders < 1:
        parser.error("--bidders must be >= 1")
    args.secret = secrets.token_urlsafe(48)
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.argon2 == "test":
        for name, value in TEST_ARGON2.items():
            os.environ.setdefault(name, value)
        from domain.accounts import passwords

        passwords.configure(*(int(os.environ[name]) for name in TEST_ARGON2))
    global PROFILE
    PROFILE = Path(args.profile) if args.profile else None
    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-journey-"))
    try:
        lines, errors = asyncio.run(run(args, tmp))
        for line in lines:
            print(line)
        print(
            f"# bidders={args.bidders} argon2={args.argon2} cores={os.cpu_count()} RUN_WORKERS=0 "
            f"redis={'yes' if os.environ.get('REDIS_URL') else 'no'}",
            file=sys.stderr,
        )
        for e in errors[:10]:
            print(f"error: {e}", file=sys.stderr)
        if errors:
            print(f"error: {len(errors)} operations answered an error or an unexpected __typename", file=sys.stderr)
            return 1
        return 0
    except Failed as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except Exception as err:  # set-up failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
