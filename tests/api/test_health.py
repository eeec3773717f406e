"""Liveness and readiness: /healthz says the process answers; /readyz says whether a balancer may send it work.

Ready means the database answers a trivial query, the broker answers a ping, the signing keys are loaded
and the process is not draining; otherwise 503 names what is not, each check bounded by
READINESS_TIMEOUT so that a probe never hangs. Workers answer the same on WORKER_HEALTH_PORT.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from api.app import create_app
from api.services import Services, start, stop
from domain.accounts import adapters
from domain.publication import search
from tests.conftest import free_port
from tests.support.processes import Process


class Relay:
    """A TCP relay to a server (PostgreSQL, Redis) that the test can cut, as a network partition would:
    open connections go silent and new ones are accepted but never answered."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.cut = False
        self._server: asyncio.Server | None = None
        self._open: set[asyncio.StreamWriter] = set()

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        self._drop()

    def partition(self) -> None:
        self.cut = True
        self._drop()

    def heal(self) -> None:
        self.cut = False

    def _drop(self) -> None:
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        if self.cut:
            await reader.read()  # accepted, never answered, until the client gives up
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._open.add(up_writer)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await src.read(65536):
                    if self.cut:
                        return
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def _readyz(url: str) -> tuple[int, dict[str, Any], float]:
    began = time.monotonic()
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.get(url)
    return response.status_code, response.json(), time.monotonic() - began


async def _until_status(url: str, status: int, within: float = 20) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while True:
        code, body, _ = await _readyz(url)
        if code == status:
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/readyz still {code} {body}")
        await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def _own_app(services_of: Services, **changes: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Services]]:
    """Another app on the test database (its own broker, key ring and lifecycle), served in-process."""
    app = create_app(replace(services_of.settings, **changes))
    services: Services = app.state.services
    await start(services, with_workers=False)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://palmtrade.test", timeout=10) as http:
            yield http, services
    finally:
        await stop(services)
        # start() pointed the accounts services at this app's key ring: give them back
        adapters.configure(services_of.keyring, adapters.deps.sms, services_of.settings.secret_key)


async def test_a_serving_process_is_alive_and_ready(api):
    # when a balancer and an orchestrator ask
    health = await api.http.get("/healthz")
    ready = await api.http.get("/readyz")

    # then the process answers and is ready, every check named
    assert health.status_code == 200
    assert ready.status_code == 200, ready.text
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "signingKeys": "ok", "draining": "ok"},
    }
    assert ready.headers["cache-control"] == "no-store"


async def test_a_process_loads_the_search_dictionary_before_it_serves(api):
    # given a process whose jieba dictionary is not loaded (the first search would load it on the event loop)
    search._tokenizer.cache_clear()

    # when another app starts (as `serve` and `worker` do before they take requests)
    async with _own_app(api.services):
        # then the dictionary is in memory already
        assert search._tokenizer.cache_info().currsize == 1


async def test_a_draining_process_is_not_ready_but_still_serves(api):
    async with _own_app(api.services) as (http, services):
        # given a process told to leave
        services.lifecycle.drain()

        # when the balancer asks, and a client sends a query
        ready = await http.get("/readyz")
        answer = await http.post("/graphql", json={"query": "{ serverTime }"})

        # then it is not ready, naming why, while it still answers, asking keep-alive clients to go
        assert ready.status_code == 503
        assert ready.json()["notReady"] == ["draining"]
        assert ready.json()["checks"]["database"] == "ok"
        assert answer.status_code == 200, answer.text
        assert answer.headers["connection"] == "close"


async def test_probes_do_not_wait_for_the_key_ring(api):
    async with _own_app(api.services) as (http, services):
        # given a process whose key ring can no longer be re-read (the database went away a minute ago)
        async def unreachable(seconds: float) -> None:
            raise ConnectionRefusedError("database unreachable")

        services.keyring.refresh_if_older_than_seconds = unreachable  # type: ignore[method-assign]

        # when the balancer and the orchestrator ask
        health = await http.get("/healthz")
        ready = await http.get("/readyz")

        # then the probes answer from what this process holds, without authenticating anyone
        assert health.status_code == 200, health.text
        assert ready.status_code == 200, ready.text


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="the broker is in-process without REDIS_URL")
async def test_a_process_cut_off_from_redis_is_not_ready_and_answers_at_once(api):
    redis_url = urlsplit(os.environ["REDIS_URL"])
    async with Relay(redis_url.hostname or "127.0.0.1", redis_url.port or 6379) as relay:
        via_relay = urlunsplit((redis_url.scheme, f"127.0.0.1:{relay.port}", redis_url.path, "", ""))
        async with _own_app(api.services, redis_url=via_relay, readiness_timeout=0.5) as (http, _):
            assert (await http.get("/readyz")).status_code == 200

            # when Redis becomes unreachable
            relay.partition()
            began = time.monotonic()
            ready = await http.get("/readyz")

            # then the process is not ready because of the broker, and says so within the timeout
            assert ready.status_code == 503, ready.text
            assert ready.json()["notReady"] == ["broker"], ready.json()
            assert time.monotonic() - began < 2
            relay.heal()


@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
    reason="an SQLite file is opened in-process: there is no connection to lose",
)
async def test_a_server_cut_off_from_the_database_is_not_ready_until_it_is_back(db, tmp_path):
    # given a server whose database connections go through a relay
    url = urlsplit(db.url)
    async with Relay(url.hostname or "127.0.0.1", url.port or 5432) as relay:
        netloc = f"{url.username}@127.0.0.1:{relay.port}" if url.username else f"127.0.0.1:{relay.port}"
        through_relay = urlunsplit((url.scheme, netloc, url.path, url.query, ""))
        server = Process("serve", through_relay, tmp_path, RUN_WORKERS="0", READINESS_TIMEOUT="1").start()
        try:
            await server.ready()
            readyz = f"{server.base_url}/readyz"

            # when the database becomes unreachable
            relay.partition()
            code, body, seconds = await _readyz(readyz)

            # then the server is not ready because of the database, and answers within the timeout
            assert code == 503, body
            assert body["notReady"] == ["database"], body
            assert seconds < 3, seconds
            async with httpx.AsyncClient(timeout=5) as http:
                assert (await http.get(f"{server.base_url}/healthz")).status_code == 200

            # and ready again once the database is back
            relay.heal()
            await _until_status(readyz, 200)
        finally:
            server.stop()


async def test_a_worker_answers_its_probes_and_leaves_on_sigterm(db, tmp_path):
    # given a worker with a health port
    health_port = free_port()
    worker = Process("worker", db.url, tmp_path, WORKER_HEALTH_PORT=str(health_port)).start()
    try:
        await worker.logged("running")
        base = f"http://127.0.0.1:{health_port}"

        # when an orchestrator asks
        async with httpx.AsyncClient(timeout=5) as http:
            health = await http.get(f"{base}/healthz")
            ready = await http.get(f"{base}/readyz")

        # then it is alive and ready, its loops included
        assert health.status_code == 200
        assert ready.status_code == 200, ready.text
        assert ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "signingKeys": "ok",
            "draining": "ok",
            "loops": "ok",
        }

        # and on SIGTERM it stops answering and exits 0
        worker.send(signal.SIGTERM)
        assert await worker.exit_code(within=15) == 0, worker.logs()
        async with httpx.AsyncClient(timeout=2) as http:
            with pytest.raises(httpx.TransportError):
                await http.get(f"{base}/healthz")
    finally:
        worker.stop()


@pytest.mark.parametrize("command", ["serve", "worker"])
async def test_a_process_speaks_systemds_notify_protocol(db, tmp_path, command):
    # given a process started as a Type=notify unit with a watchdog would be
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    env = {"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "400000", "RUN_WORKERS": "0"}
    process = Process(command, db.url, tmp_path, **env).start()
    received: list[str] = []

    async def until(state: str, within: float = 30) -> None:
        deadline = time.monotonic() + within
        loop = asyncio.get_running_loop()
        while state not in received:
            assert time.monotonic() < deadline, (state, received, process.logs())
            with contextlib.suppress(TimeoutError):
                received.append((await asyncio.wait_for(loop.sock_recv(sock, 256), 0.5)).decode())

    try:
        # when it has started, runs a while and is stopped
        await until("READY=1")
        await until("WATCHDOG=1", within=5)
        process.send(signal.SIGTERM)
        await until("STOPPING=1", within=10)

        # then systemd heard each in turn, and the process exits 0
        assert received.index("READY=1") < received.index("WATCHDOG=1") < received.index("STOPPING=1")
        assert await process.exit_code(within=15) == 0, process.logs()
    finally:
        process.stop()
        sock.close()
