"""Two server processes on PostgreSQL + Redis: a subscriber on one sees a change made on the other."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from domain.audit.models import AuditEntry
from domain.common.models import OutboxEvent
from tests import factories as f
from tests.conftest import ROOT, SERVER_START, free_port
from tests.scenarios.test_live_events import SUBSCRIBE, next_message, ws_connect

pytestmark = pytest.mark.postgres_redis

needs_services = pytest.mark.skipif(
    not (os.environ.get("REDIS_URL") and (os.environ.get("DATABASE_URL") or "").startswith("postgres")),
    reason="needs DATABASE_URL on PostgreSQL and REDIS_URL (the second pass of .ci/run sets both)",
)


def _spawn(port: int, database_url: str, tmp: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "PORT": str(port),
        "SEED_DEMO": "0",
        "RUN_WORKERS": "1",
        "SECRET_KEY": "two-process-test-secret-0123456789abcdef",
        "AUDIT_EXPORT_PATH": f"{tmp}/heads-{port}.jsonl",
        "LOG_LEVEL": "warning",
    }
    return subprocess.Popen([sys.executable, "-m", "api.manage", "serve"], cwd=ROOT, env=env)


@pytest.fixture
def two_servers(db, tmp_path) -> Iterator[tuple[str, str]]:
    ports = [free_port(), free_port()]
    procs = [_spawn(p, db.url, str(tmp_path)) for p in ports]
    try:
        yield f"127.0.0.1:{ports[0]}", f"127.0.0.1:{ports[1]}"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


async def _outbox_drained() -> None:
    for _ in range(100):
        if await OutboxEvent.filter(dispatched_at=None).count() == 0:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the servers' dispatchers did not drain the outbox")


async def _wait_healthy(client: httpx.AsyncClient, host: str, within: float = SERVER_START) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if (await client.get(f"http://{host}/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"{host} did not come up")


@needs_services
async def test_subscriber_on_one_process_sees_a_mutation_on_the_other(two_servers):
    a, b = two_servers
    async with httpx.AsyncClient(timeout=30) as http:
        await _wait_healthy(http, a)
        await _wait_healthy(http, b)

        # given an operator signed in on B and subscribed on A
        phone = f.new_phone()
        await f.create_operator(phone=phone, name="运营管理员", password=f.PASSWORD)
        login = await http.post(
            f"http://{b}/graphql",
            json={"query": f.LOGIN, "variables": {"input": {"phone": phone, "password": f.PASSWORD}}},
        )
        token = login.json()["data"]["authLogin"]["session"]["accessToken"]
        await _outbox_drained()  # the operator's own registration is old news before subscribing
        await asyncio.sleep(0.3)
        ws = await ws_connect(f"ws://{a}/graphql", {"authorization": f"Bearer {token}"})
        try:
            assert (await next_message(ws))["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
            await asyncio.sleep(0.5)

            # when a contractor registers through B
            form = f.registration()
            body = await http.post(f"http://{b}/graphql", json={"query": f.REGISTER, "variables": {"input": form}})
            assert body.json()["data"]["organisationRegister"]["__typename"] == "OrganisationRegistered"

            # then A's subscriber receives it, once, although both processes run a dispatcher
            message = await next_message(ws, within=10)
            assert message["type"] == "next", message
            assert message["payload"]["data"]["events"]["payload"]["credit_code"] == form["creditCode"]
            with pytest.raises(TimeoutError):
                await next_message(ws, within=1.0)
        finally:
            await ws.close()

    # and every event was audited exactly once
    events = await OutboxEvent.all().count()
    await _outbox_drained()
    assert await AuditEntry.all().count() == events
    assert len(set(await AuditEntry.all().values_list("event_id", flat=True))) == events
