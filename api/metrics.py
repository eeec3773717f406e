"""Prometheus metrics at `/metrics`, for the operator who watches the service (README: Operations).

Counted as they happen, in the process that served or sent: GraphQL requests by operation and outcome with a
latency histogram, the response cache's hits, misses, evictions and size, open WebSockets, and the channels'
outcomes (notifications/metrics.py). Read from the database
when scraped, so that any one process answers for the whole deployment: the outbox's backlog and lag (how long the
oldest event has waited for its consumers), the chronograph's lag (how late the most overdue timed transition is),
queued pushes and texts, and the database pool in use.

Several server and worker processes share one count through prometheus_client's multiprocess mode: set
PROMETHEUS_MULTIPROC_DIR to an empty folder for all of them (cleared at deploy). Without it each process counts its
own. In production `/metrics` answers only with `METRICS_TOKEN` as a bearer token; it is not found without one.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import REGISTRY, Collector
from starlette.requests import Request
from starlette.responses import Response
from tortoise import connections

from domain.common import chronograph, clock, cpu
from domain.common.models import OutboxEvent
from domain.notifications.models import PushDelivery
from domain.sms.models import SmsMessage
from domain.sms.services import Status

MANIFEST = Path(__file__).resolve().parent.parent / "mobile_contract" / "manifest.json"

REQUESTS = Counter(
    "palmtrade_graphql_requests",
    "GraphQL requests by operation (a name from the mobile contract, else 'other') and outcome: ok, error (a typed "
    "business error in the answer), refused (a request error: validation, authentication, rate limit), internal.",
    ["operation", "outcome"],
)
LATENCY = Histogram(
    "palmtrade_graphql_request_seconds",
    "Time from the request reaching the GraphQL endpoint to its answer, by operation.",
    ["operation"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
# the shared response cache of public persisted queries (api/response_cache.py), counted as it answers
CACHE_HITS = Counter(
    "palmtrade_response_cache_hits",
    "Requests by hash for a public persisted query answered from the response cache, without running the operation.",
)
CACHE_MISSES = Counter(
    "palmtrade_response_cache_misses",
    "Requests by hash for a public persisted query the response cache had no fresh answer for (the operation ran).",
)
CACHE_EVICTIONS = Counter(
    "palmtrade_response_cache_evictions",
    "Answers dropped, least recently used first, to stay within RESPONSE_CACHE_BYTES and RESPONSE_CACHE_ENTRIES "
    "(expired answers are not counted).",
)
CACHE_TOO_LARGE = Counter(
    "palmtrade_response_cache_too_large",
    "Answers not kept for their size (over a sixteenth of RESPONSE_CACHE_BYTES).",
)
CACHE_COALESCED = Counter(
    "palmtrade_response_cache_coalesced",
    "Requests by hash that found no kept answer but one being computed for another caller, and were answered with it.",
)
CACHE_CLEARS = Counter(
    "palmtrade_response_cache_clears",
    "Times the response cache was emptied by an event that may change a shared answer (a published announcement).",
)
CACHE_BYTES = Gauge(
    "palmtrade_response_cache_bytes",
    "Bytes the kept answers take (each answer, its variables and a fixed allowance per entry), against "
    "RESPONSE_CACHE_BYTES per process.",
    multiprocess_mode="livesum",
)
CACHE_ENTRIES = Gauge(
    "palmtrade_response_cache_entries",
    "Answers kept, against RESPONSE_CACHE_ENTRIES per process.",
    multiprocess_mode="livesum",
)
# how late this process's event loop ran a timer (api/services.py starts watch_loop in every server and worker):
# every await of every request waits its turn behind the same queue, so a request with twenty round trips to the
# database is twenty times this late; the figure to read when answers are slow but each statement is fast
LOOP_LAG = Histogram(
    "palmtrade_event_loop_lag_seconds",
    "How late the process's event loop ran a timer due every 0.25 s: what each await of a request waits for its turn.",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LOOP_TICK = 0.25
# sampled at the same ticks: the two queues a request may wait in without the loop being late or the database busy
DB_POOL_IN_USE = Histogram(
    "palmtrade_db_pool_in_use_ratio",
    "The share of this process's PostgreSQL pool (?maxsize=) checked out, sampled every 0.25 s; at 1 a request's "
    "next statement waits for a connection.",
    buckets=(0.25, 0.5, 0.75, 0.99, 1.0),
)
CPU_POOL_WAITING = Histogram(
    "palmtrade_cpu_pool_waiting_calls",
    "Calls waiting for a CPU pool thread (argon2, certificate paths, PDF rendering, bid-file decryption), sampled "
    "every 0.25 s.",
    buckets=(0, 1, 2, 4, 8, 16, 32),
)


def _db_pool_in_use() -> float | None:
    """Checked-out share of the default connection's asyncpg pool; None off PostgreSQL or before it is open."""
    try:
        pool = getattr(connections.get("default"), "_pool", None)
    except Exception:
        return None
    if pool is None or not hasattr(pool, "get_idle_size"):
        return None
    most = pool.get_max_size()
    return (pool.get_size() - pool.get_idle_size()) / most if most else None


async def watch_loop(stop: asyncio.Event, tick: float = LOOP_TICK) -> None:
    """Observes the event loop's lateness into LOOP_LAG every `tick` seconds until `stop` is set (or cancelled), and
    at each tick how full the database pool is and how many calls wait for the CPU pool."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + tick
        await asyncio.sleep(tick)
        LOOP_LAG.observe(max(0.0, loop.time() - due))
        in_use = _db_pool_in_use()
        if in_use is not None:
            DB_POOL_IN_USE.observe(in_use)
        CPU_POOL_WAITING.observe(max(0, cpu.pending() - cpu.size()))


WEBSOCKETS = Gauge(
    "palmtrade_websocket_connections",
    "Open graphql-transport-ws connections (subscriptions: live auctions, notifications).",
    multiprocess_mode="livesum",
)


@cache
def contract_operations() -> frozenset[str]:
    """The operation names app, kiosk and integrator builds send: the only names used as a label (a client's own
    name would make a label value per caller)."""
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return frozenset()
    entries = manifest.get("operations", manifest) if isinstance(manifest, dict) else manifest
    return frozenset(str(e["name"]) for e in entries if isinstance(e, dict) and "name" in e)


def operation_label(name: str | None) -> str:
    return name if name and name in contract_operations() else "other"


def observe(operation: str | None, outcome: str, seconds: float) -> None:
    """One GraphQL request answered."""
    label = operation_label(operation)
    REQUESTS.labels(label, outcome).inc()
    LATENCY.labels(label).observe(seconds)


class _Snapshot(Collector):
    """Gauges read from the database for one scrape."""

    def __init__(self, families: Iterable[GaugeMetricFamily]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[GaugeMetricFamily]:
        return self.families


def _seconds_since(then: datetime | None, now: datetime) -> float:
    return max(0.0, (now - then).total_seconds()) if then is not None else 0.0


async def database_gauges() -> list[GaugeMetricFamily]:
    """The backlog the deployment owes, read once per scrape (each an indexed query)."""
    now = clock.now()
    pending = OutboxEvent.filter(dispatched_at=None)
    oldest = await pending.order_by("id").first().values_list("occurred_at", flat=True)
    outbox = GaugeMetricFamily("palmtrade_outbox_pending_events", "Domain events not yet dispatched.")
    outbox.add_metric([], await pending.count())
    outbox_lag = GaugeMetricFamily(
        "palmtrade_outbox_lag_seconds", "How long the oldest undispatched event has waited (0: none waits)."
    )
    outbox_lag.add_metric([], _seconds_since(oldest, now))  # type: ignore[arg-type]
    lag = GaugeMetricFamily(
        "palmtrade_chronograph_lag_seconds",
        "How late the most overdue time-driven transition is, by transition (deadlines, auction phases, windows).",
        labels=["transition"],
    )
    for transition in chronograph.transitions():
        due = (
            await transition.model.filter(next_check_at__lte=now)
            .order_by("next_check_at")
            .first()
            .values_list("next_check_at", flat=True)
        )
        lag.add_metric([transition.name], _seconds_since(due, now))  # type: ignore[arg-type]
    pushes = GaugeMetricFamily("palmtrade_push_pending", "Pushes waiting to be sent (due or in quiet hours).")
    pushes.add_metric([], await PushDelivery.filter(status="pending").count())
    texts = GaugeMetricFamily("palmtrade_sms_queued", "Texts queued and not yet accepted by a provider.")
    texts.add_metric([], await SmsMessage.filter(status=Status.QUEUED).count())
    return [outbox, outbox_lag, lag, pushes, texts, *_pool_gauges()]


def _pool_gauges() -> list[GaugeMetricFamily]:
    """The PostgreSQL connection pool of this process (asyncpg); nothing on SQLite, which has one connection."""
    pool: Any = getattr(connections.get("default"), "_pool", None)
    if pool is None or not hasattr(pool, "get_size"):
        return []
    family = GaugeMetricFamily(
        "palmtrade_db_pool_connections", "Database connections of this process's pool.", labels=["state"]
    )
    size, idle = pool.get_size(), pool.get_idle_size()
    family.add_metric(["in_use"], size - idle)
    family.add_metric(["idle"], idle)
    family.add_metric(["max"], pool.get_max_size())
    return [family]


def _counted(directory: str | None) -> bytes:
    if not directory:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
    return generate_latest(registry)


def allowed(request: Request, token: str | None, production: bool) -> bool:
    if not token:
        return not production
    given = request.headers.get("authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


async def render(multiproc_dir: str | None = None) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(await database_gauges()))
    return _counted(multiproc_dir) + generate_latest(registry)


def endpoint(token: str | None, production: bool, multiproc_dir: str | None = None) -> Any:
    async def metrics(request: Request) -> Response:
        if not allowed(request, token, production):
            return Response("Not Found", status_code=404, media_type="text/plain")
        return Response(await render(multiproc_dir), media_type=CONTENT_TYPE_LATEST)

    return metrics
