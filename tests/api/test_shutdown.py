"""Leaving without dropping work: a server and a worker, as deployed, receive SIGTERM mid-work.

The server (`python -m api.manage serve`) has a sign-in in flight, held by a transaction the test keeps
open on the user's row (a genuinely slow request: it waits for the lock), and a WebSocket subscription
open. On SIGTERM it must say not ready at once while it still serves, close the socket with 1012 and a
reconnect hint, answer the sign-in once the row is free, and exit 0 within its grace period. A worker
(`python -m api.manage worker`) that holds an outbox batch (its first consumer waits for the audit chain)
must deliver it exactly once: itself when the batch finishes within the grace period, else the next
worker after the first rolled back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import websockets

from api.lifecycle import RECONNECT_AFTER_MS, SERVICE_RESTART
from api.seed import create_operator
from api.settings import Settings
from domain.accounts.models import User
from domain.audit.models import AuditEntry
from domain.common.models import OutboxEvent
from notifications.broker import CHANNEL
from notifications.keyspace import Keyspace
from tests import factories as f
from tests.support.processes import Process, holding_audit_chain, holding_user_row, until_waiting

SUBSCRIBE = 'subscription { events(types: ["organisation.registered"]) { eventId type } }'


async def _sign_in(http: httpx.AsyncClient, phone: str) -> httpx.Response:
    return await http.post(
        "/graphql", json={"query": f.LOGIN, "variables": {"input": {"phone": phone, "password": f.PASSWORD}}}
    )


async def _subscribed(url: str, token: str) -> Any:
    ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"], open_timeout=10)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "connection_ack"
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return ws


async def _read_until_closed(ws: Any, within: float) -> None:
    """Reads keep-alive pings and events until the socket closes (or `within` seconds pass)."""
    deadline = time.monotonic() + within
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        assert message["type"] in ("ping", "pong", "next"), message


async def _close_of(ws: Any, within: float) -> tuple[int, str]:
    """The close code and reason the server sent."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await _read_until_closed(ws, within)
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_sigterm_drains_answers_the_request_in_flight_and_tells_sockets_to_reconnect(db, tmp_path):
    # given a server with a 1.5 s drain and a 15 s grace, an operator signed in and subscribed over a WebSocket
    phone = f.new_phone()
    await create_operator(phone=phone, name="运营管理员", password=f.PASSWORD)
    user = await User.get(phone=phone)
    server = Process(
        "serve",
        db.url,
        tmp_path,
        RUN_WORKERS="0",
        SHUTDOWN_DRAIN_SECONDS="1.5",
        SHUTDOWN_GRACE_SECONDS="15",
        READINESS_TIMEOUT="0.5",
    ).start()
    try:
        await server.ready()
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            signed_in = (await _sign_in(http, phone)).json()["data"]["authLogin"]
            ws = await _subscribed(
                server.base_url.replace("http", "ws") + "/graphql", signed_in["session"]["accessToken"]
            )

            # and a second sign-in in flight, waiting for the user's row another transaction holds
            async with holding_user_row(user.id) as release:
                slow = asyncio.create_task(_sign_in(http, phone))
                await until_waiting()
                assert not slow.done()

                # when the server receives SIGTERM
                server.send(signal.SIGTERM)

                # then it is not ready at once, naming why, while it still serves
                async with httpx.AsyncClient(base_url=server.base_url, timeout=5) as probe:
                    readyz = await probe.get("/readyz")
                assert readyz.status_code == 503, readyz.text
                assert "draining" in readyz.json()["notReady"], readyz.json()
                assert readyz.headers["connection"] == "close"

                # and after the drain the socket is closed with 1012 and a reconnect hint, the sign-in still waiting
                code, reason = await _close_of(ws, within=10)
                assert code == SERVICE_RESTART, (code, reason)
                hint = json.loads(reason)
                assert hint["reconnect"] is True
                assert RECONNECT_AFTER_MS[0] <= hint["retryAfterMs"] <= RECONNECT_AFTER_MS[1]
                assert not slow.done()
                assert server.alive()
                release.set()

            # and the request in flight is answered in full
            response = await asyncio.wait_for(slow, 15)
            assert response.status_code == 200, response.text
            assert response.json()["data"]["authLogin"]["__typename"] == "SignedIn"

        # and the process exits 0 within its grace period
        assert await server.exit_code(within=15) == 0, server.logs()
        assert "Traceback" not in server.logs(), server.logs()
    finally:
        server.stop()


# ---------------------------------------------------------------- the worker


@contextlib.asynccontextmanager
async def _live_messages(database_url: str) -> AsyncIterator[list[dict[str, Any]]]:
    """Every live message the deployment on `database_url` published to Redis meanwhile (nothing without
    REDIS_URL)."""
    received: list[dict[str, Any]] = []
    url = os.environ.get("REDIS_URL")
    if not url:
        yield received
        return
    # the worker's Keyspace: its settings come from this environment with DATABASE_URL=database_url
    settings = Settings(database_url=database_url, redis_url=url, redis_prefix=os.environ.get("REDIS_PREFIX", ""))
    space = Keyspace(url, settings.redis_namespace)
    try:
        async with space.subscription(CHANNEL) as messages:

            async def listen() -> None:
                async for data in messages:
                    received.append(json.loads(data))

            task = asyncio.create_task(listen())
            try:
                yield received
            finally:
                await asyncio.sleep(0.3)
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
    finally:
        await space.aclose()


async def _delivered_once(event_ids: list[str], live: list[dict[str, Any]]) -> None:
    for event_id in event_ids:
        row = await OutboxEvent.get(event_id=event_id)
        assert row.dispatched_at is not None, event_id
        assert await AuditEntry.filter(event_id=event_id).count() == 1, event_id
    if os.environ.get("REDIS_URL"):
        published = [m["eventId"] for m in live]
        for event_id in await OutboxEvent.filter(event_id__in=event_ids, outcome="success").values_list(
            "event_id", flat=True
        ):
            assert published.count(str(event_id)) == 1, (event_id, live)


async def _pending_events() -> list[str]:
    await create_operator(phone=f.new_phone(), name="运营管理员", password=f.PASSWORD)
    ids = [str(e) for e in await OutboxEvent.filter(dispatched_at=None).values_list("event_id", flat=True)]
    assert ids
    return ids


async def _until_dispatched(event_ids: list[str], worker: Process, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while await OutboxEvent.filter(event_id__in=event_ids, dispatched_at=None).exists():
        assert worker.alive(), worker.logs()
        if time.monotonic() > deadline:
            raise AssertionError(f"not dispatched within {within} s\n{worker.logs()}")
        await asyncio.sleep(0.1)


async def test_a_worker_on_sigterm_finishes_the_batch_in_hand(db, tmp_path):
    # given committed events and a worker whose dispatcher holds them, waiting for the audit chain (PostgreSQL;
    # SQLite fails a transaction that reads and then finds the write lock taken at once, so there the worker
    # just gets SIGTERM while it works)
    events = await _pending_events()
    async with _live_messages(db.url) as live:
        async with holding_audit_chain(db.postgres) as release:
            worker = Process("worker", db.url, tmp_path, SHUTDOWN_GRACE_SECONDS="15").start()
            try:
                await worker.logged("running")
                if db.postgres:
                    await until_waiting()

                # when it receives SIGTERM, and the audit chain is free a moment later
                worker.send(signal.SIGTERM)
                if db.postgres:
                    await asyncio.sleep(0.5)
                    assert worker.alive(), worker.logs()
                release.set()

                # then it exits 0, having delivered the batch in hand itself (PostgreSQL)
                assert await worker.exit_code(within=15) == 0, worker.logs()
            finally:
                worker.stop()
        assert "cancelling" not in worker.logs(), worker.logs()
        if db.postgres:
            assert not await OutboxEvent.filter(event_id__in=events, dispatched_at=None).exists()
        await _next_worker_delivers(events, db.url, tmp_path)

    # and every event was delivered once
    await _delivered_once(events, live)


async def test_a_worker_on_sigterm_delivers_what_was_recorded_while_its_dispatcher_waited(db, tmp_path):
    # given a worker whose dispatcher, finding nothing, waits an hour before it looks again
    async with _live_messages(db.url) as live:
        worker = Process("worker", db.url, tmp_path, DISPATCH_INTERVAL="3600", SHUTDOWN_GRACE_SECONDS="15").start()
        try:
            await worker.logged("running")
            await asyncio.sleep(0.5)  # its first look found nothing (or only what start-up recorded)
            # and events committed meanwhile (a periodic job's, or a server's that has no dispatcher of its own)
            events = await _pending_events()

            # when it receives SIGTERM, the last worker of the deployment stopping for good
            worker.send(signal.SIGTERM)

            # then it exits 0, having delivered them before it left: nothing waits for a worker that may never come
            assert await worker.exit_code(within=20) == 0, worker.logs()
        finally:
            worker.stop()
        assert not await OutboxEvent.filter(event_id__in=events, dispatched_at=None).exists(), worker.logs()

    # once
    await _delivered_once(events, live)


@pytest.mark.skipif(
    not (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
    reason="several workers share an outbox on PostgreSQL; SQLite cannot keep a batch waiting (see above)",
)
async def test_a_worker_past_its_grace_rolls_the_batch_back_for_the_next_worker(db, tmp_path):
    # given committed events and a worker with a 1 s grace whose dispatcher holds them
    events = await _pending_events()
    async with _live_messages(db.url) as live:
        async with holding_audit_chain(db.postgres) as release:
            first = Process("worker", db.url, tmp_path, SHUTDOWN_GRACE_SECONDS="1").start()
            try:
                await first.logged("running")
                await until_waiting()

                # when it receives SIGTERM and the audit chain stays held past the grace period
                first.send(signal.SIGTERM)
                await first.logged("cancelling", within=10)

                # then it gives the batch up and exits 0 while the chain is still held
                assert await first.exit_code(within=10) == 0, first.logs()
                release.set()
            finally:
                first.stop()
        assert await OutboxEvent.filter(event_id__in=events, dispatched_at=None).count() == len(events)

        # and the next worker delivers the events
        await _next_worker_delivers(events, db.url, tmp_path)

    # once
    await _delivered_once(events, live)


async def _next_worker_delivers(events: list[str], database_url: str, tmp_path: Any) -> None:
    """Starts another worker when some events are still undelivered, until they are; it leaves cleanly too."""
    if not await OutboxEvent.filter(event_id__in=events, dispatched_at=None).exists():
        return
    worker = Process("worker", database_url, tmp_path).start()
    try:
        await _until_dispatched(events, worker)
        worker.send(signal.SIGTERM)
        assert await worker.exit_code(within=15) == 0, worker.logs()
    finally:
        worker.stop()
