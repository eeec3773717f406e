"""A bidding day in miniature: a cluster of real processes and the phones, kiosks and browsers that load it.

`Cluster` starts N server processes (`python -m api.manage serve`, RUN_WORKERS=0), M worker processes
(`python -m api.manage worker`: dispatcher, chronograph, push senders), a Redis server of its own on a
free port (so that it can be restarted without disturbing anything else) and the FCM v1 stub, all on
one PostgreSQL database; and injects faults: kill -9 a server or a worker and start it again, restart
Redis, block the FCM stub.

The clients are coroutines speaking HTTP and graphql-transport-ws as the app and the kiosks do, by the
persisted hashes of mobile_contract/ where the app has an operation. A client bound to a server that
stops answering moves to the next one and sends the same request again, with the same idempotency key
where the operation takes one (`Phone.call`). Every request is timed and classified into `Metrics`:
ok, a typed GraphQL error (its code), HTTP status, transport failure; `server_errors` are the 5xx and
INTERNAL answers, which a bidding day must never produce.

The phones speak HTTP with aiohttp, one `ClientSession` per 25 of them (`Pools`): per request it costs the
generator a fraction of httpx's CPU (bench/loadgen_ab.py: 3.6x less for one phone, 13x less for 50 phones
over two pools), and the generator shares the machine with the servers it measures. `Metrics` says what the
generator itself cost and how late its event loop ran (`loadgen_*`), since that lateness is in every latency
it records, and gives each operation's p99 in the steady state apart (`<op>_p99_steady`: past the start-up
burst and outside every fault's window).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import websockets

from mobile_contract import gate

ROOT = Path(__file__).resolve().parents[2]
SECRET = "bidding-day-secret-0123456789abcdef0123456789"
FCM_PROJECT = "palmtrade-load"
FCM_TOKEN = "load-access-token"
OPERATIONS = {op.name: op for op in gate.load_operations()}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------------------------- cluster


@dataclass
class Process:
    """One child process that can be killed and started again with the same command."""

    name: str
    argv: list[str]
    env: dict[str, str]
    logs: Path
    port: int | None = None
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        self.starts += 1
        with (self.logs / f"{self.name}-{self.starts}.log").open("wb") as log:
            self.proc = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.terminate()
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return "\n".join(
            f"--- {p.name}\n" + p.read_text(errors="replace")[-chars:]
            for p in sorted(self.logs.glob(f"{self.name}-*.log"))
        )


@dataclass
class Fault:
    at: float  # seconds since the load began
    what: str
    took: float = 0.0
    started: float = math.nan  # time.monotonic() when it began (`Metrics` cuts its window out of the steady state)


class Cluster:
    """Servers, workers, Redis and the FCM stub around one database; faults on demand."""

    def __init__(
        self, database_url: str, tmp: Path, servers: int = 2, workers: int = 1, settings: dict[str, str] | None = None
    ) -> None:
        """`settings`: environment variables of every server and worker over the cluster's own (a soak's retention)."""
        self.tmp = tmp
        self.redis_port = free_port()
        self.stub_port = free_port()
        redis_argv = ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", ""]
        self.redis = Process("redis", [*redis_argv, "--appendonly", "no"], dict(os.environ), tmp)
        stub = ["--port", str(self.stub_port), "--project", FCM_PROJECT, "--access-token", FCM_TOKEN]
        self.stub = Process(
            "fcm-stub",
            [sys.executable, "-m", "tests.support.fcm_stub", *stub],
            {**os.environ, "PYTHONPATH": str(ROOT)},
            tmp,
            port=self.stub_port,
        )
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "SECRET_KEY": SECRET,
            "SEED_DEMO": "0",
            "LOG_LEVEL": "warning",
            "AUDIT_EXPORT_PATH": str(tmp / "audit-heads.jsonl"),
            # the set-up runs on a manual clock weeks back: the cluster's outbox purge (real clock) would take its
            # dispatched events away from the outbox the test compares with the audit chain
            "OUTBOX_RETENTION_HOURS": str(24 * 365),
            "FCM_PROJECT_ID": FCM_PROJECT,
            "FCM_ACCESS_TOKEN": FCM_TOKEN,
            "FCM_ENDPOINT": f"http://127.0.0.1:{self.stub_port}",
            "PYTHONPATH": str(ROOT),
            **(settings or {}),
        }
        self.servers = [
            Process(
                f"server{i}",
                [sys.executable, "-m", "api.manage", "serve"],
                {**env, "PORT": str(port), "RUN_WORKERS": "0"},
                tmp,
                port=port,
            )
            for i, port in enumerate(free_port() for _ in range(servers))
        ]
        self.workers = [
            Process(f"worker{i}", [sys.executable, "-m", "api.manage", "worker"], env, tmp) for i in range(workers)
        ]
        self.faults: list[Fault] = []
        self.began = time.monotonic()

    @property
    def urls(self) -> list[str]:
        return [f"http://127.0.0.1:{s.port}" for s in self.servers]

    async def start(self, workers: bool = True) -> None:
        """Redis, the FCM stub and the servers, each waited for; then the workers, unless `workers` is false (a test
        that sets its data up while the servers come up starts them with `start_workers` once it is done)."""
        self.redis.start()
        await wait_port(self.redis_port, self.redis)
        self.stub.start()
        await wait_port(self.stub_port, self.stub)
        for process in self.servers:
            process.start()
        for process in self.servers:
            await self.ready(process)
        if workers:
            self.start_workers()

    def start_workers(self) -> None:
        for process in self.workers:
            process.start()

    async def ready(self, process: Process, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as http:
            while time.monotonic() < deadline:
                if not process.alive:
                    raise AssertionError(f"{process.name} exited\n{process.tail()}")
                try:
                    if (await http.get(f"http://127.0.0.1:{process.port}/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{process.name} did not come up\n{process.tail()}")

    def stop(self) -> None:
        for process in [*self.servers, *self.workers, self.stub, self.redis]:
            process.stop()

    def tail(self) -> str:
        return "\n".join(p.tail() for p in [*self.servers, *self.workers])

    # ------------------------------------------------------------------------------------------ faults

    def _fault(self, what: str, started: float) -> None:
        self.faults.append(Fault(started - self.began, what, time.monotonic() - started, started))

    async def kill_server(self, index: int = 0, down_for: float = 2.0) -> None:
        started = time.monotonic()
        process = self.servers[index]
        process.kill9()
        await asyncio.sleep(down_for)
        process.start()
        await self.ready(process)
        self._fault(f"kill -9 {process.name}, started again after {down_for:.0f} s", started)

    async def kill_worker(self, index: int = 0, down_for: float = 2.0) -> None:
        started = time.monotonic()
        process = self.workers[index]
        process.kill9()
        await asyncio.sleep(down_for)
        process.start()
        self._fault(
            f"kill -9 {process.name} (dispatcher, chronograph, push), started again after {down_for:.0f} s", started
        )

    async def restart_redis(self) -> None:
        started = time.monotonic()
        self.redis.stop()
        await asyncio.sleep(0.5)
        self.redis.start()
        await wait_port(self.redis_port, self.redis)
        self._fault("Redis restarted (its data gone: rate-limit windows, pub/sub subscriptions)", started)

    async def block_fcm(self, seconds: float) -> None:
        started = time.monotonic()
        async with httpx.AsyncClient(timeout=5) as http:
            control = f"http://127.0.0.1:{self.stub_port}/_stub/control"
            await http.post(control, json={"down": True})
            await asyncio.sleep(seconds)
            await http.post(control, json={"down": False})
        self._fault(f"FCM stub answered 503 to everything for {seconds:.0f} s", started)

    async def fcm_stats(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as http:
            return dict((await http.get(f"http://127.0.0.1:{self.stub_port}/_stub/stats")).json())


async def wait_port(port: int, process: Process | None = None, within: float = 20) -> None:
    """Until something listens on the loopback port (AssertionError after `within` s, or once `process` exited)."""
    deadline = time.monotonic() + within
    name = process.name if process is not None else f"port {port}"
    while time.monotonic() < deadline:
        if process is not None and not process.alive:
            raise AssertionError(f"{process.name} exited\n{process.tail()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{name} is not listening on {port}")


# --------------------------------------------------------------------------------------------- metrics


@dataclass
class Metrics:
    """Latency per operation and every outcome, for the figures and the no-500 invariant; what the generator cost.

    Each sample keeps when its request began (`started`, time.monotonic()), so that the report can give, beside the
    p50/p99 of the whole run, the p99 of the steady state (`<op>_p99_steady`): the samples begun `steady_after`
    seconds or more after `began` (past the start-up burst of sign-ins) whose request overlapped no fault's window,
    from the fault's start to `fault_settle` seconds after it ended.

    `begin()` (at the start of the load, on its loop) starts a task that sleeps 50 ms at a time and records by how
    much each sleep overran: the generator's event-loop lag, which is in every latency it records; and notes the
    process's CPU time, so that `end()` can report what the generator spent (`loadgen_cpu`, `loadgen_cpu_cores`).
    """

    began: float = field(default_factory=time.monotonic)
    steady_after: float = 30.0
    fault_settle: float = 15.0
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    started: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: Counter[str] = field(default_factory=Counter)
    by_operation: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list[str] = field(default_factory=list)
    resent: int = 0
    lag: list[float] = field(default_factory=list)  # seconds each 50 ms sleep of the generator's loop overran
    cpu: tuple[float, float] = (math.nan, math.nan)  # process CPU seconds at begin() and end()
    window: tuple[float, float] = (math.nan, math.nan)  # time.monotonic() at begin() and end()
    _lag_task: asyncio.Task[None] | None = field(default=None, repr=False)

    LAG_TICK = 0.05

    def record(self, operation: str, seconds: float, outcome: str, started: float | None = None) -> None:
        """`started`: when the request began (time.monotonic()); by default `seconds` before now."""
        self.latency[operation].append(seconds)
        self.started[operation].append(time.monotonic() - seconds if started is None else started)
        self.outcomes[outcome] += 1
        self.by_operation[operation][outcome] += 1

    # ------------------------------------------------------------------------------------ the generator

    def begin(self, at: float | None = None) -> None:
        """The load begins (`at`, time.monotonic(), default now): the lag monitor starts on the running loop."""
        self.began = time.monotonic() if at is None else at
        self.cpu = (time.process_time(), math.nan)
        self.window = (time.monotonic(), math.nan)
        if self._lag_task is None:
            self._lag_task = asyncio.get_running_loop().create_task(self._watch_loop(), name="loadgen-lag")

    def end(self) -> None:
        """The load is over: the lag monitor stops, the generator's CPU is read."""
        if self._lag_task is not None:
            self._lag_task.cancel()
            self._lag_task = None
        if math.isnan(self.cpu[1]):
            self.cpu = (self.cpu[0], time.process_time())
            self.window = (self.window[0], time.monotonic())

    async def _watch_loop(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(self.LAG_TICK)
            self.lag.append(max(0.0, time.monotonic() - before - self.LAG_TICK))

    def generator_report(self) -> list[str]:
        """`loadgen_*`: the generator's event-loop lag and CPU between begin() and end() (end() if not yet)."""
        if math.isnan(self.cpu[0]):
            return []
        self.end()
        cpu, elapsed = self.cpu[1] - self.cpu[0], self.window[1] - self.window[0]
        lag = sorted(self.lag)
        return [
            f"loadgen_loop_lag_p50: {1000 * _pct(lag, 0.50):.1f} ms",
            f"loadgen_loop_lag_p99: {1000 * _pct(lag, 0.99):.1f} ms",
            f"loadgen_loop_lag_max: {1000 * (lag[-1] if lag else math.nan):.1f} ms",
            f"loadgen_loop_lag_samples: {len(lag)} count",
            f"loadgen_cpu: {cpu:.2f} s",
            f"loadgen_cpu_cores: {cpu / elapsed if elapsed > 0 else math.nan:.2f} cores",
        ]

    # ------------------------------------------------------------------------------------ the figures

    def steady(self, operation: str, faults: Iterable[Fault] = ()) -> list[float]:
        """The operation's latencies in the steady state: begun `steady_after` s or more after `began`, their
        request overlapping no fault's window (its start to `fault_settle` s after its end)."""
        windows = [(f.started, f.started + f.took + self.fault_settle) for f in faults if not math.isnan(f.started)]
        cut = self.began + self.steady_after
        return [
            seconds
            for seconds, started in zip(self.latency[operation], self.started[operation], strict=True)
            if started >= cut
            and not any(started <= w_end and started + seconds >= w_start for w_start, w_end in windows)
        ]

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latency.values())

    def report(self, elapsed: float, faults: Iterable[Fault] = ()) -> list[str]:
        """The figures; `faults` (the cluster's) are cut out of the `_steady` ones."""
        faults = list(faults)
        lines = [f"requests: {self.requests} count", f"request_rate: {self.requests / elapsed:.1f} req/s"]
        for name in sorted(self.latency):
            values = sorted(self.latency[name])
            steady = sorted(self.steady(name, faults))
            lines.append(f"{name}_p50: {1000 * _pct(values, 0.50):.1f} ms")
            lines.append(f"{name}_p99: {1000 * _pct(values, 0.99):.1f} ms")
            lines.append(f"{name}_count: {len(values)} count")
            lines.append(f"{name}_p99_steady: {1000 * _pct(steady, 0.99):.1f} ms")
            lines.append(f"{name}_count_steady: {len(steady)} count")
        for outcome, n in sorted(self.outcomes.items()):
            if outcome != "ok":
                lines.append(f"outcome_{outcome}: {n} count")
        lines.append(f"resent_after_a_broken_connection: {self.resent} count")
        lines.append(f"server_errors: {len(self.server_errors)} count")
        lines.append(f"steady_after: {self.steady_after:.0f} s")
        lines.append(f"steady_fault_settle: {self.fault_settle:.0f} s")
        lines += self.generator_report()
        return lines


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


# --------------------------------------------------------------------------------------------- clients


class Unanswered(Exception):
    """No server answered the request before the client gave up."""


CLIENTS_PER_POOL = 25
# what a broken or unanswered request raises: the phone sends it again to the next server
TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError)


class Pools:
    """The phones' HTTP clients: one aiohttp session per `per_pool` phones (a connection each at most).

    `timeout` bounds each phase of a request as httpx's `Timeout(30)` did: waiting for a pooled connection or
    connecting, and each read. A pooled connection idle `keepalive` seconds is dropped, well before uvicorn's 5 s:
    at the same 5 s a phone now and then sent on a connection the server was closing (a broken connection)."""

    def __init__(
        self, clients: int, per_pool: int = CLIENTS_PER_POOL, timeout: float = 30.0, keepalive: float = 2.0
    ) -> None:
        self.count = max(1, -(-clients // per_pool))
        self.per_pool, self.timeout, self.keepalive = per_pool, timeout, keepalive
        self.sessions: list[aiohttp.ClientSession] = []

    async def __aenter__(self) -> Pools:
        timeout = aiohttp.ClientTimeout(
            total=None, connect=self.timeout, sock_connect=self.timeout, sock_read=self.timeout
        )
        self.sessions = [
            aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.per_pool, keepalive_timeout=self.keepalive),
                timeout=timeout,
                trust_env=False,
            )
            for _ in range(self.count)
        ]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for session in self.sessions:
            await session.close()

    def __getitem__(self, index: int) -> aiohttp.ClientSession:
        """The session of the phone numbered `index` (any int: taken modulo the sessions)."""
        return self.sessions[index % len(self.sessions)]

    def __len__(self) -> int:
        return len(self.sessions)


class Phone:
    """One client: its token, the servers it knows, and the metrics it reports into; `http`: its pool's session."""

    def __init__(
        self, http: aiohttp.ClientSession, urls: list[str], metrics: Metrics, token: str | None = None, seed: int = 0
    ) -> None:
        self.http, self.urls, self.metrics, self.token = http, urls, metrics, token
        self.random = random.Random(seed)
        self.server = self.random.randrange(len(urls))

    async def call(
        self,
        operation: str,
        variables: dict[str, Any] | None = None,
        give_up_after: float = 180,
        fresh: bool = False,
        label: str | None = None,
    ) -> dict[str, Any]:
        """`data` of the persisted operation's answer, sent again (to the next server after a broken
        connection) until one answers; a typed error is data too. Raises Unanswered. Timed under `label`
        (default: the operation's name)."""
        op = OPERATIONS[operation]
        name = label or operation
        body = json.dumps(
            {
                "extensions": {"persistedQuery": {"version": 1, "sha256Hash": op.sha256}},
                "operationName": operation,
                "variables": variables or {},
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        headers = {"content-type": "application/json"}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        if fresh:
            headers["cache-control"] = "no-cache"
        deadline = time.monotonic() + give_up_after
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                self.metrics.resent += 1
                await asyncio.sleep(min(1.0, 0.05 * 2**attempt) * (0.5 + self.random.random()))
            url = self.urls[self.server] + "/graphql"
            started = time.monotonic()
            try:
                async with self.http.post(url, data=body, headers=headers) as response:
                    status = response.status
                    raw = await response.read()
                    retry_after = response.headers.get("retry-after", "1")
            except TRANSPORT_ERRORS as err:
                self.metrics.record(name, time.monotonic() - started, f"transport_{type(err).__name__}", started)
                self.server = (self.server + 1) % len(self.urls)
                if time.monotonic() > deadline:
                    raise Unanswered(operation) from err
                continue
            took = time.monotonic() - started
            if status >= 500:
                self.metrics.record(name, took, f"http_{status}", started)
                text = raw[:600].decode(errors="replace")[:300]
                self.metrics.server_errors.append(f"{operation}: HTTP {status} {text}")
                self.server = (self.server + 1) % len(self.urls)
                if time.monotonic() > deadline:
                    raise Unanswered(operation)
                continue
            answer = json.loads(raw)
            errors = answer.get("errors") or []
            codes = [str((e.get("extensions") or {}).get("code")) for e in errors]
            if "INTERNAL" in codes:
                self.metrics.server_errors.append(f"{operation}: {errors[:1]}")
            if status != 200 or errors:
                self.metrics.record(name, took, f"{status}_{'_'.join(codes) or 'error'}", started)
                if status == 429:
                    await asyncio.sleep(float(retry_after))
                    continue
                raise AssertionError(f"{operation} answered {status}: {answer}")
            data = answer["data"]
            typed = next((v.get("code") for v in data.values() if isinstance(v, dict) and "code" in v), None)
            self.metrics.record(name, took, f"typed_{typed}" if typed else "ok", started)
            return dict(data)


async def think(phone: Phone, low: float, high: float, stop: asyncio.Event) -> None:
    delay = low + (high - low) * phone.random.random()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), delay)


class Watcher:
    """A kiosk's or a phone's auction screen: subscribed to the lot's updates on some server; when the
    socket breaks it resubscribes on the next server and catches up from the snapshot."""

    def __init__(self, urls: list[str], lot_id: str, metrics: Metrics, seed: int) -> None:
        self.urls, self.lot_id, self.metrics = urls, lot_id, metrics
        self.random = random.Random(seed)
        self.server = self.random.randrange(len(urls))
        self.updates = 0
        self.reconnects = 0
        self.last: dict[str, Any] | None = None
        self.connected = False

    async def run(self, stop: asyncio.Event) -> None:
        op = OPERATIONS["AuctionUpdates"]
        payload = {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": op.sha256}},
            "variables": {"lotId": self.lot_id},
        }
        while not stop.is_set():
            url = self.urls[self.server].replace("http://", "ws://") + "/graphql"
            started = time.monotonic()
            try:
                async with websockets.connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
                    await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
                    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
                    self.connected = True
                    first = True
                    while not stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 1.0)
                        except TimeoutError:
                            continue
                        message = json.loads(raw)
                        if message["type"] == "next":
                            if first:
                                took = time.monotonic() - started
                                self.metrics.record("ws_AuctionUpdates_snapshot", took, "ok", started)
                                first = False
                            self.updates += 1
                            self.last = message["payload"]["data"]["auctionUpdates"]
                        elif message["type"] == "error":
                            self.metrics.record("ws_AuctionUpdates", 0.0, "ws_error")
                            self.metrics.server_errors.append(f"subscription refused: {message}")
                            return
                        elif message["type"] == "complete":
                            break
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            self.connected = False
            if stop.is_set():
                return
            self.reconnects += 1
            self.metrics.record("ws_reconnect", 0.0, "ok")
            self.server = (self.server + 1) % len(self.urls)
            await asyncio.sleep(0.2 + self.random.random())
