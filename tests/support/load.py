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
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
        await _wait_port(self.redis_port, self.redis)
        self.stub.start()
        await _wait_port(self.stub_port, self.stub)
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
        self.faults.append(Fault(started - self.began, what, time.monotonic() - started))

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
        await _wait_port(self.redis_port, self.redis)
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


async def _wait_port(port: int, process: Process, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not process.alive:
            raise AssertionError(f"{process.name} exited\n{process.tail()}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.05)
    raise AssertionError(f"{process.name} is not listening on {port}")


# --------------------------------------------------------------------------------------------- metrics


@dataclass
class Metrics:
    """Latency per operation and every outcome, for the figures and the no-500 invariant."""

    began: float = field(default_factory=time.monotonic)
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    outcomes: Counter[str] = field(default_factory=Counter)
    by_operation: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list[str] = field(default_factory=list)
    resent: int = 0

    def record(self, operation: str, seconds: float, outcome: str) -> None:
        self.latency[operation].append(seconds)
        self.outcomes[outcome] += 1
        self.by_operation[operation][outcome] += 1

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latency.values())

    def report(self, elapsed: float) -> list[str]:
        lines = [f"requests: {self.requests} count", f"request_rate: {self.requests / elapsed:.1f} req/s"]
        for name in sorted(self.latency):
            values = sorted(self.latency[name])
            lines.append(f"{name}_p50: {1000 * _pct(values, 0.50):.1f} ms")
            lines.append(f"{name}_p99: {1000 * _pct(values, 0.99):.1f} ms")
            lines.append(f"{name}_count: {len(values)} count")
        for outcome, n in sorted(self.outcomes.items()):
            if outcome != "ok":
                lines.append(f"outcome_{outcome}: {n} count")
        lines.append(f"resent_after_a_broken_connection: {self.resent} count")
        lines.append(f"server_errors: {len(self.server_errors)} count")
        return lines


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


# --------------------------------------------------------------------------------------------- clients


class Unanswered(Exception):
    """No server answered the request before the client gave up."""


class Phone:
    """One client: its token, the servers it knows, and the metrics it reports into."""

    def __init__(
        self, http: httpx.AsyncClient, urls: list[str], metrics: Metrics, token: str | None = None, seed: int = 0
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
        body = {
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": op.sha256}},
            "operationName": operation,
            "variables": variables or {},
        }
        headers = {"authorization": f"Bearer {self.token}"} if self.token else {}
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
                response = await self.http.post(url, json=body, headers=headers)
            except httpx.TransportError as err:
                self.metrics.record(name, time.monotonic() - started, f"transport_{type(err).__name__}")
                self.server = (self.server + 1) % len(self.urls)
                if time.monotonic() > deadline:
                    raise Unanswered(operation) from err
                continue
            took = time.monotonic() - started
            if response.status_code >= 500:
                self.metrics.record(name, took, f"http_{response.status_code}")
                self.metrics.server_errors.append(f"{operation}: HTTP {response.status_code} {response.text[:300]}")
                self.server = (self.server + 1) % len(self.urls)
                if time.monotonic() > deadline:
                    raise Unanswered(operation)
                continue
            answer = response.json()
            errors = answer.get("errors") or []
            codes = [str((e.get("extensions") or {}).get("code")) for e in errors]
            if "INTERNAL" in codes:
                self.metrics.server_errors.append(f"{operation}: {errors[:1]}")
            if response.status_code != 200 or errors:
                self.metrics.record(name, took, f"{response.status_code}_{'_'.join(codes) or 'error'}")
                if response.status_code == 429:
                    await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                    continue
                raise AssertionError(f"{operation} answered {response.status_code}: {answer}")
            data = answer["data"]
            typed = next((v.get("code") for v in data.values() if isinstance(v, dict) and "code" in v), None)
            self.metrics.record(name, took, f"typed_{typed}" if typed else "ok")
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
                                self.metrics.record("ws_AuctionUpdates_snapshot", time.monotonic() - started, "ok")
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
