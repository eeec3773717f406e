"""How a process tells a balancer or an orchestrator that it can work, and how it leaves without dropping work.

Servers answer `GET /readyz` (the database answers, the broker answers, signing keys are loaded, not
draining). On SIGTERM or SIGINT a server (`GracefulServer`) reports not ready at once, keeps serving for
SHUTDOWN_DRAIN_SECONDS while the balancer takes it out, stops listening, closes every WebSocket with
1012 and a reconnect hint (mobile_contract/README.md), finishes in-flight requests within
SHUTDOWN_GRACE_SECONDS and exits 0. Workers answer the same questions on WORKER_HEALTH_PORT and speak
systemd's notify protocol (READY, STOPPING, WATCHDOG) when started by a `Type=notify` unit.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from tortoise import connections

from api import metrics
from domain.accounts.tokens import KeyRing
from domain.common import clock
from notifications.broker import InProcessBroker

log = logging.getLogger("palmtrade.lifecycle")

SERVICE_RESTART = 1012  # RFC 6455 7.4.1 / IANA: the server is restarting, the client may reconnect
RECONNECT_AFTER_MS = (250, 5000)  # a client waits a random time in this range, so reconnects spread out
Check = Callable[[], Awaitable[object]]


def reconnect_reason(rng: random.Random | None = None) -> str:
    """The close reason of a restart: compact JSON the client reads (at most 123 bytes by RFC 6455)."""
    wait = (rng or random).randint(*RECONNECT_AFTER_MS)
    return json.dumps({"reconnect": True, "retryAfterMs": wait}, separators=(",", ":"))


class _Socket:
    __slots__ = ("closed", "gone", "send")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.closed = False  # a close frame went out (the app's or ours)
        self.gone = asyncio.Event()  # the connection ended


class Lifecycle:
    """Whether this process is draining, the WebSockets it has open, and when its loops last worked."""

    def __init__(self) -> None:
        self.draining = False
        self._sockets: set[_Socket] = set()
        self.beats: dict[str, float] = {}  # worker loop -> monotonic time its last step ended

    def drain(self) -> None:
        """Not ready from now on; safe to call from a signal handler."""
        self.draining = True

    @property
    def open_sockets(self) -> int:
        return sum(1 for s in self._sockets if not s.closed)

    def beat(self, name: str) -> None:
        self.beats[name] = time.monotonic()

    def beating(self, name: str, step: Callable[[], Awaitable[int]]) -> Callable[[], Awaitable[int]]:
        """`step`, recording each time it ends without an exception (a loop stuck on a step stops beating)."""
        self.beat(name)

        async def run() -> int:
            done = await step()
            self.beat(name)
            return done

        return run

    async def close_sockets(self, wait: float = 1.0) -> int:
        """Closes every open WebSocket with 1012 and a reconnect hint, then waits up to `wait` seconds for
        the clients to answer the close; returns how many were closed."""
        closing = [s for s in self._sockets if not s.closed]
        for s in closing:
            s.closed = True
            with contextlib.suppress(Exception):  # a socket that died meanwhile needs no close
                await s.send({"type": "websocket.close", "code": SERVICE_RESTART, "reason": reconnect_reason()})
        if closing:
            await asyncio.wait([asyncio.ensure_future(s.gone.wait()) for s in closing], timeout=wait)
        return len(closing)

    @contextlib.contextmanager
    def _tracked(self, sock: _Socket) -> Iterator[None]:
        self._sockets.add(sock)
        metrics.WEBSOCKETS.inc()
        try:
            yield
        finally:
            sock.gone.set()
            self._sockets.discard(sock)
            metrics.WEBSOCKETS.dec()


class DrainMiddleware:
    """Outermost: while draining, HTTP answers carry `Connection: close` (a keep-alive client moves to
    another server); WebSockets are tracked so that `Lifecycle.close_sockets` can close them, after which
    whatever the app still sends on one is dropped (the peer was told to go)."""

    def __init__(self, app: ASGIApp, lifecycle: Lifecycle) -> None:
        self.app = app
        self.lifecycle = lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.app(scope, receive, self._http_send(send))
        elif scope["type"] == "websocket":
            sock = _Socket(send)

            async def ws_send(message: Message) -> None:
                if sock.closed:
                    return
                if message["type"] == "websocket.close":
                    sock.closed = True
                await send(message)

            async def ws_receive() -> Message:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    sock.gone.set()
                return message

            with self.lifecycle._tracked(sock):
                await self.app(scope, ws_receive, ws_send)
        else:
            await self.app(scope, receive, send)

    def _http_send(self, send: Send) -> Send:
        async def http_send(message: Message) -> None:
            if message["type"] == "http.response.start" and self.lifecycle.draining:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        return http_send


# ---------------------------------------------------------------- readiness


async def database_answers() -> None:
    await connections.get("default").execute_query("SELECT 1")


def keys_loaded(keyring: KeyRing) -> Check:
    async def check() -> None:
        keyring.signing_kid(clock.now())  # RuntimeError without an active key

    return check


def not_draining(lifecycle: Lifecycle) -> Check:
    async def check() -> None:
        if lifecycle.draining:
            raise RuntimeError("shutting down")

    return check


def loops_working(lifecycle: Lifecycle, tasks: list[asyncio.Task[None]], stall_seconds: float) -> Check:
    """Every worker loop runs and has finished a step within `stall_seconds`."""

    async def check() -> None:
        dead = sorted(t.get_name() for t in tasks if t.get_name().startswith("loop:") and t.done())
        now = time.monotonic()
        stalled = sorted(n for n, at in lifecycle.beats.items() if now - at > stall_seconds)
        if dead or stalled:
            raise RuntimeError("; ".join([*(f"{n} ended" for n in dead), *(f"{n} stalled" for n in stalled)]))

    return check


def server_checks(bus: InProcessBroker, keyring: KeyRing, lifecycle: Lifecycle) -> dict[str, Check]:
    return {
        "database": database_answers,
        "broker": bus.ping,
        "signingKeys": keys_loaded(keyring),
        "draining": not_draining(lifecycle),
    }


async def readiness(checks: dict[str, Check], each_within: float) -> tuple[bool, dict[str, Any]]:
    """Runs the checks at once, each bounded by `each_within` seconds; (ready, the JSON body naming what is
    not)."""

    async def run(check: Check) -> str:
        try:
            await asyncio.wait_for(check(), each_within)
        except TimeoutError:
            return f"no answer within {each_within:g} s"
        except Exception as err:
            return str(err)[:200] or type(err).__name__
        return "ok"

    results = dict(zip(checks, await asyncio.gather(*(run(c) for c in checks.values())), strict=True))
    failing = [name for name, result in results.items() if result != "ok"]
    body: dict[str, Any] = {"status": "not ready" if failing else "ready", "checks": results}
    if failing:
        body["notReady"] = failing
    return not failing, body


# ---------------------------------------------------------------- systemd notify protocol


def notify(state: str) -> bool:
    """Sends `state` (e.g. "READY=1") to systemd when NOTIFY_SOCKET is set (a Type=notify unit)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # an abstract socket
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError:
        log.warning("could not notify systemd (%s)", state)
        return False
    return True


def watchdog_interval() -> float | None:
    """Half of WatchdogSec= (WATCHDOG_USEC), how often to send WATCHDOG=1; None without a watchdog."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 2_000_000


# ---------------------------------------------------------------- the server


class GracefulServer(uvicorn.Server):
    """uvicorn with a drain before its shutdown, sockets told to reconnect, and exit status 0.

    First SIGTERM or SIGINT: /readyz answers 503 at once and everything else is still served for
    `drain_seconds` (the balancer's health checks notice meanwhile); then uvicorn's own shutdown runs
    after this one closed the listeners and the WebSockets (1012, reconnect hint): in-flight requests
    get `timeout_graceful_shutdown` seconds, then the lifespan stops the workers and the database. A
    second signal ends the drain at once; a third SIGINT forces the exit (uvicorn).
    """

    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle, drain_seconds: float) -> None:
        super().__init__(config)
        self.lifecycle = lifecycle
        self.drain_seconds = drain_seconds
        self.drain_until: float | None = None
        self._watchdog = watchdog_interval()
        self._watchdog_at = 0.0
        self._drain_logged = False

    def handle_exit(self, sig: int, frame: Any) -> None:
        if self.drain_until is None and not self.should_exit:
            self.lifecycle.drain()
            self.drain_until = time.monotonic() + self.drain_seconds
            return
        super().handle_exit(sig, frame)

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # uvicorn re-raises the captured signal once served, so the process would die of it (status
        # 143); the shutdown was orderly, so the process exits 0 instead
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            notify("READY=1")

    async def on_tick(self, counter: int) -> bool:
        now = time.monotonic()
        if self._watchdog is not None and now - self._watchdog_at >= self._watchdog:
            self._watchdog_at = now
            notify("WATCHDOG=1")  # the event loop turns: the process is alive
        if self.drain_until is not None and not self.should_exit:
            if not self._drain_logged:
                self._drain_logged = True
                log.info("draining: not ready, still serving for %.1f s", max(0.0, self.drain_until - now))
            if now >= self.drain_until:
                self.should_exit = True
        return await super().on_tick(counter)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        notify("STOPPING=1")
        self.lifecycle.drain()  # also when uvicorn stops for another reason (limit_max_requests)
        for server in self.servers:
            server.close()  # no new connections: the clients told to reconnect reach another server
        closed = await self.lifecycle.close_sockets()
        log.info("closed %d WebSockets with 1012 (reconnect); finishing in-flight requests", closed)
        await super().shutdown(sockets)


# ---------------------------------------------------------------- the worker's health port


async def serve_probes(host: str, port: int, checks: dict[str, Check], each_within: float) -> asyncio.Server:
    """GET /healthz (the process answers) and GET /readyz (`checks`) over plain HTTP/1.1, for a worker."""

    async def answer(path: str) -> tuple[int, dict[str, Any]]:
        if path == "/healthz":
            return 200, {"status": "ok", "time": clock.now().isoformat()}
        if path == "/readyz":
            ready, body = await readiness(checks, each_within)
            return (200 if ready else 503), body
        return 404, {"status": "not found"}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass  # the headers: nothing in them matters here
            parts = request.decode("latin-1").split()
            path = parts[1].split("?", 1)[0] if len(parts) >= 2 and parts[0] in ("GET", "HEAD") else ""
            status, body = await answer(path)
            data = json.dumps(body).encode()
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            head = (
                f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(data)}\r\n"
                "cache-control: no-store\r\nconnection: close\r\n\r\n"
            )
            writer.write(head.encode() + (b"" if parts[:1] == ["HEAD"] else data))
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
