"""The bidding day's load library (tests/support/load.py) against tiny local servers, without the cluster.

A phone whose server breaks the connection sends the same request to the next server; a 429 is waited out for
its `retry-after` on the same server; a 5xx is a server error and goes to the next server; the steady-state p99
leaves out the start-up burst and every fault's window; the generator's event-loop lag and CPU are reported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn

from tests.support.load import OPERATIONS, Fault, Metrics, Phone, Pools, free_port
from tests.support.serving import read_body

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ANSWER = {"data": {"announcements": {"edges": []}}}


class Server:
    """An ASGI app answering `POST /graphql` with `statuses` in turn (then 200 and ANSWER); what it was sent."""

    def __init__(self, *statuses: tuple[int, dict[str, str]]) -> None:
        self.statuses = list(statuses)
        self.received: list[tuple[float, dict[str, Any], dict[str, str]]] = []

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.received.append((time.monotonic(), json.loads(body), headers))
        status, extra = self.statuses.pop(0) if self.statuses else (200, {})
        answer = ANSWER if status == 200 else {"errors": [{"message": "no", "extensions": {"code": "RATE_LIMITED"}}]}
        raw = json.dumps(answer).encode()
        start = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in extra.items())]
        await send({"type": "http.response.start", "status": status, "headers": start})
        await send({"type": "http.response.body", "body": raw if status < 500 else b"Internal Server Error"})


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    task = asyncio.create_task(uv.serve())
    for _ in range(200):
        if uv.started:
            break
        await asyncio.sleep(0.02)
    assert uv.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        await asyncio.wait_for(task, timeout=10)


@contextlib.asynccontextmanager
async def breaking() -> AsyncIterator[str]:
    """A server that reads the request and closes the connection without a word: a broken connection."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1)
        writer.close()

    listener = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        listener.close()
        await listener.wait_closed()


async def test_a_broken_connection_is_sent_again_to_the_next_server():
    answering = Server()
    metrics = Metrics()
    async with breaking() as broken, serving(answering) as good, Pools(30) as pools:
        assert len(pools) == 2  # one session per 25 phones
        phone = Phone(pools[7], [broken, good], metrics, token="t0k", seed=1)
        phone.server = 0
        data = await phone.call("AnnouncementList", {"first": 20})

    assert data == ANSWER["data"]
    assert metrics.resent == 1
    transport = {o: n for o, n in metrics.outcomes.items() if o.startswith("transport_")}
    assert sum(transport.values()) == 1, metrics.outcomes
    assert metrics.by_operation["AnnouncementList"]["ok"] == 1
    assert len(metrics.latency["AnnouncementList"]) == len(metrics.started["AnnouncementList"]) == 2
    # the same request, by the operation's persisted hash, with the phone's token
    [(_, body, headers)] = answering.received
    assert body["extensions"]["persistedQuery"]["sha256Hash"] == OPERATIONS["AnnouncementList"].sha256
    assert body["variables"] == {"first": 20}
    assert headers["authorization"] == "Bearer t0k"
    assert phone.server == 1


async def test_429_is_waited_out_for_its_retry_after_on_the_same_server_and_a_5xx_goes_to_the_next():
    limited = Server((429, {"retry-after": "1"}))
    failing = Server((503, {}))
    metrics = Metrics()
    async with serving(limited) as first, serving(failing) as second, Pools(1) as pools:
        phone = Phone(pools[0], [first, second], metrics, seed=1)
        phone.server = 0
        assert await phone.call("AnnouncementList", label="home") == ANSWER["data"]
        assert [t for t, _, _ in failing.received] == []
        phone.server = 1
        assert await phone.call("AnnouncementList", label="home") == ANSWER["data"]

    # the 429 waited at least its retry-after (a lower bound: asyncio may wake a clock tick early), same server
    (asked, _, _), (again, _, _) = limited.received[:2]
    assert again - asked >= 0.9
    assert metrics.outcomes["429_RATE_LIMITED"] == 1
    # the 503: a server error, the request sent again to the next server (the first one), answered there
    assert len(failing.received) == 1
    assert len(limited.received) == 3
    assert metrics.outcomes["http_503"] == 1
    assert len(metrics.server_errors) == 1
    assert "HTTP 503" in metrics.server_errors[0]
    assert metrics.resent == 2
    assert metrics.by_operation["home"]["ok"] == 2


def test_the_steady_p99_leaves_out_the_start_up_burst_and_every_fault_window():
    metrics = Metrics(began=1000.0, steady_after=30.0, fault_settle=15.0)
    fault = Fault(at=100.0, what="kill -9 server0", took=5.0, started=1100.0)  # its window: 1100 to 1120
    # the start-up burst: slow, before the cut at 1030
    for i in range(20):
        metrics.record("op", 2.0, "ok", started=1000.0 + i)
    # steady: 100 ms, before and after the fault
    for i in range(50):
        metrics.record("op", 0.1, "ok", started=1031.0 + i)
        metrics.record("op", 0.1, "ok", started=1121.0 + i)
    # inside the window, and begun just before it but still waiting when it began
    for i in range(10):
        metrics.record("op", 5.0, "transport_ServerDisconnectedError", started=1101.0 + i)
    metrics.record("op", 4.0, "ok", started=1097.0)
    # two steady samples a little slower: the steady p99
    metrics.record("op", 0.2, "ok", started=1200.0)
    metrics.record("op", 0.2, "ok", started=1201.0)

    figures = dict(line.split(": ", 1) for line in metrics.report(elapsed=300.0, faults=[fault]))

    assert figures["op_p99_steady"] == "200.0 ms"
    assert figures["op_count_steady"] == "102 count"
    assert figures["op_count"] == "133 count"
    assert figures["op_p99"] == "5000.0 ms"  # the whole run's, as before
    assert figures["op_p50"] == "100.0 ms"
    assert figures["steady_after"] == "30 s"
    # without the faults only the cut applies
    assert len(metrics.steady("op")) == 113
    # no begin(): no generator figures
    assert not any(name.startswith("loadgen_") for name in figures)


async def test_the_generator_reports_its_event_loop_lag_and_cpu():
    metrics = Metrics()
    metrics.begin()
    await asyncio.sleep(0.12)
    blocked_until = time.monotonic() + 0.3
    while time.monotonic() < blocked_until:  # the loop held up 300 ms, as a busy generator holds it
        pass
    await asyncio.sleep(0.12)
    metrics.end()
    samples = len(metrics.lag)
    await asyncio.sleep(0.1)
    assert len(metrics.lag) == samples  # end() stopped the monitor

    figures = dict(line.split(": ", 1) for line in metrics.report(elapsed=1.0))

    assert float(figures["loadgen_loop_lag_max"].removesuffix(" ms")) >= 250
    assert float(figures["loadgen_loop_lag_p50"].removesuffix(" ms")) < float(
        figures["loadgen_loop_lag_max"].removesuffix(" ms")
    )
    assert "loadgen_loop_lag_p99" in figures
    assert int(figures["loadgen_loop_lag_samples"].removesuffix(" count")) >= 3
    assert float(figures["loadgen_cpu"].removesuffix(" s")) > 0
    assert figures["loadgen_cpu_cores"].endswith(" cores")
