"""HTTP baseline: requests per second of the full PalmTrade app against a plain Starlette endpoint.

One run:

1. a fresh SQLite database in a temporary directory, migrated and seeded with the demo city;
2. ONE uvicorn server process (this file run with ``--serve PORT``) serving ``create_app(settings)``
   plus a plain ``GET /bench/plain`` JSON route on the same server;
3. a sign-in as the demo operator (13800000001) for a bearer token;
4. closed-loop load from separate client processes (``--concurrency`` HTTP/1.1 keep-alive
   connections in total, one request in flight on each) against ``GET /bench/plain`` and an
   authenticated ``query Me`` on ``POST /graphql``: a warm-up, then a fixed measured window per target.

The load generator is, by default, a minimal HTTP/1.1 client on asyncio streams (``--client raw``):
httpx.AsyncClient (``--client httpx``) spends ~0.7 ms of CPU per request, so on a 2-core machine it
tops out near 1-2k req/s and would measure itself rather than the plain endpoint.

Output, one figure a line, ``name: value unit``. The server's and the clients' CPU use during each
window are printed as well: a server well under 100 % of one core means the load generator, not the
server, was the limit, and the req/s figure is then only a lower bound for the server. The server's
CPU per request (its CPU seconds in the window over the requests completed in it) is the figure to
compare between runs when the machine is noisy. ``*_server_gc_share`` is the garbage collector's CPU over the
server's in the window (a gc callback in the server, read over ``GET /bench/gc``), with its full collections and
longest pause (``GC_FREEZE`` and ``GC_GEN0_THRESHOLD`` set in the environment reach the server: api/gc_tuning.py).

    .venv/bin/python bench/http_baseline.py                # 5 s per target, 32 connections
    .venv/bin/python bench/http_baseline.py --scale tiny   # smoke test for CI
    .venv/bin/python bench/http_baseline.py --access-log   # logging as in production (ACCESS_LOG_SAMPLE applies)

Exits non-zero if any request fails (non-200, GraphQL ``errors``, transport error) or setup fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import multiprocessing
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
OPERATOR_PHONE = "13800000001"
LOGIN = """mutation Login($phone: String!, $password: String!) {
  authLogin(input: {phone: $phone, password: $password}) {
    __typename
    ... on SignedIn { session { accessToken } }
  }
}"""
ME_QUERY = "query Me { me { user { name } organisation { name status } roles } }"
SERVER_START_TIMEOUT = 60.0
SERVER_STOP_TIMEOUT = 10.0
MAX_ERROR_SAMPLES = 5
REQUEST_TIMEOUT = 10.0
MAX_CHUNKS = 10_000
MAX_BODY = 1 << 20


# --------------------------------------------------------------------------- server side


def serve(port: int) -> None:
    """Child process: the full app plus a plain Starlette route, one uvicorn worker."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from api.app import create_app
    from api.settings import Settings

    async def plain(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world"})

    async def drain(request: Request) -> Response:
        """Plain Starlette taking an upload: the body appended to a file, nothing checked (bench/documents.py)."""
        target = Path(os.environ.get("BENCH_DRAIN_DIR") or tempfile.gettempdir()) / "drain.bin"
        with target.open("ab") as out:
            async for chunk in request.stream():
                out.write(chunk)
        return Response(status_code=204)

    collected = _watch_gc()

    async def gc_figures(request: Request) -> JSONResponse:
        """The collector's time and pauses so far; the longest pause starts again from 0."""
        figures = dict(collected)
        collected["longest"] = 0.0
        return JSONResponse(figures)

    settings = Settings.from_env()
    app = create_app(settings)
    # first, so the plain route is matched before anything else; it still passes the app's middleware
    app.router.routes.insert(0, Route("/bench/plain", plain, methods=["GET"]))
    app.router.routes.insert(0, Route("/bench/drain", drain, methods=["PATCH"]))
    app.router.routes.insert(0, Route("/bench/gc", gc_figures, methods=["GET"]))
    if os.environ.get("BENCH_ACCESS_LOG") == "1":
        # as `python -m api.manage serve` logs in production: JSON lines, info, the access log on (ACCESS_LOG_SAMPLE)
        from api import logs

        logs.configure("info", "json")
        uvicorn.run(
            app,
            host=HOST,
            port=port,
            log_level="info",
            log_config=None,
            access_log=True,
            lifespan="on",
            http=bench_protocol(settings.http_one_write),
        )
        return
    uvicorn.run(
        app,
        host=HOST,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=bench_protocol(settings.http_one_write),
    )


def bench_protocol(one_write: bool) -> Any:
    """The app's HTTP protocol as `serve` picks it (HTTP_ONE_WRITE, api/http_protocol.py), except that the plain
    Starlette routes (/bench/...) are always answered as stock uvicorn answers them: the baseline stays plain
    Starlette on stock uvicorn, two writes per response."""
    from api.http_protocol import protocol

    chosen = protocol(one_write)
    if isinstance(chosen, str):
        return chosen
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BenchProtocol(chosen):  # type: ignore[valid-type,misc]
        def on_headers_complete(self) -> None:
            if self.url.startswith(b"/bench/"):
                HttpToolsProtocol.on_headers_complete(self)  # stock: no HeadHeld
            else:
                super().on_headers_complete()

    return BenchProtocol


def _watch_gc() -> dict[str, float]:
    """CPU seconds spent in the garbage collector, full collections and the longest pause (wall clock: on a busy
    machine it includes time the process waited for a core), kept up to date by a gc callback from now on (the
    bench reads them over HTTP before and after each window)."""
    import gc

    figures = {"seconds": 0.0, "full": 0.0, "longest": 0.0}
    started = [0.0, 0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[:] = time.thread_time(), time.perf_counter()
            return
        figures["seconds"] += time.thread_time() - started[0]
        figures["longest"] = max(figures["longest"], time.perf_counter() - started[1])
        if info.get("generation") == 2:
            figures["full"] += 1

    gc.callbacks.append(callback)
    return figures


def gc_figures(port: int) -> dict[str, float]:
    """The server's collector figures (``GET /bench/gc``); empty if the server does not answer them."""
    import httpx

    try:
        return dict(httpx.get(f"http://{HOST}:{port}/bench/gc", timeout=5.0).json())
    except (httpx.HTTPError, ValueError):
        return {}


# --------------------------------------------------------------------------- setup


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


async def prepare_database(database_url: str, secret_key: bytes) -> None:
    from tortoise import Tortoise

    from api.manage import migrate
    from api.seed import seed_demo_city
    from api.settings import Settings
    from domain.db import tortoise_config
    from domain.wiring import wire

    await migrate(Settings(database_url=database_url, secret_key=secret_key))
    await Tortoise.init(config=tortoise_config(database_url))
    wire()  # the domain's composition root: seeding publishes, which asks the wired holds and pauses
    try:
        if not await seed_demo_city(secret_key):
            raise RuntimeError("the fresh database was not empty; demo city not seeded")
    finally:
        await Tortoise.close_connections()


def wait_for_server(proc: subprocess.Popen[bytes], base: str, log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server not ready after {SERVER_START_TIMEOUT:.0f}s:\n{tail(log_path)}")


def sign_in(base: str, password: str) -> str:
    import httpx

    reply = httpx.post(
        f"{base}/graphql",
        json={"query": LOGIN, "variables": {"phone": OPERATOR_PHONE, "password": password}},
        timeout=10.0,
    )
    body = reply.json()
    if reply.status_code != 200 or "errors" in body:
        raise RuntimeError(f"sign-in failed: HTTP {reply.status_code} {body}")
    result = body["data"]["authLogin"]
    if result["__typename"] != "SignedIn":
        raise RuntimeError(f"sign-in refused: {result}")
    return str(result["session"]["accessToken"])


def check_me(base: str, token: str) -> dict[str, Any]:
    import httpx

    reply = httpx.post(
        f"{base}/graphql", json={"query": ME_QUERY}, headers={"authorization": f"Bearer {token}"}, timeout=10.0
    )
    body = reply.json()
    if reply.status_code != 200 or "errors" in body or not body.get("data", {}).get("me"):
        raise RuntimeError(f"query Me failed: HTTP {reply.status_code} {body}")
    return dict(body["data"]["me"])


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no server log)"


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=SERVER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=SERVER_STOP_TIMEOUT)


def server_env(database_url: str, secret: str, tmp: Path, label: str) -> dict[str, str]:
    """The environment of a bench server process: its database and secret, workers on, no Redis, no demo seed."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": secret,
        "AUDIT_EXPORT_PATH": str(tmp / f"{label}-audit-heads.jsonl"),
        "RUN_WORKERS": "1",
        "SEED_DEMO": "0",
        "LOG_LEVEL": "warning",
        "PALMTRADE_PRODUCTION": "0",
        "REDIS_URL": "",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
    }


@contextlib.contextmanager
def serving(port: int, env: dict[str, str], tmp: Path, label: str) -> Iterator[subprocess.Popen[bytes]]:
    """This module's `--serve` on port, its output in tmp/<label>-server.log, up before the body runs; a server that
    died during the body is an error; stopped afterwards."""
    log_path = tmp / f"{label}-server.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(port)],
            cwd=tmp,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        try:
            wait_for_server(proc, f"http://{HOST}:{port}", log_path)
            wait_quiet(proc.pid, label)
            yield proc
            if proc.poll() is not None:
                raise RuntimeError(f"server died during the run:\n{tail(log_path)}")
        finally:
            stop_server(proc)


def wait_quiet(pid: int, label: str, within: float = 60.0) -> None:
    """Until the process has used under a tenth of a core in two 0.25 s windows running (at most `within` s): a server
    running the workers makes its start-up documents (the statistics reports' PDFs, ~0.4 s each on a quiet machine,
    seconds on a loaded one) right after it answers /healthz, and a short window measured then measured that."""
    started = time.monotonic()
    quiet = 0
    while quiet < 2 and time.monotonic() - started < within:
        before = cpu_seconds(pid)
        time.sleep(0.25)
        quiet = quiet + 1 if cpu_seconds(pid) - before < 0.025 else 0
    print(f"# {label}: server quiet {time.monotonic() - started:.1f} s after it answered", file=sys.stderr)


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc); NaN elsewhere."""
    try:
        fields_ = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


# --------------------------------------------------------------------------- load generator


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    graphql: bool = False
    expect: str = "me"  # the root field a GraphQL answer must carry (non-empty)

    def check(self, status: int, body: bytes) -> str | None:
        """None if the reply is a success; otherwise why not."""
        text = body[:300].decode("utf-8", "replace")
        if status != 200:
            return f"HTTP {status}: {text}"
        try:
            payload = json.loads(body)
        except ValueError:
            return f"not JSON: {text}"
        if self.graphql:
            if not isinstance(payload, dict) or "errors" in payload or not (payload.get("data") or {}).get(self.expect):
                return f"GraphQL: {text}"
        elif payload != {"hello": "world"}:
            return f"unexpected body: {text}"
        return None


@dataclass
class Tally:
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        self.errors += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(message[:300])


@dataclass(frozen=True)
class Job:
    host: str
    port: int
    target: Target
    connections: int
    client: str  # "raw" or "httpx"
    start_at: float  # wall clock (time.time): every client process uses the same windows
    t0: float
    t1: float


def client_process(job: Job) -> dict[str, Any]:
    """One load generator process: ``job.connections`` closed-loop workers, one connection each."""
    try:
        import uvloop  # the client's own overhead limits what it can measure: keep it low
    except ImportError:
        return asyncio.run(_drive(job))
    return uvloop.run(_drive(job))


async def _drive(job: Job) -> dict[str, Any]:
    tally = Tally()
    cpu: list[float] = []

    async def cpu_sampler() -> None:
        await asyncio.sleep(max(0.0, job.t0 - time.time()))
        cpu.append(time.process_time())
        await asyncio.sleep(max(0.0, job.t1 - time.time()))
        cpu.append(time.process_time())

    worker = _raw_worker if job.client == "raw" else _httpx_worker
    await asyncio.gather(cpu_sampler(), *(worker(job, tally) for _ in range(job.connections)))
    return {
        "count": tally.count,
        "errors": tally.errors,
        "latencies": tally.latencies,
        "samples": tally.samples,
        "cpu_seconds": cpu[1] - cpu[0] if len(cpu) == 2 else math.nan,
    }


def _record(job: Job, tally: Tally, started: float, began: float, problem: str | None) -> None:
    if problem is not None:
        tally.fail(problem)
        return
    elapsed = time.perf_counter() - began
    if job.t0 <= started and time.time() <= job.t1:
        tally.count += 1
        tally.latencies.append(elapsed)


async def _httpx_worker(job: Job, tally: Tally) -> None:
    """httpx.AsyncClient with one keep-alive connection (a shared pool of 32 is ~2.5x slower)."""
    import httpx

    target = job.target
    headers = {"content-type": "application/json", **target.headers} if target.body else dict(target.headers)
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    async with httpx.AsyncClient(
        base_url=f"http://{job.host}:{job.port}",
        limits=limits,
        http1=True,
        http2=False,
        timeout=httpx.Timeout(REQUEST_TIMEOUT),
    ) as client:
        await asyncio.sleep(max(0.0, job.start_at - time.time()))
        while (started := time.time()) < job.t1:  # bounded by the window; each request by its timeout
            began = time.perf_counter()
            try:
                reply = await client.request(target.method, target.path, content=target.body, headers=headers)
                problem = target.check(reply.status_code, reply.content)
            except httpx.HTTPError as err:
                problem = f"{type(err).__name__}: {err}"
            _record(job, tally, started, began, problem)


def _raw_request(job: Job) -> bytes:
    target = job.target
    lines = [
        f"{target.method} {target.path} HTTP/1.1",
        f"Host: {job.host}:{job.port}",
        "User-Agent: palmtrade-bench",
        "Accept: application/json",
    ]
    lines += [f"{k}: {v}" for k, v in target.headers.items()]
    if target.body is not None:
        lines += ["Content-Type: application/json", f"Content-Length: {len(target.body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (target.body or b"")


async def _read_reply(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """One HTTP/1.1 response: status, body, whether the server keeps the connection."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head[:-4].split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length, chunked, keep = None, False, True
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif name == b"connection" and b"close" in value.lower():
            keep = False
    if chunked:
        parts = []
        for _ in range(MAX_CHUNKS):
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")  # no trailers expected
                return status, b"".join(parts), keep
            parts.append(await reader.readexactly(size + 2))
            parts[-1] = parts[-1][:-2]
        raise ValueError("too many chunks")
    if length is None:
        return status, await reader.read(MAX_BODY), False
    return status, await reader.readexactly(length), keep


async def _raw_worker(job: Job, tally: Tally) -> None:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: one connection, one request at a time."""
    request = _raw_request(job)
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    await asyncio.sleep(max(0.0, job.start_at - time.time()))
    try:
        while (started := time.time()) < job.t1:  # bounded by the window; each request by its timeout
            began = time.perf_counter()
            keep = False
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    if writer is None:
                        reader, writer = await asyncio.open_connection(job.host, job.port)
                    writer.write(request)
                    status, body, keep = await _read_reply(reader)  # type: ignore[arg-type]
                problem = job.target.check(status, body)
            except (
                OSError,
                TimeoutError,
                asyncio.IncompleteReadError,
                asyncio.LimitOverrunError,
                ValueError,
                IndexError,
            ) as err:
                problem = f"{type(err).__name__}: {err}"
            _record(job, tally, started, began, problem)
            if not keep and writer is not None:
                writer.close()
                reader = writer = None
    finally:
        if writer is not None:
            writer.close()


@dataclass
class Result:
    name: str
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    server_cpu_pct: float
    client_cpu_pct: float
    samples: list[str]
    gc_seconds: float = math.nan  # the server's CPU in the garbage collector during the window
    gc_full: float = math.nan  # its full (generation 2) collections
    gc_longest_ms: float = math.nan  # its longest pause
    window_seconds: float = math.nan

    @property
    def server_cpu_per_request_us(self) -> float:
        """Server CPU (all its threads, background workers included) per completed request."""
        return self.server_cpu_pct / 100.0 / self.rps * 1e6 if self.rps > 0 else math.nan

    @property
    def gc_share_pct(self) -> float:
        """The garbage collector's share of the server's CPU in the window."""
        cpu = self.server_cpu_pct / 100.0 * self.window_seconds
        return 100.0 * self.gc_seconds / cpu if cpu > 0 else math.nan


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    rank = max(0, min(len(sorted_values) - 1, math.ceil(q * len(sorted_values)) - 1))
    return sorted_values[rank]


def measure(pool: Any, port: int, target: Target, args: argparse.Namespace, server_pid: int) -> Result:
    concurrency, clients = args.concurrency, args.clients
    per_client = [concurrency // clients + (1 if i < concurrency % clients else 0) for i in range(clients)]
    start_at = time.time() + 0.3  # time for the client processes to pick the job up
    t0 = start_at + args.warmup
    t1 = t0 + args.duration
    jobs = [Job(HOST, port, target, n, args.client, start_at, t0, t1) for n in per_client if n > 0]
    pending = pool.map_async(client_process, jobs)
    # the server's CPU seconds over the measured window
    time.sleep(max(0.0, t0 - time.time() - 0.05))
    gc0 = gc_figures(port)
    time.sleep(max(0.0, t0 - time.time()))
    cpu0, w0 = cpu_seconds(server_pid), time.monotonic()
    time.sleep(max(0.0, t1 - time.time()))
    cpu1, w1 = cpu_seconds(server_pid), time.monotonic()
    gc1 = gc_figures(port)
    parts = pending.get(timeout=args.warmup + args.duration + REQUEST_TIMEOUT + 30.0)
    latencies = sorted(x for part in parts for x in part["latencies"])
    return Result(
        name=target.name,
        rps=sum(part["count"] for part in parts) / args.duration,
        p50_ms=percentile(latencies, 0.50) * 1000.0,
        p99_ms=percentile(latencies, 0.99) * 1000.0,
        errors=sum(part["errors"] for part in parts),
        server_cpu_pct=100.0 * (cpu1 - cpu0) / (w1 - w0) if w1 > w0 else math.nan,
        client_cpu_pct=100.0 * sum(part["cpu_seconds"] for part in parts) / args.duration,
        samples=[s for part in parts for s in part["samples"]][:MAX_ERROR_SAMPLES],
        gc_seconds=gc1.get("seconds", math.nan) - gc0.get("seconds", math.nan),
        gc_full=gc1.get("full", math.nan) - gc0.get("full", math.nan),
        gc_longest_ms=gc1.get("longest", math.nan) * 1000.0,
        window_seconds=w1 - w0,
    )


# --------------------------------------------------------------------------- main


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=float, default=None, help="measured seconds per target (default 5)")
    parser.add_argument("--warmup", type=float, default=None, help="warm-up seconds per target (default 1)")
    parser.add_argument("--concurrency", type=int, default=None, help="connections in total (default 32)")
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="load generator: raw = minimal asyncio HTTP/1.1 keep-alive client (default; "
        "can saturate the server), httpx = httpx.AsyncClient (~1k req/s per core, "
        "so it measures itself on fast endpoints)",
    )
    parser.add_argument(
        "--clients",
        type=int,
        default=None,
        help="load generator processes sharing the connections (default 1 raw, 2 httpx)",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="serve with production's logging: JSON lines at info with the access log (ACCESS_LOG_SAMPLE applies)",
    )
    parser.add_argument(
        "--scale",
        choices=["default", "tiny"],
        default="default",
        help="tiny: a smoke test (0.5 s after 0.2 s warm-up, 4 connections)",
    )
    args = parser.parse_args(argv)
    tiny = args.scale == "tiny"
    args.duration = args.duration if args.duration is not None else (0.5 if tiny else 5.0)
    args.warmup = args.warmup if args.warmup is not None else (0.2 if tiny else 1.0)
    args.concurrency = args.concurrency if args.concurrency is not None else (4 if tiny else 32)
    args.clients = args.clients if args.clients is not None else (1 if tiny or args.client == "raw" else 2)
    if args.duration <= 0 or args.warmup < 0 or args.concurrency < 1 or args.clients < 1:
        parser.error("--duration must be > 0, --warmup >= 0, --concurrency and --clients >= 1")
    args.clients = min(args.clients, args.concurrency)
    return args


def run(args: argparse.Namespace) -> int:
    from api.seed import DEMO_PASSWORD

    tmp = Path(tempfile.mkdtemp(prefix="palmtrade-bench-"))
    try:
        database_url = f"sqlite://{tmp}/bench.sqlite3"
        secret = secrets.token_urlsafe(48)
        asyncio.run(prepare_database(database_url, secret.encode()))

        port = free_port()
        base = f"http://{HOST}:{port}"
        env = {**server_env(database_url, secret, tmp, "bench"), "BENCH_ACCESS_LOG": "1" if args.access_log else "0"}
        log_path = tmp / "bench-server.log"  # serving() writes the server's output there
        with serving(port, env, tmp, "bench") as proc:
            token = sign_in(base, DEMO_PASSWORD)
            check_me(base, token)

            targets = [
                Target("plain_starlette_json", "GET", "/bench/plain"),
                Target(
                    "graphql_authenticated_me",
                    "POST",
                    "/graphql",
                    body=json.dumps({"query": ME_QUERY, "operationName": "Me"}).encode(),
                    headers={"authorization": f"Bearer {token}"},
                    graphql=True,
                ),
            ]
            results: list[Result] = []
            ctx = multiprocessing.get_context("spawn")
            with ctx.Pool(processes=args.clients) as pool:
                for target in targets:
                    results.append(measure(pool, port, target, args, proc.pid))

            for r in results:
                print(f"{r.name}: {r.rps:.1f} req/s")
                print(f"{r.name}_p50: {r.p50_ms:.2f} ms")
                print(f"{r.name}_p99: {r.p99_ms:.2f} ms")
                print(f"{r.name}_server_cpu: {r.server_cpu_pct:.0f} %")
                print(f"{r.name}_server_cpu_per_request: {r.server_cpu_per_request_us:.0f} us")
                print(f"{r.name}_client_cpu: {r.client_cpu_pct:.0f} %")
                print(f"{r.name}_server_gc_share: {r.gc_share_pct:.1f} %")
                print(f"{r.name}_server_gc_full_collections: {r.gc_full:.0f} count")
                print(f"{r.name}_server_gc_longest_pause: {r.gc_longest_ms:.1f} ms")
            plain, graphql = results
            ratio = graphql.rps / plain.rps if plain.rps > 0 else math.nan
            print(f"graphql_vs_plain_ratio: {ratio:.3f} x")
            errors = sum(r.errors for r in results)
            print(f"errors: {errors} count")
            print(
                f"# client={args.client} concurrency={args.concurrency} clients={args.clients} warmup={args.warmup}s "
                f"duration={args.duration}s cores={os.cpu_count()}",
                file=sys.stderr,
            )
            for r in results:
                for sample in r.samples:
                    print(f"# {r.name} error: {sample}", file=sys.stderr)
            server_noise = [line for line in tail(log_path, 20).splitlines() if line.strip() and "access" not in line]
            if server_noise:
                print("# server log (last lines):", file=sys.stderr)
                for line in server_noise:
                    print(f"#   {line}", file=sys.stderr)
            if any(r.rps <= 0 for r in results):
                print("error: a target completed no request in the measured window", file=sys.stderr)
                return 1
            return 1 if errors else 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve is not None:
        serve(args.serve)
        return 0
    try:
        return run(args)
    except Exception as err:  # setup failures: say so and exit non-zero
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
