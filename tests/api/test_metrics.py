"""`/metrics` for the operator: requests by operation and outcome, the outbox's and the chronograph's lag read from
the database, and a token in production."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from starlette.requests import Request

from api import metrics
from tests import factories as f

ME = (
    (Path(__file__).resolve().parents[2] / "mobile_contract" / "operations" / "app" / "Me.graphql")
    .read_text()
    .rstrip("\n")
)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


async def _scrape(api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:  # type: ignore[no-untyped-def]
    response = await api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_requests_are_counted_by_contract_operation_and_outcome(api):
    # given the counts before
    before = await _scrape(api)
    key = ("palmtrade_graphql_requests_total", (("operation", "other"), ("outcome", "ok")))
    refused = ("palmtrade_graphql_requests_total", (("operation", "other"), ("outcome", "refused")))

    # when two queries are answered, one under a name no contract document has, and one is refused
    await api.gql("query { serverTime }")
    await api.gql("query MadeUpByAClient { serverTime }")
    await api.gql("query { nothingHere }", expect_errors=True)
    after = await _scrape(api)

    # then both answered ones count under "other" (a client's own name is no label), and the refusal apart
    assert after[key] - before.get(key, 0) == 2
    assert after[refused] - before.get(refused, 0) == 1
    assert after[("palmtrade_graphql_request_seconds_count", (("operation", "other"),))] >= 3


async def test_a_contract_operation_is_its_own_label(api):
    # when the app's own Me document (the contract's text) is sent by a signed-in user
    token = await f.operator_token(api)
    await api.gql(ME, token=token)
    after = await _scrape(api)

    # then it is counted under its name
    assert "Me" in metrics.contract_operations()
    assert after[("palmtrade_graphql_requests_total", (("operation", "Me"), ("outcome", "ok")))] >= 1


async def test_the_outbox_backlog_and_lag_show_until_the_dispatcher_runs(api, manual_clock):
    # given an event recorded and not yet dispatched (the test server runs no dispatcher), a minute ago
    await f.operator_token(api)
    manual_clock.advance(seconds=60)
    waiting = await _scrape(api)

    # when the dispatcher runs
    await api.dispatch()
    done = await _scrape(api)

    # then the backlog was there and is gone; every registered timed transition reports its lag
    assert waiting[("palmtrade_outbox_pending_events", ())] >= 1
    assert waiting[("palmtrade_outbox_lag_seconds", ())] >= 60
    assert done[("palmtrade_outbox_pending_events", ())] == 0
    assert done[("palmtrade_outbox_lag_seconds", ())] == 0
    transitions = {dict(labels)["transition"] for name, labels in done if name == "palmtrade_chronograph_lag_seconds"}
    assert len(transitions) >= 5
    assert ("palmtrade_sms_queued", ()) in done
    assert ("palmtrade_push_pending", ()) in done


def _request(authorization: str | None) -> Request:
    headers = [(b"authorization", authorization.encode())] if authorization else []
    return Request({"type": "http", "method": "GET", "path": "/metrics", "headers": headers})


def test_production_shows_metrics_only_to_the_token():
    # then without a token production hides them, development shows them; with one only its bearer sees them
    assert not metrics.allowed(_request(None), None, production=True)
    assert metrics.allowed(_request(None), None, production=False)
    assert not metrics.allowed(_request("Bearer wrong"), "s3cret-token", production=True)
    assert not metrics.allowed(_request(None), "s3cret-token", production=False)
    assert metrics.allowed(_request("Bearer s3cret-token"), "s3cret-token", production=True)


def test_metric_names_follow_prometheus_conventions():
    # then every family of ours is prefixed and snake_case
    text = metrics.generate_latest(metrics.REGISTRY).decode()
    names = {m.group(1) for m in re.finditer(r"^# TYPE (palmtrade_\w+)", text, re.M)}
    assert all(re.fullmatch(r"palmtrade_[a-z0-9_]+", n) for n in names)
    wanted = ("palmtrade_graphql_requests", "palmtrade_graphql_request_seconds", "palmtrade_websocket_connections")
    assert all(any(n.startswith(w) for n in names) for w in wanted), names


async def test_the_event_loop_lag_counts_a_blocked_loop():
    # given the loop watcher at a short tick, and the lag histogram's count of lags over 0.1 s before
    def over_100ms() -> float:
        text = metrics.generate_latest(metrics.REGISTRY).decode()
        return _samples(text).get(("palmtrade_event_loop_lag_seconds_count", ()), 0.0) - _samples(text).get(
            ("palmtrade_event_loop_lag_seconds_bucket", (("le", "0.1"),)), 0.0
        )

    before = over_100ms()
    stop = asyncio.Event()
    watcher = asyncio.create_task(metrics.watch_loop(stop, tick=0.02))
    await asyncio.sleep(0.05)

    # when something holds the loop for 0.3 s (a synchronous call on it)
    time.sleep(0.3)  # noqa: ASYNC251 - the point: the loop held
    await asyncio.sleep(0.05)
    stop.set()
    await watcher

    # then one tick came at least 0.1 s late
    assert over_100ms() - before >= 1


async def test_the_loop_watcher_samples_the_database_pool_and_the_cpu_pools_queue(db):
    # given the counts of both samples before
    def count(name: str) -> float:
        return _samples(metrics.generate_latest(metrics.REGISTRY).decode()).get((f"{name}_count", ()), 0.0)

    cpu_before, db_before = count("palmtrade_cpu_pool_waiting_calls"), count("palmtrade_db_pool_in_use_ratio")

    # when the watcher runs a few ticks
    stop = asyncio.Event()
    watcher = asyncio.create_task(metrics.watch_loop(stop, tick=0.02))
    await asyncio.sleep(0.15)
    stop.set()
    await watcher

    # then the CPU pool's queue was sampled at each tick, and the database pool's use on PostgreSQL (SQLite has none)
    ticks = count("palmtrade_cpu_pool_waiting_calls") - cpu_before
    assert ticks >= 3
    assert count("palmtrade_db_pool_in_use_ratio") - db_before == (ticks if db.url.startswith("postgres") else 0)
